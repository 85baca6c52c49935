// Cutting migration scripts into statements with the server's own grammar (raw_parser).
#include "script.hpp"

extern "C" {
#include "postgres.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
}

#include <algorithm>
#include <cstring>

#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/interrupts.hpp"

namespace pgmig {

size_t skip_block_comment(std::string_view s, size_t pos, size_t end) {
    int depth = 1;  // PostgreSQL's block comments nest
    pos += 2;
    while (pos < end && depth > 0) {
        if (s.compare(pos, 2, "/*") == 0) {
            ++depth;
            pos += 2;
        } else if (s.compare(pos, 2, "*/") == 0) {
            --depth;
            pos += 2;
        } else {
            ++pos;
        }
    }
    return std::min(pos, end);
}

namespace {

// raw_parser's stmt_location may point at whitespace or comments before the first token.
size_t skip_blanks_and_comments(std::string_view s, size_t pos, size_t end) {
    while (pos < end) {
        const char c = s[pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++pos;
        } else if (c == '-' && pos + 1 < end && s[pos + 1] == '-') {
            const size_t nl = s.find('\n', pos);
            pos = nl == std::string::npos ? end : nl + 1;
        } else if (c == '/' && pos + 1 < end && s[pos + 1] == '*') {
            pos = skip_block_comment(s, pos, end);
        } else {
            break;
        }
    }
    return std::min(pos, end);
}

struct RawSpan {
    int location;
    int length;
    int kind;
    bool transaction_control;
    const char* needs_no_transaction;
};

bool has_option(List* options, const char* name) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (strcmp(opt->defname, name) == 0) return true;
    }
    return false;
}

// The statements PostgreSQL 15 refuses inside a transaction block (PreventInTransactionBlock).
const char* needs_no_transaction(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return castNode(IndexStmt, stmt)->concurrent ? "CREATE INDEX CONCURRENTLY" : nullptr;
        case T_DropStmt:
            return castNode(DropStmt, stmt)->concurrent ? "DROP INDEX CONCURRENTLY" : nullptr;
        case T_ReindexStmt:
            return has_option(castNode(ReindexStmt, stmt)->params, "concurrently") ? "REINDEX CONCURRENTLY" : nullptr;
        case T_VacuumStmt:
            return castNode(VacuumStmt, stmt)->is_vacuumcmd ? "VACUUM" : nullptr;
        case T_ClusterStmt:
            return castNode(ClusterStmt, stmt)->relation == nullptr ? "CLUSTER without a table" : nullptr;
        case T_CreatedbStmt:
            return "CREATE DATABASE";
        case T_DropdbStmt:
            return "DROP DATABASE";
        case T_CreateTableSpaceStmt:
            return "CREATE TABLESPACE";
        case T_DropTableSpaceStmt:
            return "DROP TABLESPACE";
        case T_AlterSystemStmt:
            return "ALTER SYSTEM";
        case T_CreateSubscriptionStmt:
            return "CREATE SUBSCRIPTION";
        case T_DropSubscriptionStmt:
            return "DROP SUBSCRIPTION";
        default:
            return nullptr;
    }
}

}  // namespace

namespace {
// [first token, end) of the statement at [location, location + length) (length 0: to the end).
std::pair<size_t, size_t> statement_bounds(std::string_view query, int location, int length) {
    const size_t begin = location < 0 ? 0 : std::min(query.size(), static_cast<size_t>(location));
    const size_t end = length <= 0 ? query.size() : std::min(query.size(), begin + static_cast<size_t>(length));
    return {skip_blanks_and_comments(query, begin, end), end};
}
}  // namespace

std::string statement_slice(const std::string& query, int location, int length) {
    const auto [first, end] = statement_bounds(query, location, length);
    return query.substr(first, end - first);
}

std::string statement_slice(const char* query, int location, int length) {
    return std::string(statement_view(query, location, length));
}

int LineCounter::at(size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset < pos_) {  // asked backwards: start again (not in the usual order)
        pos_ = 0;
        line_ = 1;
    }
    line_ += static_cast<int>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                         text_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    pos_ = offset;
    return line_;
}

std::string_view statement_view(const char* query, int location, int length) {
    const char* start = query + (location < 0 ? 0 : location);
    const std::string_view span =
        length > 0 ? std::string_view(start, static_cast<size_t>(length)) : std::string_view(start);
    return span.substr(skip_blanks_and_comments(span, 0, span.size()));
}

int line_at_byte(const std::string& text, size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

size_t byte_of_char_position(const std::string& text, size_t start_byte, int char_position) {
    size_t pos = start_byte;
    for (int chars = 1; chars < char_position && pos < text.size(); ++chars) {
        ++pos;  // skip UTF-8 continuation bytes (10xxxxxx) to land on the next character
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    }
    return std::min(pos, text.size());
}

std::vector<Statement> split_script(const std::string& script, std::vector<Node*>* nodes) {
    const char* source = script.c_str();
    List* parsed = pg::call_isolated([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });

    std::vector<RawSpan> spans;
    spans.reserve(static_cast<size_t>(list_length(parsed)));
    ListCell* cell = nullptr;
    foreach (cell, parsed) {
        pg::check_for_interrupts();
        const auto* raw = static_cast<RawStmt*>(lfirst(cell));
        spans.push_back(RawSpan{raw->stmt_location, raw->stmt_len, static_cast<int>(nodeTag(raw->stmt)),
                                IsA(raw->stmt, TransactionStmt), needs_no_transaction(raw->stmt)});
        if (nodes != nullptr) nodes->push_back(raw->stmt);
    }

    std::vector<Statement> statements;
    statements.reserve(spans.size());
    LineCounter lines(script);  // statements come in order: the script is read once for their lines
    for (const RawSpan& span : spans) {
        pg::check_for_interrupts();
        const auto [first, end] = statement_bounds(script, span.location, span.length);
        Statement st;
        st.text = script.substr(first, end - first);
        st.offset = first;
        st.line = lines.at(first);
        st.transaction_control = span.transaction_control;
        st.kind = span.kind;
        if (span.needs_no_transaction != nullptr) st.needs_no_transaction = span.needs_no_transaction;
        statements.push_back(std::move(st));
    }
    return statements;
}

bool same_statements(const std::string& a, const std::string& b) {
    List* left = nullptr;
    List* right = nullptr;
    try {
        const char* a_text = a.c_str();
        const char* b_text = b.c_str();
        left = pg::call_isolated([a_text] { return raw_parser(a_text, RAW_PARSE_DEFAULT); });
        right = pg::call_isolated([b_text] { return raw_parser(b_text, RAW_PARSE_DEFAULT); });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return false;  // a script that does not parse is not the same as one that does
    }
    if (list_length(left) != list_length(right)) return false;
    // Compare RawStmt->stmt, not the RawStmt: equal() compares stmt_len, which whitespace changes.
    return pg::call([left, right] {
        ListCell* l = nullptr;
        ListCell* r = nullptr;
        forboth(l, left, r, right) {
            CHECK_FOR_INTERRUPTS();
            if (!equal(lfirst_node(RawStmt, l)->stmt, lfirst_node(RawStmt, r)->stmt)) return false;
        }
        return true;
    });
}

}  // namespace pgmig
