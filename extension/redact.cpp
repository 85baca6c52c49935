// Redaction of secrets in statement text (see redact.hpp).
#include "redact.hpp"

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "common/keywords.h"
#include "parser/parser.h"
#include "parser/scanner.h"
// after scanner.h, which defines the types gram.h's declarations use
#include "parser/gram.h"
}

#include <algorithm>
#include <cctype>
#include <vector>

#include "pg/boundary.hpp"
#include "pg/values.hpp"

namespace pgmig {
namespace {

struct Token {
    int kind;
    int start;  // byte offset
};

// Every token of `text` with its start, from the core scanner (what raw_parser itself reads).
std::vector<Token> tokens_of(const std::string& text) {
    std::vector<Token> out;
    const char* source = text.c_str();
    // The scanner state is C data only; collect into a plain buffer inside the guard.
    const int capacity = static_cast<int>(text.size()) + 1;
    auto* kinds = static_cast<int*>(pg::call([capacity] { return palloc(sizeof(int) * capacity); }));
    auto* starts = static_cast<int*>(pg::call([capacity] { return palloc(sizeof(int) * capacity); }));
    const int n = pg::call([source, kinds, starts, capacity] {
        core_yy_extra_type extra;
        core_YYSTYPE value;
        YYLTYPE location = 0;
        core_yyscan_t scanner = scanner_init(source, &extra, &ScanKeywords, ScanKeywordTokens);
        int count = 0;
        for (;;) {
            CHECK_FOR_INTERRUPTS();  // a script of several MB is many tokens
            const int token = core_yylex(&value, &location, scanner);
            if (token == 0 || count >= capacity) break;
            kinds[count] = token;
            starts[count] = location;
            ++count;
        }
        scanner_finish(scanner);
        return count;
    });
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(Token{kinds[i], starts[i]});
    pfree(kinds);
    pfree(starts);
    return out;
}

bool is_string_literal(int kind) { return kind == SCONST || kind == USCONST; }

// Byte ranges [start, end) of the literals to replace.
using Ranges = std::vector<std::pair<size_t, size_t>>;

// The string literal that follows the token at byte offset `from` (skipping at most `skip`
// tokens, e.g. ENCRYPTED), as a range ending where the next token begins (trailing blanks kept).
void literal_after(const std::string& text, const std::vector<Token>& tokens, int from, int skip, Ranges& out) {
    // Tokens are in text order: a binary search keeps redacting a script of many statements linear.
    auto it = std::lower_bound(tokens.begin(), tokens.end(), from,
                               [](const Token& t, int offset) { return t.start < offset; });
    for (int i = 0; it != tokens.end() && i <= skip + 1; ++it, ++i) {
        if (!is_string_literal(it->kind)) continue;
        size_t end = (it + 1) != tokens.end() ? static_cast<size_t>((it + 1)->start) : text.size();
        while (end > static_cast<size_t>(it->start) && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
        out.emplace_back(static_cast<size_t>(it->start), end);
        return;
    }
}

bool is_secret_option(const DefElem* opt) {
    return opt->defname != nullptr &&
           (pg_strcasecmp(opt->defname, "password") == 0 || pg_strcasecmp(opt->defname, "passfile") == 0 ||
            pg_strcasecmp(opt->defname, "sslpassword") == 0);
}

void secret_options(List* options, const std::string& text, const std::vector<Token>& tokens, Ranges& out) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (is_secret_option(opt) && opt->location >= 0) literal_after(text, tokens, opt->location, 2, out);
    }
}

// FDW options come as (ADD|SET|DROP) name 'value': the DefElem's location points at the name.
List* fdw_options(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_CreateUserMappingStmt:
            return castNode(CreateUserMappingStmt, stmt)->options;
        case T_AlterUserMappingStmt:
            return castNode(AlterUserMappingStmt, stmt)->options;
        case T_CreateForeignServerStmt:
            return castNode(CreateForeignServerStmt, stmt)->options;
        case T_AlterForeignServerStmt:
            return castNode(AlterForeignServerStmt, stmt)->options;
        case T_CreateFdwStmt:
            return castNode(CreateFdwStmt, stmt)->options;
        case T_AlterFdwStmt:
            return castNode(AlterFdwStmt, stmt)->options;
        case T_CreateForeignTableStmt:
            return castNode(CreateForeignTableStmt, stmt)->options;
        default:
            return NIL;
    }
}

}  // namespace

bool kind_may_hold_secret(const Node* stmt) {
    if (stmt == nullptr) return true;
    switch (nodeTag(stmt)) {
        case T_CreateRoleStmt:
        case T_AlterRoleStmt:
        case T_CreateUserMappingStmt:
        case T_AlterUserMappingStmt:
        case T_CreateForeignServerStmt:
        case T_AlterForeignServerStmt:
        case T_CreateFdwStmt:
        case T_AlterFdwStmt:
        case T_CreateForeignTableStmt:
        case T_CreateSubscriptionStmt:
        case T_AlterSubscriptionStmt:
            return true;
        default:
            return false;
    }
}

bool mentions_secret(const std::string& text) {
    std::string lower(text.size(), ' ');
    std::transform(text.begin(), text.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("password") != std::string::npos || lower.find("connection") != std::string::npos ||
           lower.find("passfile") != std::string::npos;
}

std::string redact_statement(const std::string& statement) {
    List* parsed = nullptr;
    try {
        const char* source = statement.c_str();
        parsed = pg::call([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });
    } catch (const pg::PgError&) {
        // Raw parsing holds no locks or buffers: the caught error needs no subtransaction.
        return mentions_secret(statement) ? std::string(kRedacted) : statement;
    }
    const std::vector<Token> tokens = tokens_of(statement);
    Ranges ranges;
    ListCell* cell = nullptr;
    foreach (cell, parsed) {
        Node* stmt = lfirst_node(RawStmt, cell)->stmt;
        if (IsA(stmt, CreateRoleStmt) || IsA(stmt, AlterRoleStmt)) {
            List* options = IsA(stmt, CreateRoleStmt) ? castNode(CreateRoleStmt, stmt)->options
                                                      : castNode(AlterRoleStmt, stmt)->options;
            secret_options(options, statement, tokens, ranges);
        } else if (IsA(stmt, CreateSubscriptionStmt) || IsA(stmt, AlterSubscriptionStmt)) {
            // The connection string has no location of its own: it is the literal after CONNECTION.
            // Searched within the statement only (ALTER SUBSCRIPTION ... ENABLE has none).
            const RawStmt* raw = lfirst_node(RawStmt, cell);
            const int from = raw->stmt_location;
            const auto by_offset = [](const Token& t, int offset) { return t.start < offset; };
            const auto start = std::lower_bound(tokens.begin(), tokens.end(), from, by_offset);
            const auto stop = raw->stmt_len > 0 ? std::lower_bound(start, tokens.end(), from + raw->stmt_len, by_offset)
                                                : tokens.end();
            const auto end = std::find_if(start, stop, [](const Token& t) { return t.kind == CONNECTION; });
            if (end != stop) literal_after(statement, tokens, end->start + 1, 0, ranges);
            if (IsA(stmt, CreateSubscriptionStmt)) {
                secret_options(castNode(CreateSubscriptionStmt, stmt)->options, statement, tokens, ranges);
            }
        } else {
            secret_options(fdw_options(stmt), statement, tokens, ranges);
        }
    }
    if (ranges.empty()) return statement;
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    size_t pos = 0;
    for (const auto& [start, end] : ranges) {
        if (start < pos) continue;
        out.append(statement, pos, start - pos);
        out.append(kRedacted);
        pos = end;
    }
    out.append(statement, pos, std::string::npos);
    return out;
}

}  // namespace pgmig

// pgmig.redact(statement) -> the statement with its secrets replaced.
PGMIG_FUNCTION(pgmig_redact) {
    return pgmig::pg::text_datum(pgmig::redact_statement(*pgmig::pg::text_arg(fcinfo, 0)));  // declared STRICT
}
