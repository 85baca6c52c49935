// Reads a migrations folder: `<version>_<name>.sql` files with `-- pgmig:up` / `-- pgmig:down` sections.
// Pure C++ (no libpq), so that every rule is unit-tested.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// A `-- pgmig:<key> [value]` line before `-- pgmig:up` (e.g. no-transaction, allow <rule>, refs <issue>).
// Parsed and kept for later use; nothing acts on them yet.
struct Directive {
    std::string key;
    std::string value;  // the rest of the line, trimmed; empty when there is none
    int line = 0;       // 1-based line number in the file

    bool operator==(const Directive&) const = default;
};

struct MigrationFile {
    std::filesystem::path path;           // as found in the folder
    std::string file_name;                // e.g. "2_add_orders.sql"
    std::string version;                  // as written, e.g. "002"
    std::string name;                     // e.g. "add_orders"
    std::string up_sql;                   // text between the up marker and the down marker (or the end)
    std::optional<std::string> down_sql;  // text after the down marker; nullopt without one
    std::vector<Directive> directives;

    // "2_add_orders", the way the client names a migration in its output.
    std::string label() const { return version + "_" + name; }
};

// A bad input: which file (or folder) and why. `file` is a path as the user can find it.
class MigrationFileError : public std::runtime_error {
  public:
    MigrationFileError(std::string file, std::string reason, std::string advice = {})
        : std::runtime_error(file + ": " + reason),
          file_(std::move(file)),
          reason_(std::move(reason)),
          advice_(std::move(advice)) {}
    const std::string& file() const noexcept { return file_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& advice() const noexcept { return advice_; }  // what to do about it; may be empty

  private:
    std::string file_;
    std::string reason_;
    std::string advice_;
};

// Splits "<version>_<name>.sql" into version and name; throws MigrationFileError on a bad name.
void parse_file_name(std::string_view file_name, std::string& version, std::string& name);

// Parses one file's content (file_name is used for the version, the name and in errors).
MigrationFile parse_migration_file(std::string_view file_name, std::string_view content);

// Reads every `*.sql` file directly in `dir` (other files, hidden files and subfolders are ignored),
// checks every rule, and returns the migrations in version order. The first problem found throws
// MigrationFileError, before anything else happens, so bad input never reaches a database.
std::vector<MigrationFile> load_migration_dir(const std::filesystem::path& dir);

// True for a `-- pgmig:up` / `-- pgmig:down` marker line; sets `section` to "up" or "down".
bool is_section_marker(std::string_view line, std::string& section);

}  // namespace pgmig::client
