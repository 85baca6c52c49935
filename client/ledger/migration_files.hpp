// Reads a migrations folder in every supported layout: `<version>_<name>.sql` with `-- pgmig:up` /
// `-- pgmig:down` sections, Flyway names (V/U/R) and `.up.sql` / `.down.sql` pairs, plus directives.
// Pure C++ (no libpq), so that every rule is unit-tested.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// A `-- pgmig:<key> [value]` comment line before or inside the up script (no-transaction, allow RULE,
// refs ID, lock-timeout 5s, statement-timeout 1min, retries N). They become the migration's options.
struct Directive {
    std::string key;
    std::string value;  // the rest of the line, trimmed; empty when there is none
    int line = 0;       // 1-based line number in the file

    bool operator==(const Directive&) const = default;
};

enum class FileFormat {
    sections,  // <version>_<name>.sql with -- pgmig:up / -- pgmig:down
    flyway,    // V<version>__<name>.sql (+ U<version>__<name>.sql), R__<name>.sql
    up_down,   // <version>_<name>.up.sql (+ <version>_<name>.down.sql)
    tool,      // a migration of another tool's folder, read as that tool writes it (see FolderFormat)
};

// The layout of a whole migrations folder: pgmig's own (the three file formats above, which may be mixed)
// or another migration tool's, read as it stands, with that tool's ordering rule and its directives
// (docs/adopting.md). Chosen with `format = "..."` in pgmig.toml or --format, else detected.
enum class FolderFormat {
    pgmig,
    goose,            // -- +goose Up / Down
    dbmate,           // -- migrate:up / -- migrate:down
    sql_migrate,      // -- +migrate Up / Down
    node_pg_migrate,  // -- Up Migration / -- Down Migration
    diesel,           // <version>_<name>/up.sql, down.sql, metadata.toml
    prisma,           // <timestamp>_<name>/migration.sql
    drizzle,          // NNNN_name.sql, ordered by meta/_journal.json
    popx,             // VERSION_name[.DIALECT][.autocommit].(up|down).sql (Ory)
    liquibase,        // --liquibase formatted sql
    sqitch,           // sqitch.plan, deploy/, revert/
};

// "pgmig", "goose", "dbmate", "sql-migrate", "node-pg-migrate", "diesel", "prisma", "drizzle", "popx",
// "liquibase", "sqitch": the names pgmig.toml and --format take.
std::string_view folder_format_name(FolderFormat format);
std::optional<FolderFormat> folder_format_named(std::string_view name);
// Every name, comma-separated, for messages.
std::string folder_format_names();

enum class MigrationKind { versioned, repeatable };

struct MigrationFile {
    std::filesystem::path path;                      // the file holding the up script, as found in the folder
    std::optional<std::filesystem::path> down_path;  // U file or .down.sql, when the down script is separate
    std::string file_name;                           // e.g. "2_add_orders.sql"
    FileFormat format = FileFormat::sections;
    MigrationKind kind = MigrationKind::versioned;
    std::string version;                  // as written ('_' of Flyway names turned into '.'); empty for repeatable
    std::string name;                     // e.g. "add_orders"
    std::string up_sql;                   // the up script
    int up_first_line = 1;                // line of the file where up_sql starts (for messages)
    std::optional<std::string> down_sql;  // the down script; nullopt without one
    std::vector<Directive> directives;
    nlohmann::json options = nlohmann::json::object();  // migrate_register's options, from the directives
    FolderFormat folder_format = FolderFormat::pgmig;   // the layout of the folder it was read from
    // What the previous tool's history table calls this migration (pgmig adopt matches its rows by it):
    // the version as that tool stores it, a file or folder name, a change name, a changeset's id:author.
    // Empty for pgmig's own formats, whose version is the key.
    std::string tool_id;
    // What else that table records about it, for pgmig adopt to compare (each reader in client/ledger/formats/ says
    // which keys it sets: Prisma's checksum, Drizzle's created_at, Sqitch's change name and script hash...).
    nlohmann::json tool_info = nlohmann::json::object();

    bool repeatable() const { return kind == MigrationKind::repeatable; }
    bool transactional() const { return !options.contains("transactional") || options["transactional"].get<bool>(); }
    // A down script that would run something (an empty or comment-only one counts as none).
    bool has_down() const;
    // "2_add_orders" (versioned) or "R__views" (repeatable), the way the client names a migration.
    std::string label() const { return repeatable() ? "R__" + name : version + "_" + name; }
};

// What is wrong with a file: its grammar (names, sections, directives), or its bytes (a NUL byte or
// invalid UTF-8, which have an exit code of their own).
enum class FileProblem { grammar, bad_bytes };

// A bad input: which file (or folder) and why. `file` is a path as the user can find it.
class MigrationFileError : public std::runtime_error {
  public:
    MigrationFileError(std::string file, std::string reason, std::string advice = {},
                       FileProblem problem = FileProblem::grammar, int line = 0)
        : std::runtime_error(file + ": " + reason),
          file_(std::move(file)),
          reason_(std::move(reason)),
          advice_(std::move(advice)),
          problem_(problem),
          line_(line) {}
    const std::string& file() const noexcept { return file_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& advice() const noexcept { return advice_; }  // what to do about it; may be empty
    FileProblem problem() const noexcept { return problem_; }
    int line() const noexcept { return line_; }  // 1-based line of the problem in the file; 0 when none
    // The same error naming the file by another path (the folder's path instead of the bare name).
    MigrationFileError in_file(std::string file) const { return {std::move(file), reason_, advice_, problem_, line_}; }

  private:
    std::string file_;
    std::string reason_;
    std::string advice_;
    FileProblem problem_;
    int line_;
};

// Throws MigrationFileError(bad_bytes) when `content` holds a NUL byte or invalid UTF-8, naming the
// line, the column and the byte offset: such a file never reaches a database or a JSON report.
void check_file_bytes(const std::string& file, std::string_view content);

// What a file name says: its format, whether it holds an up or a down script, version and name.
struct FileName {
    FileFormat format = FileFormat::sections;
    MigrationKind kind = MigrationKind::versioned;
    bool down = false;  // U<version>__x.sql or .down.sql
    std::string version;
    std::string name;
};

// Classifies a `.sql` file name; throws MigrationFileError on a name that fits no format.
FileName classify_file_name(std::string_view file_name);

// Splits "<version>_<name>.sql" into version and name; throws MigrationFileError on a bad name.
void parse_file_name(std::string_view file_name, std::string& version, std::string& name);

// Letters, digits, '_' and '-', at least one: the names migrations may have.
bool is_valid_name(std::string_view name);

// Parses one file's content by its name's format (file_name is used for version, name and errors).
// A down-only file (U..., .down.sql) is refused here; load_migration_dir pairs those. Content with a NUL
// byte or invalid UTF-8 is refused first (check_file_bytes).
// Section markers and directives count only on lines that begin outside quoted strings, quoted
// identifiers, dollar quotes and block comments: a name or a literal holding a line "-- pgmig:allow x"
// or "-- pgmig:down" (which a generated file may quote from the database) is SQL text, not a directive.
MigrationFile parse_migration_file(std::string_view file_name, std::string_view content);

// The options JSON that directives stand for; throws MigrationFileError (naming file and line) on an
// unknown directive or a bad value.
nlohmann::json directive_options(const std::string& file, const std::vector<Directive>& directives);

// Reads the migrations folder `dir` in `format`, or in the format detect_folder_format finds. In pgmig's
// own format: every `*.sql` file directly in `dir` (other files, hidden files and subfolders are
// ignored); it checks every rule, pairs separate down scripts with their up scripts, and returns the
// versioned migrations in version order followed by the repeatable ones by name. Another tool's folder
// is read by that tool's reader (client/ledger/formats/), in that tool's order (versions it does not have are
// given in that order). The first problem found throws MigrationFileError, before anything else
// happens, so bad input never reaches a database.
std::vector<MigrationFile> load_migration_dir(const std::filesystem::path& dir,
                                              std::optional<FolderFormat> format = std::nullopt);

// The format of the folder's files: the one tool whose files it holds, else pgmig's own. Throws
// MigrationFileError when the files fit several tools' formats (naming them; choose with format = ...).
FolderFormat detect_folder_format(const std::filesystem::path& dir);

// The rules every folder format shares, for the readers of client/ledger/formats/: versions are digits
// separated by dots, no two migrations have the same version (or repeatable name). Sorts `migrations`
// (versioned by version, then repeatable ones by name) and throws MigrationFileError naming the file.
void order_and_check(std::vector<MigrationFile>& migrations);

// The file's whole content; MigrationFileError naming it when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// True when `text` holds anything but whitespace and `--` comment lines (it would run something).
bool has_statements(std::string_view text);

// True for a `-- pgmig:up` / `-- pgmig:down` marker line; sets `section` to "up" or "down".
bool is_section_marker(std::string_view line, std::string& section);

// True for a `-- pgmig:key value` line (the one reader of pgmig's directives, in its own files and in
// other tools' formats); sets `key` and `value` (trimmed). False for any other line.
bool parse_directive(std::string_view line, std::string& key, std::string& value);

}  // namespace pgmig::client
