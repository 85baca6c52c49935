// Unit tests of the error table (common/errors.def): every PM code in use is listed once, and docs/errors.md is
// what the table makes.
#include "common/errors_md.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Row {
    std::string_view name;
    std::string_view code;
};

constexpr Row kSqlstates[] = {
#define PGMIG_SQLSTATE(name, sqlstate, exit_kind, meaning, next_step) {#name, sqlstate},
#include "common/errors.def"
};

struct ExitRow {
    std::string_view kind;
    int code;
};

constexpr ExitRow kExitCodes[] = {
#define PGMIG_EXIT_CODE(kind, exit_code, summary, meaning) {#kind, exit_code},
#include "common/errors.def"
};

const fs::path kSource = PGMIG_SOURCE_DIR;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool code_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

// Every "PMnnn" of `text` that stands as a word of its own, with its line number.
std::vector<std::pair<std::string, int>> pm_codes(std::string_view text) {
    std::vector<std::pair<std::string, int>> found;
    int line = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') ++line;
        if (text.compare(i, 2, "PM") != 0 || i + 5 > text.size()) continue;
        if (i > 0 && code_char(text[i - 1])) continue;
        bool digits = true;
        for (std::size_t k = i + 2; k < i + 5; ++k) digits = digits && text[k] >= '0' && text[k] <= '9';
        if (!digits || (i + 5 < text.size() && code_char(text[i + 5]))) continue;
        found.emplace_back(std::string(text.substr(i, 5)), line);
    }
    return found;
}

// The files of the source tree where a PM code may be used: the SQL scripts, the C++ of the extension and the client,
// the tests, the docs and the scripts. Build folders (a CMakeCache.txt, or named build*), .git and npm's
// node_modules are skipped.
std::vector<fs::path> source_files() {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(kSource, fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
        const fs::path& path = it->path();
        const std::string name = path.filename().string();
        if (it->is_directory()) {
            if (name == ".git" || name == "node_modules" || name == ".deps" || name.rfind("build", 0) == 0 ||
                fs::exists(path / "CMakeCache.txt")) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (it->is_regular_file() && it->file_size() < 4 * 1024 * 1024) files.push_back(path);
    }
    return files;
}

}  // namespace

TEST(ErrorsDef, EveryPmCodeInUseIsListed) {
    std::set<std::string_view> listed;
    for (const auto& row : kSqlstates) listed.insert(row.code);

    std::set<std::string> scanned;
    std::map<std::string, int> uses;  // code -> times seen
    std::string missing;
    for (const auto& path : source_files()) {
        const std::string relative = fs::relative(path, kSource).generic_string();
        scanned.insert(relative);
        for (const auto& [code, line] : pm_codes(read_file(path))) {
            ++uses[code];
            if (!listed.count(code)) missing += "\n  " + relative + ":" + std::to_string(line) + ": " + code;
        }
    }
    EXPECT_TRUE(missing.empty()) << "PM codes used but not listed in common/errors.def (add a PGMIG_SQLSTATE row for "
                                    "each, or fix the code):"
                                 << missing;

    // The scan must have seen what it is for: the SQL scripts (0.1.0, this release's sources by feature, the update
    // script's source) and the C++ that compares the server's SQLSTATEs.
    for (const char* file :
         {"extension/pgmig--0.1.0.sql", "extension/sql/03_ledger_functions.sql", "extension/update/0.1.0--0.2.0.sql",
          "extension/errors.hpp", "client/core/errors.cpp", "client/cli/commands/ledger.cpp"}) {
        EXPECT_TRUE(scanned.count(file)) << file << " was not scanned";
    }
    EXPECT_GT(uses["PM010"], 0);  // client/cli/commands/ledger.cpp compares it
}

TEST(ErrorsDef, ScanFindsCodesAsWords) {
    // A code no row has, put together here so that the scan of this very file does not find it.
    const std::string unlisted = std::string("PM") + "099";
    const auto found =
        pm_codes("RAISE EXCEPTION 'x' USING ERRCODE = '" + unlisted + "';\n-- PM1234 XPM001 PM01 PM002_\n`PM003`");
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0], (std::pair<std::string, int>{unlisted, 1}));
    EXPECT_EQ(found[1], (std::pair<std::string, int>{"PM003", 3}));
}

TEST(ErrorsDef, NoCodeTwice) {
    std::set<std::string_view> codes, names;
    for (const auto& row : kSqlstates) {
        EXPECT_TRUE(codes.insert(row.code).second) << row.code << " is listed twice";
        EXPECT_TRUE(names.insert(row.name).second) << row.name << " is listed twice";
        EXPECT_EQ(pm_codes(row.code).size(), 1u) << row.code << " is not PM and three digits";
    }
    std::set<int> exit_codes;
    int previous = 0;
    for (const auto& row : kExitCodes) {
        EXPECT_TRUE(exit_codes.insert(row.code).second) << "exit code " << row.code << " is listed twice";
        // 0 is success; a shell reports 126 and up itself (not executable, not found, killed by a signal).
        EXPECT_TRUE(row.code > 0 && row.code < 126) << row.kind << ": exit code " << row.code;
        EXPECT_GT(row.code, previous) << row.kind << ": exit codes are listed in ascending order";
        previous = row.code;
    }
    EXPECT_EQ(codes.size(), std::size(kSqlstates));
}

// The SQLSTATEs are a contract with users and their scripts: a row once given out keeps its name and code (the
// extension's sqlstate:: constants are expanded from these rows).
TEST(ErrorsDef, SqlstatesKeepTheirValues) {
    std::map<std::string_view, std::string_view> table;
    for (const auto& row : kSqlstates) table[row.name] = row.code;
    const Row given_out[] = {
        {"invalid_version", "PM001"},
        {"checksum_mismatch", "PM002"},
        {"version_conflict", "PM003"},
        {"isolation_not_supported", "PM004"},
        {"unknown_version", "PM005"},
        {"transaction_control", "PM006"},
        {"invalid_argument", "PM007"},
        {"ledger_tampered", "PM008"},
        {"out_of_order", "PM009"},
        {"needs_no_transaction", "PM010"},
        {"no_down_script", "PM011"},
        {"lock_not_held", "PM012"},
        {"out_of_band_blocked", "PM013"},
        {"audit_immutable", "PM014"},
        {"audit_index_unsupported", "PM015"},
        {"lint_invalid_waiver", "PM016"},
        {"lint_blocked", "PM017"},
        {"lint_out_of_band", "PM018"},
        {"test_applied", "PM019"},
        {"test_no_down_script", "PM020"},
        {"test_non_transactional", "PM021"},
        {"approval_unknown_version", "PM024"},
        {"approval_already_applied", "PM025"},
        {"approval_not_reviewed", "PM026"},
        {"registrant_untrusted", "PM030"},
        {"self_approval", "PM031"},
        {"approval_required", "PM032"},
        {"environment_mismatch", "PM033"},
        {"nontx_not_running", "PM035"},
        {"nontx_statement_not_run", "PM036"},
        {"nontx_script_changed", "PM037"},
        {"audit_write_failed", "PM038"},
        {"audit_seal_blocked", "PM039"},
        {"ledger_wait_stopped", "PM058"},
        {"adopt_refused", "PM062"},
        {"adopt_ledger_differs", "PM063"},
        {"audit_reseal_not_superuser", "PM064"},
        {"audit_reseal_refused", "PM065"},
        {"sql_version_mismatch", "PM066"},
    };
    for (const auto& row : given_out) {
        const auto it = table.find(row.name);
        if (it == table.end()) {
            ADD_FAILURE() << row.name << " (" << row.code << ") is no longer in common/errors.def";
        } else {
            EXPECT_EQ(it->second, row.code) << row.name;
        }
    }
}

TEST(ErrorsDef, DocsAreWhatTheTableMakes) {
    const std::string made = pgmig::common::errors_markdown(read_file(kSource / "docs/errors.md.in"));
    const std::string committed = read_file(kSource / "docs/errors.md");
    if (made == committed) return;
    std::istringstream a(committed), b(made);
    std::string line_a, line_b;
    int line = 0;
    while (true) {
        ++line;
        const bool more_a = static_cast<bool>(std::getline(a, line_a));
        const bool more_b = static_cast<bool>(std::getline(b, line_b));
        if (!more_a && !more_b) break;
        if (more_a != more_b || line_a != line_b) {
            ADD_FAILURE() << "docs/errors.md is not what common/errors.def and docs/errors.md.in make; edit those, "
                             "not docs/errors.md, then run `cmake --build build --target update_errors_md`.\n"
                          << "First difference at line " << line
                          << ":\n  committed: " << (more_a ? line_a : "(end of file)")
                          << "\n  made:      " << (more_b ? line_b : "(end of file)");
            return;
        }
    }
    ADD_FAILURE() << "docs/errors.md differs from what common/errors.def makes (line endings?)";
}

TEST(ErrorsDef, TemplateNeedsBothMarkers) {
    EXPECT_THROW(pgmig::common::errors_markdown("# Errors\n@SQLSTATES@\n"), std::invalid_argument);
    const std::string page = pgmig::common::errors_markdown("a\n@SQLSTATES@\nb\n@EXIT_CODES@\nc\n");
    EXPECT_NE(page.find("| `PM001` | invalid migration version |"), std::string::npos);
    EXPECT_NE(page.find("| 0 | success |\n| 1 | internal error (a bug: please report it) |\n"), std::string::npos);
    EXPECT_EQ(page.find("@SQLSTATES@"), std::string::npos);
    EXPECT_EQ(page.find("@EXIT_CODES@"), std::string::npos);
}
