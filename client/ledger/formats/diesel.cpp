// diesel's migrations folder (diesel_migrations' FileBasedMigrations): one folder per migration,
// `<version>_<name>/up.sql`, optional `down.sql` and `metadata.toml` (run_in_transaction). diesel's version
// is what stands before the folder name's first '_', with every '-' removed; it orders migrations by that
// version compared as text, and stores it in __diesel_schema_migrations.version (the tool_id).
#include "client/ledger/formats/folder_files.hpp"
#include "client/ledger/formats/formats.hpp"
#include "client/ledger/formats/support.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <system_error>

namespace pgmig::client::formats {

namespace {

namespace fs = std::filesystem;

bool detect(const fs::path& dir) { return has_subfolder_holding(dir, "up.sql"); }

// metadata.toml: diesel reads `run_in_transaction` with serde's field default, so a file that exists but
// does not set it means false (no transaction), as diesel runs it; without the file it is true.
bool run_in_transaction(const fs::path& file) {
    const std::string text = read_checked(file);
    toml::table table;
    try {
        table = toml::parse(text, file.string());
    } catch (const toml::parse_error& e) {
        refuse(file, static_cast<int>(e.source().begin.line), "not valid TOML: " + std::string(e.description()),
               "fix it (diesel ignores a metadata.toml it cannot read and runs the migration in a transaction: "
               "pgmig refuses to guess)");
    }
    const toml::node* node = table.get("run_in_transaction");
    if (node == nullptr) return false;
    const auto value = node->value<bool>();
    if (!node->is_boolean() || !value) {
        refuse(file, static_cast<int>(node->source().begin.line), "run_in_transaction is not true or false",
               "write run_in_transaction = false (or true)");
    }
    return *value;
}

// pgmig's version of a folder: diesel's own (the digits before the first '_', '-' removed) orders as text, in
// which 20251229110242 0000 (diesel 2.2's YYYY-MM-DD-HHMMSS-NNNN names) sorts before 20260120162913 although it
// is the longer number. The date and time groups are therefore joined into one number and each further
// '-'-separated group becomes a group of its own: 20251229110242.0000, which pgmig orders as diesel does.
// "" when a group is not digits.
std::string pgmig_version(std::string_view folder_name) {
    const std::string_view head = folder_name.substr(0, folder_name.find('_'));
    std::string version;
    std::size_t group = 0;
    std::size_t pos = 0;
    while (pos <= head.size()) {
        std::size_t dash = head.find('-', pos);
        if (dash == std::string_view::npos) dash = head.size();
        const std::string_view digits = head.substr(pos, dash - pos);
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return {};
        }
        if (group >= 4) version.push_back('.');
        version.append(digits);
        ++group;
        pos = dash + 1;
    }
    return version;
}

std::vector<MigrationFile> load(const fs::path& dir) {
    std::vector<MigrationFile> out;
    for (const fs::path& folder : folder_entries(dir, true)) {
        const std::string folder_name = folder.filename().string();
        const fs::path up = folder / "up.sql";
        if (!is_file(up)) {
            refuse(folder, 0, "a migration folder without up.sql",
                   "diesel refuses it too (every folder here is a migration): add its up.sql, or move the folder "
                   "out of the migrations folder");
        }
        MigrationFile m;
        m.tool_id = version_before_underscore(folder_name, "-");  // as __diesel_schema_migrations.version holds it
        m.version = pgmig_version(folder_name);
        if (m.tool_id.empty() || m.version.empty()) {
            refuse(folder, 0,
                   "diesel's version of this folder is '" + folder_name.substr(0, folder_name.find('_')) +
                       "', not digits (with '-'), which pgmig needs as its version",
                   "name the folder <version>_<name>, e.g. 2024-01-31-120000_create_users (digit groups "
                   "separated by '-')");
        }
        const std::size_t underscore = folder_name.find('_');
        m.name = underscore == std::string::npos || underscore + 1 == folder_name.size()
                     ? folder_name
                     : folder_name.substr(underscore + 1);
        m.path = up;
        m.file_name = relative_name(dir, up);
        m.up_sql = read_checked(up);
        const fs::path down = folder / "down.sql";
        if (is_file(down)) {
            m.down_path = down;
            m.down_sql = read_checked(down);
            down_or_noop(m, "diesel");  // diesel reverts a migration whose down.sql runs nothing, as a no-op
        }
        const fs::path metadata = folder / "metadata.toml";
        if (is_file(metadata) && !run_in_transaction(metadata)) m.options["transactional"] = false;
        out.push_back(std::move(m));
    }
    // diesel's order: its versions compared as text.
    std::stable_sort(out.begin(), out.end(),
                     [](const MigrationFile& a, const MigrationFile& b) { return a.tool_id < b.tool_id; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].tool_id == out[i - 1].tool_id) {
            refuse(out[i].path.parent_path(), 0,
                   "diesel's version " + out[i].tool_id + " is also that of " + out[i - 1].file_name,
                   "diesel keeps only one of them: give one folder another version");
        }
    }
    require_tool_order(out, "diesel", "diesel compares versions as text");
    return out;
}

}  // namespace

FolderReader diesel_reader() { return {FolderFormat::diesel, detect, load}; }

}  // namespace pgmig::client::formats
