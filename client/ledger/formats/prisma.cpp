// Prisma Migrate's migrations folder: `migration_lock.toml` (provider) and one folder per migration,
// `<timestamp>_<name>/migration.sql`, applied in folder-name order and recorded in
// _prisma_migrations.migration_name (the folder name: the tool_id) with checksum = the lower-case hex SHA-256
// of migration.sql's bytes (tool_info "checksum"). Prisma has no down scripts; its documented way to keep one
// ("generating down migrations") is a down.sql beside migration.sql, which pgmig takes as the down script.
#include "client/ledger/formats/folder_files.hpp"
#include "client/ledger/formats/formats.hpp"
#include "client/ledger/formats/sql_scan.hpp"

#include "common/checksum.hpp"

#include <system_error>

namespace pgmig::client::formats {

namespace {

namespace fs = std::filesystem;

bool detect(const fs::path& dir) {
    return is_file(dir / "migration_lock.toml") || has_subfolder_holding(dir, "migration.sql");
}

// The provider of migration_lock.toml, read as Prisma reads it: the first line that starts with
// "provider", less "provider = " and the quotes.
void check_provider(const fs::path& lock) {
    const std::string text = read_checked(lock);
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.starts_with("provider")) {
            std::string value = line.starts_with("provider = ") ? line.substr(11) : line;
            while (!value.empty() && value.front() == '"') value.erase(0, 1);
            while (!value.empty() && value.back() == '"') value.pop_back();
            if (value != "postgresql" && value != "postgres") {
                refuse(lock, line_no, "the migrations were written for provider '" + value + "', not postgresql",
                       "pgmig applies PostgreSQL migrations only: point --dir at the PostgreSQL project's folder");
            }
            return;
        }
        pos = nl + 1;
    }
    refuse(lock, 0, "no provider line", "Prisma writes provider = \"postgresql\" there: restore the file");
}

// Prisma sends migration.sql as one query string: several statements run in one implicit transaction, a
// single one on its own. A lone statement that PostgreSQL refuses inside a transaction block (CREATE INDEX
// CONCURRENTLY, ...) therefore runs under Prisma, and pgmig runs it without a transaction too.
bool lone_statement_needs_no_transaction(const std::string& script) {
    const ScanResult scan = scan_sql(script);
    if (scan.statements.size() != 1) return false;
    const std::vector<std::string>& w = scan.statements.front().words;
    const auto word = [&w](std::size_t i) { return i < w.size() ? w[i] : std::string(); };
    for (std::size_t i = 1; i < w.size() && i < 4; ++i) {
        if (w[i] == "CONCURRENTLY" && (w[0] == "CREATE" || w[0] == "DROP" || w[0] == "REINDEX")) return true;
    }
    if (w.empty()) return false;
    if (w[0] == "VACUUM") return true;
    if (w[0] == "ALTER" && word(1) == "SYSTEM") return true;
    return (w[0] == "CREATE" || w[0] == "DROP") && (word(1) == "DATABASE" || word(1) == "TABLESPACE");
}

std::vector<MigrationFile> load(const fs::path& dir) {
    const fs::path lock = dir / "migration_lock.toml";
    if (is_file(lock)) check_provider(lock);
    std::vector<MigrationFile> out;
    for (const fs::path& folder : folder_entries(dir, true)) {  // Prisma's order: folder names, as text
        const std::string folder_name = folder.filename().string();
        const fs::path script = folder / "migration.sql";
        if (!is_file(script)) {
            refuse(folder, 0, "a migration folder without migration.sql",
                   "Prisma refuses it too: add its migration.sql, or move the folder out of the migrations folder");
        }
        MigrationFile m;
        m.version = version_before_underscore(folder_name);
        if (m.version.empty()) {
            refuse(folder, 0, "the folder name does not start with digits and '_', which pgmig needs as its version",
                   "name it <timestamp>_<name> as prisma migrate dev does, e.g. 20240131120000_init");
        }
        const std::size_t underscore = folder_name.find('_');
        m.name = underscore == std::string::npos || underscore + 1 == folder_name.size()
                     ? folder_name
                     : folder_name.substr(underscore + 1);
        m.tool_id = folder_name;
        m.path = script;
        m.file_name = relative_name(dir, script);
        const std::string raw = read_checked(script);
        m.tool_info["checksum"] = common::sha256_hex(raw);
        m.up_sql = strip_transaction_wrapper(script, raw).text;
        const fs::path down = folder / "down.sql";
        if (is_file(down)) {
            m.down_path = down;
            m.down_sql = strip_transaction_wrapper(down, read_checked(down)).text;
        }
        if (lone_statement_needs_no_transaction(m.up_sql)) m.options["transactional"] = false;
        out.push_back(std::move(m));
    }
    require_tool_order(out, "Prisma", "Prisma orders the folders by name, as text");
    return out;
}

}  // namespace

FolderReader prisma_reader() { return {FolderFormat::prisma, detect, load}; }

}  // namespace pgmig::client::formats
