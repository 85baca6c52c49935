// Renders the tables of docs/errors.md from common/errors.def.
#include "common/errors_md.hpp"

#include <stdexcept>
#include <string>

namespace pgmig::common {

namespace {

struct ExitRow {
    int code;
    const char* meaning;
};

constexpr ExitRow kExitRows[] = {
#define PGMIG_EXIT_CODE(kind, exit_code, summary, meaning) {exit_code, meaning},
#include "errors.def"
};

struct SqlstateRow {
    const char* sqlstate;
    const char* meaning;
    const char* next_step;
};

constexpr SqlstateRow kSqlstateRows[] = {
#define PGMIG_SQLSTATE(name, sqlstate, exit_kind, meaning, next_step) {sqlstate, meaning, next_step},
#include "errors.def"
};

// A table cell: a "|" would end the cell early (GitHub's tables take "\|" inside code spans too).
std::string cell(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

std::string sqlstate_table() {
    std::string out = "| SQLSTATE | kind | what to do |\n|---|---|---|\n";
    for (const auto& row : kSqlstateRows) {
        out += "| `" + std::string(row.sqlstate) + "` | " + cell(row.meaning) + " | " + cell(row.next_step) + " |\n";
    }
    return out;
}

std::string exit_code_table() {
    std::string out = "| code | kind |\n|---|---|\n| 0 | success |\n";
    for (const auto& row : kExitRows) out += "| " + std::to_string(row.code) + " | " + cell(row.meaning) + " |\n";
    return out;
}

// Replaces the line `marker` (with its newline) of `page` by `text`.
void fill(std::string& page, std::string_view marker, const std::string& text) {
    const std::string line = std::string(marker) + "\n";
    std::size_t at = page.find(line);
    while (at != std::string::npos && at != 0 && page[at - 1] != '\n') at = page.find(line, at + 1);
    if (at == std::string::npos) {
        throw std::invalid_argument("the template of docs/errors.md has no line " + std::string(marker));
    }
    page.replace(at, line.size(), text);
}

}  // namespace

std::string errors_markdown(std::string_view page_template) {
    std::string page =
        "<!-- Made from common/errors.def and docs/errors.md.in: edit those, then "
        "`cmake --build build --target update_errors_md`. -->\n";
    page += page_template;
    fill(page, "@SQLSTATES@", sqlstate_table());
    fill(page, "@EXIT_CODES@", exit_code_table());
    return page;
}

}  // namespace pgmig::common

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
