// Drizzle Kit's migrations folder: `NNNN_name.sql` files (statements separated by `--> statement-breakpoint`
// lines) applied in the order of meta/_journal.json's entries (idx, when, tag, breakpoints). drizzle-orm's
// migrator records each in drizzle.__drizzle_migrations as hash = the lower-case hex SHA-256 of the file's
// text with CRLF turned into LF (the tool_id) and created_at = the entry's `when` (tool_info "created_at").
#include "client/ledger/formats/folder_files.hpp"
#include "client/ledger/formats/formats.hpp"
#include "client/ledger/formats/sql_scan.hpp"

#include "common/checksum.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <system_error>

namespace pgmig::client::formats {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBreakpoint = "--> statement-breakpoint";

bool detect(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "meta" / "_journal.json", ec);
}

std::string crlf_to_lf(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out.push_back(text[i]);
    }
    return out;
}

// drizzle-orm cuts the file at every breakpoint marker, wherever it stands: one inside a quoted string,
// a dollar quote or a block comment would cut a statement in two, so it is refused.
void check_breakpoints(const fs::path& file, const std::string& text) {
    const ScanResult scan = scan_sql(text);
    for (std::size_t at = text.find(kBreakpoint); at != std::string::npos; at = text.find(kBreakpoint, at + 1)) {
        if (scan.inside_opaque(at)) {
            refuse(file, line_at(text, at),
                   "a --> statement-breakpoint inside a quoted string, dollar quote or comment: drizzle-orm would cut "
                   "the statement there",
                   "move the marker out of the string (drizzle-orm could not run this file either)");
        }
    }
}

const nlohmann::json& member(const fs::path& journal, const nlohmann::json& entry, std::size_t index, const char* key,
                             bool (nlohmann::json::*is_type)() const noexcept, const char* type) {
    if (!entry.contains(key) || !(entry[key].*is_type)()) {
        refuse(journal, 0, "entry " + std::to_string(index) + " of \"entries\" has no " + type + " \"" + key + "\"",
               "drizzle-kit writes idx, when, tag and breakpoints in every entry: restore the journal");
    }
    return entry[key];
}

std::vector<MigrationFile> load(const fs::path& dir) {
    const fs::path journal_path = dir / "meta" / "_journal.json";
    const std::string journal_text = read_checked(journal_path);
    nlohmann::json journal;
    try {
        journal = nlohmann::json::parse(journal_text);
    } catch (const nlohmann::json::parse_error& e) {
        refuse(journal_path, line_at(journal_text, e.byte == 0 ? 0 : e.byte - 1), "not valid JSON",
               "restore the journal drizzle-kit wrote");
    }
    if (!journal.is_object() || !journal.contains("entries") || !journal["entries"].is_array()) {
        refuse(journal_path, 0, "no \"entries\" array", "restore the journal drizzle-kit wrote");
    }
    if (journal.contains("dialect")) {
        const nlohmann::json& dialect = journal["dialect"];
        if (!dialect.is_string() || (dialect != "postgresql" && dialect != "pg")) {
            refuse(journal_path, 0, "the migrations were generated for dialect " + dialect.dump() + ", not postgresql",
                   "pgmig applies PostgreSQL migrations only: point --dir at the PostgreSQL project's folder");
        }
    }

    std::vector<MigrationFile> out;
    std::set<std::string> tags;
    std::size_t index = 0;
    for (const nlohmann::json& entry : journal["entries"]) {
        if (!entry.is_object()) {
            refuse(journal_path, 0, "entry " + std::to_string(index) + " of \"entries\" is not an object",
                   "restore the journal drizzle-kit wrote");
        }
        const auto idx = member(journal_path, entry, index, "idx", &nlohmann::json::is_number_integer, "number");
        const auto when = member(journal_path, entry, index, "when", &nlohmann::json::is_number_integer, "number");
        const std::string tag =
            member(journal_path, entry, index, "tag", &nlohmann::json::is_string, "string").get<std::string>();
        if (tag.empty() || tag.find('/') != std::string::npos || tag.starts_with(".")) {
            refuse(journal_path, 0, "entry " + std::to_string(index) + " has the tag '" + tag + "'",
                   "a tag names a .sql file of the folder: restore the journal drizzle-kit wrote");
        }
        if (!tags.insert(tag).second) {
            refuse(journal_path, 0, "the tag '" + tag + "' appears twice in the journal",
                   "drizzle-orm would run the file twice: remove the second entry");
        }
        const fs::path file = dir / (tag + ".sql");
        std::error_code ec;
        if (!fs::is_regular_file(file, ec)) {
            refuse(journal_path, 0, "the journal's entry " + tag + " has no file " + file.filename().string(),
                   "drizzle-orm refuses it too: restore the file, or remove the entry with drizzle-kit drop");
        }
        MigrationFile m;
        const std::string numbered = version_before_underscore(tag);
        const std::size_t underscore = tag.find('_');
        if (!numbered.empty() && underscore != std::string::npos) {
            m.version = numbered;
            m.name = underscore + 1 == tag.size() ? tag : tag.substr(underscore + 1);
        } else {
            // A tag without a number (drizzle-kit's prefix "none"): the journal's own number.
            m.version = std::to_string(idx.get<long long>());
            m.name = tag;
        }
        m.path = file;
        m.file_name = file.filename().string();
        m.up_sql = read_checked(file);
        check_breakpoints(file, m.up_sql);
        const std::string lf = crlf_to_lf(m.up_sql);
        m.tool_id = common::sha256_hex(lf);
        m.tool_info["created_at"] = when.get<long long>();
        m.tool_info["tag"] = tag;
        if (lf != m.up_sql) m.tool_info["hash_with_crlf"] = common::sha256_hex(m.up_sql);  // older drizzle-orm
        out.push_back(std::move(m));
        ++index;
    }
    // Every .sql file of the folder is in the journal: drizzle-orm never runs one that is not.
    for (const fs::path& file : folder_entries(dir, false)) {
        const std::string name = file.filename().string();
        if (!name.ends_with(".sql") || tags.contains(name.substr(0, name.size() - 4))) continue;
        refuse(file, 0, "a migration file that meta/_journal.json does not list: drizzle-orm never runs it",
               "add it with drizzle-kit (generate --custom) if it should run, else delete it or move it out of the "
               "folder");
    }
    require_tool_order(out, "drizzle-orm", "it follows the journal's entries");
    return out;
}

}  // namespace

FolderReader drizzle_reader() { return {FolderFormat::drizzle, detect, load}; }

}  // namespace pgmig::client::formats
