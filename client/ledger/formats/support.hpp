// Helpers shared by the readers of tools whose files carry their directives in SQL comments (goose,
// dbmate, sql-migrate, node-pg-migrate, Ory popx, Liquibase formatted SQL): lines with their numbers,
// file lists, errors that name the file and the line, names and versions in the tool's order.
#pragma once

#include "client/ledger/migration_files.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client::formats {

// One line of a file: its text without the line ending (nor a CR before it), its 1-based number, and
// where it starts and ends (the ending included) in the file's content.
struct Line {
    std::string_view text;
    int number = 0;
    std::size_t begin = 0;
    std::size_t end = 0;
};

std::vector<Line> split_lines(std::string_view content);

std::string_view trim(std::string_view s);
std::string_view trim_left(std::string_view s);
std::string to_lower(std::string_view s);
bool starts_with_nocase(std::string_view s, std::string_view prefix);
bool is_blank_or_comment(std::string_view line);  // only blanks, or a "--" comment
bool is_digits(std::string_view s);
std::string leading_digits(std::string_view name);  // the digits `name` starts with ("" when none)

// A migration read from `path`, whose file name starts with its version's digits (dbmate, node-pg-migrate):
// path, file_name and version set, the bytes checked; refused naming the file when the name starts otherwise.
MigrationFile digits_named_migration(const std::filesystem::path& path, std::string_view content, std::string_view tool,
                                     const std::string& advice);

// The exact text of lines [first, last) of `content` (0-based indexes into `lines`), line endings kept.
std::string slice(std::string_view content, const std::vector<Line>& lines, std::size_t first, std::size_t last);
// The same text with the lines of `blank` (0-based indexes) emptied (their endings kept, so that line
// numbers still match the file): lines the tool does not run although they sit among its SQL.
std::string slice_blanking(std::string_view content, const std::vector<Line>& lines, std::size_t first,
                           std::size_t last, const std::vector<bool>& blank);

// A MigrationFileError about `line` of `file` ("<what> (line N)<detail>").
MigrationFileError error_at(const std::filesystem::path& file, int line, const std::string& what,
                            const std::string& advice, const std::string& detail = {});

// Refuses pgmig's own `-- pgmig:up` / `-- pgmig:down` markers in a file read as `tool`'s: a folder holds one
// format, and a file with both kinds of markers cannot be read the way its author meant.
void refuse_pgmig_sections(const std::filesystem::path& file, const std::vector<Line>& lines, std::string_view tool,
                           std::string_view tool_marker);

// The `-- pgmig:<key> [value]` directives (allow, refs, timeouts...) among lines [first, last): they apply to
// tool formats too, and become options like in pgmig's own files.
std::vector<Directive> pgmig_directives(const std::vector<Line>& lines, std::size_t first, std::size_t last);

// The down script of a migration whose tool rolls it back by running nothing (an empty or missing down section
// that the tool accepts): the tool's text, if any, and a statement that does nothing, so that pgmig rollback passes
// it as the tool does instead of refusing it for want of a down script.
std::string noop_down(std::string_view tool, const std::optional<std::string>& text);
// m.down_sql when it runs something, else noop_down.
void down_or_noop(MigrationFile& m, std::string_view tool);

// Fills m.options from m.directives (directive_options) and the tool's "no transaction" directive.
void set_options(MigrationFile& m, bool transactional);

// Reads a file checking its bytes (check_file_bytes) and naming it by its path.
std::string read_checked(const std::filesystem::path& path);
// Up to `max` bytes from the start of a file (for detection); empty when it cannot be read.
std::string read_head(const std::filesystem::path& path, std::size_t max = 4096);

// Regular files directly in `dir` whose names end with `suffix`, sorted by name (hidden files included
// when `hidden`).
std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir, std::string_view suffix,
                                            bool hidden = false);

// While one exists on this thread, files_in() lists each folder once and read_head() reads each head once.
// Format detection asks every tool's reader whether a folder is its tool's, and most look at the head of
// every .sql file: without it, a folder of 1,000 migrations was listed 5 times and 5,000 heads were read.
// For detection only, where the files are taken as they are at that moment.
class FolderScan {
  public:
    FolderScan();
    ~FolderScan();
    FolderScan(const FolderScan&) = delete;
    FolderScan& operator=(const FolderScan&) = delete;
    FolderScan(FolderScan&&) = delete;
    FolderScan& operator=(FolderScan&&) = delete;

    struct Cache;

  private:
    Cache* previous_;
    std::unique_ptr<Cache> cache_;
};

// A name pgmig accepts (letters, digits, '_' and '-', at most 200 characters) made from a tool's name:
// other characters become '_'; "migration" when nothing is left.
std::string safe_name(std::string_view name);

// Checks that pgmig's version order (digits separated by dots, compared group by group as numbers) is the
// tool's order, which `in_tool_order` is in: throws naming the first two migrations it would swap.
void require_tool_order(const std::vector<MigrationFile>& in_tool_order, std::string_view tool,
                        std::string_view tool_rule);

// Gives migrations (in the tool's order) that share a numeric base version the versions BASE.1, BASE.2...
// in that order, and the others BASE: pgmig needs distinct versions where the tool orders equal numbers by
// name. `bases[i]` is migration i's number (digits).
void assign_versions(std::vector<MigrationFile>& in_tool_order, const std::vector<std::string>& bases);

}  // namespace pgmig::client::formats
