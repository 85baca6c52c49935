// libFuzzer target for the migration-file parser (client/ledger/migration_files.cpp) and for what pgmig writes
// into generated files (client/diff/diff_output.cpp and the diff engine in client/diff/). Built and run by
// scripts/fuzz.
//
// The first byte of an input picks what is exercised; the rest is the file's content or the text to write.
// Besides crashes, sanitizer reports and hangs, it checks properties and aborts when one fails:
// - a file that parses holds no NUL byte and only valid UTF-8, and its options serialise as JSON;
// - an error's message and file name are valid UTF-8 (no raw input bytes are quoted into messages);
// - a generated file with any name, reason or target text in it parses back with exactly the directives
//   pgmig wrote, its up section holding the statement, and no injected line;
// - the folder readers' statement scanner gives statements in order, inside the text and apart, and taking off
//   a BEGIN ... COMMIT wrapper keeps the text's length and its line breaks.
#include "client/diff/diff_output.hpp"
#include "client/ledger/formats/folder_files.hpp"
#include "client/ledger/formats/sql_scan.hpp"
#include "client/ledger/migration_files.hpp"
#include "client/diff/schema_diff.hpp"
#include "client/core/text_bytes.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace pgmig::client;

namespace {

[[noreturn]] void violated(const char* what, std::string_view input) {
    std::fprintf(stderr, "property violated: %s (input of %zu bytes)\n", what, input.size());
    std::abort();
}

const char* const kNames[] = {"1_a.sql",     "V1__a.sql", "R__a.sql",     "1_a.up.sql",
                              "2.5_b-c.sql", "U1__a.sql", "1_a.down.sql", "x.sql"};

void parse(std::string_view name, std::string_view content) {
    try {
        const MigrationFile m = parse_migration_file(name, content);
        if (find_bad_bytes(content)) violated("a file with a NUL byte or invalid UTF-8 parsed", content);
        (void)m.options.dump();  // throws on invalid UTF-8: must not happen once the bytes are checked
        (void)m.transactional();
        (void)m.has_down();
        (void)m.label();
        for (const Directive& d : m.directives) {
            if (d.line <= 0) violated("a directive without its line", content);
        }
    } catch (const MigrationFileError& e) {
        if (find_bad_bytes(e.what())) violated("an error message holds invalid UTF-8 or NUL", content);
        if (e.problem() == FileProblem::bad_bytes && !find_bad_bytes(content)) {
            violated("bad_bytes reported for clean content", content);
        }
    }
}

// The text as valid UTF-8 without NUL (invalid bytes dropped): what a name or a reason from the database
// can hold.
std::string clean(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::string_view rest = text.substr(i);
        const auto bad = find_bad_bytes(rest.substr(0, 4));
        if (bad && bad->offset == 0) continue;
        out += text[i];
    }
    while (find_bad_bytes(out)) out.pop_back();  // a sequence cut at the end
    return out;
}

std::string quote_ident(std::string_view name) {
    std::string out = "\"";
    for (const char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string quote_literal(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

// A generated migration whose names, reasons and header come from the input.
void generated(std::string_view input) {
    const std::string text = clean(input);
    if (text.empty()) return;
    const std::string name = text.substr(0, text.size() / 2);
    const std::string other = text.substr(text.size() / 2);
    namespace sd = pgmig::schema_diff;
    const std::string table = "public." + quote_ident(name.empty() ? "t" : name);
    std::vector<sd::Statement> up{
        {"CREATE TABLE " + table + " (id int);", "table " + table, sd::Phase::main, false},
        {"COMMENT ON TABLE " + table + " IS " + quote_literal(other) + ";", "comment", sd::Phase::main, false},
        {"-- pgmig diff: " + sd::comment_text(other) + "\n-- pgmig:allow drop-table\nDROP TABLE " + table + ";", "drop",
         sd::Phase::main, true},
    };
    if (other.find("$fn") == std::string::npos) {  // pg_get_functiondef picks a tag its body lacks
        up.push_back({"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$ SELECT " + quote_literal(other) + " $fn$;",
                      "function", sd::Phase::main, false});
    }
    std::vector<sd::Statement> down{{"DROP TABLE " + table + ";", "table " + table, sd::Phase::main, false}};
    std::vector<sd::Withheld> withheld{{"table " + table, other, "DROP TABLE " + table + ";"}};
    const Provenance provenance{"pgmig generate x", "schema folder " + name, "host=h dbname=" + other, "now"};
    const std::string file = migration_file_text(provenance, up, down, withheld, true);
    MigrationFile m;
    try {
        m = parse_migration_file("1_x.sql", file);
    } catch (const MigrationFileError& e) {
        std::fprintf(stderr, "%s\n--- file ---\n%s\n", e.what(), file.c_str());
        violated("a generated file does not parse", input);
    }
    if (m.directives.size() != 1 || m.directives[0].key != "allow" || m.directives[0].value != "drop-table") {
        std::fprintf(stderr, "--- file ---\n%s\n", file.c_str());
        violated("a generated file has other directives than pgmig wrote", input);
    }
    if (!m.down_sql || m.down_sql->find("DROP TABLE") == std::string::npos) {
        violated("a generated file lost its down section", input);
    }
    // No line of the file starts with "-- pgmig:" but the markers and the directive pgmig wrote.
    int lines = 0;
    std::size_t pos = 0;
    while (pos <= file.size()) {
        const std::size_t nl = std::min(file.find_first_of("\n\r", pos), file.size());
        std::string_view line(file.data() + pos, nl - pos);
        while (!line.empty() &&
               (line.front() == ' ' || line.front() == '\t' || line.front() == '\f' || line.front() == '\v')) {
            line.remove_prefix(1);
        }
        if (line.starts_with("--")) {
            line.remove_prefix(2);
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
            if (line.starts_with("pgmig:")) ++lines;
        }
        pos = nl + 1;
    }
    if (lines != 3) {
        std::fprintf(stderr, "--- file ---\n%s\n", file.c_str());
        violated("a line of a generated file starts with -- pgmig: although pgmig did not mean it", input);
    }
}

// The folder readers' scanner and the transaction wrapper they take off.
void scan(std::string_view input) {
    const pgmig::client::formats::ScanResult r = pgmig::client::formats::scan_sql(input);
    std::size_t last_end = 0;
    for (const auto& s : r.statements) {
        if (s.begin < last_end || s.end <= s.begin || s.end > input.size() || s.line < 1) {
            violated("scanned statements overlap or leave the text", input);
        }
        last_end = s.end;
    }
    for (const auto& [b, e] : r.opaque) {
        if (b > e || e > input.size()) violated("an opaque region leaves the text", input);
    }
    try {
        const auto u = pgmig::client::formats::strip_transaction_wrapper("x.sql", std::string(input));
        if (u.text.size() != input.size()) violated("the unwrapped script changed length", input);
        for (std::size_t i = 0; i < input.size(); ++i) {
            if ((input[i] == '\n') != (u.text[i] == '\n')) violated("the unwrapped script moved a line break", input);
        }
    } catch (const MigrationFileError& e) {
        if (e.line() < 1) violated("a refused transaction statement without its line", input);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const unsigned selector = data[0];
    if (selector < 0xE0) {
        parse(kNames[selector % (sizeof kNames / sizeof kNames[0])], input);
    } else if (selector < 0xF0) {
        generated(input);
    } else if (selector >= 0xF8) {
        scan(input);
    } else {
        const std::string safe = pgmig::schema_diff::comment_text(input);
        if (safe.find_first_of("\n\r") != std::string::npos) violated("comment_text left a line break", input);
        (void)pgmig::schema_diff::file_safe_sql(input);
        (void)find_bad_bytes(input);
    }
    return 0;
}
