// Redaction of secrets in statement text and in error fields (see redact.hpp).
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
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "pg/boundary.hpp"
#include "pg/interrupts.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "script.hpp"

namespace pgmig {
namespace {

constexpr int kMaxDepth = 8;           // bodies within bodies (EXECUTE strings) followed this deep
constexpr size_t kMinMaskedValue = 4;  // shorter values would mask common words in messages

struct Token {
    int kind;
    size_t start;       // byte offset
    std::string value;  // the scanner's value: a literal's content, an identifier (downcased), a number
};

// Every token of `text` from the core scanner (what raw_parser itself reads). The scanner works on
// text the grammar rejects; when it stops at a lexical error (an unterminated literal or quoted
// identifier), `stopped_at` is the byte offset of the bad token and the tokens before it are kept.
struct Scan {
    std::vector<Token> tokens;
    size_t stopped_at = std::string::npos;
};

Scan scan(const std::string& text) {
    Scan out;
    const char* source = text.c_str();
    // The scanner state is C data only; collect into plain buffers inside the guard.
    const int capacity = static_cast<int>(text.size()) + 1;
    auto* kinds = static_cast<int*>(pg::call([capacity] { return palloc(sizeof(int) * capacity); }));
    auto* starts = static_cast<int*>(pg::call([capacity] { return palloc(sizeof(int) * capacity); }));
    auto* values = static_cast<const char**>(pg::call([capacity] { return palloc0(sizeof(char*) * capacity); }));
    auto* count = static_cast<int*>(pg::call([] { return palloc0(sizeof(int)); }));  // survives a longjmp
    try {
        pg::call_isolated([source, kinds, starts, values, count, capacity] {
            core_yy_extra_type extra;
            core_YYSTYPE value;
            YYLTYPE location = 0;
            core_yyscan_t scanner = scanner_init(source, &extra, &ScanKeywords, ScanKeywordTokens);
            for (;;) {
                CHECK_FOR_INTERRUPTS();  // a script of several MB is many tokens
                const int token = core_yylex(&value, &location, scanner);
                if (token == 0 || *count >= capacity) break;
                kinds[*count] = token;
                starts[*count] = location;
                switch (token) {
                    case SCONST:
                    case USCONST:
                    case IDENT:
                    case UIDENT:
                    case FCONST:
                    case BCONST:
                    case XCONST:
                        values[*count] = value.str;
                        break;
                    case ICONST:
                        values[*count] = psprintf("%d", value.ival);
                        break;
                    default:
                        break;
                }
                ++*count;
            }
            scanner_finish(scanner);
        });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;  // a cancel or timeout is not a lexical error
        // The scanner's subtransaction is rolled back: the session goes on as if it had not run.
        out.stopped_at = e.cursorpos() > 0 ? byte_of_char_position(text, 0, e.cursorpos())
                         : *count > 0      ? static_cast<size_t>(starts[*count - 1])
                                           : 0;
    }
    out.tokens.reserve(static_cast<size_t>(*count));
    for (int i = 0; i < *count; ++i) {
        out.tokens.push_back(Token{kinds[i], static_cast<size_t>(starts[i]),
                                   values[i] != nullptr ? std::string(values[i]) : std::string()});
    }
    pfree(kinds);
    pfree(starts);
    pfree(values);
    pfree(count);
    return out;
}

bool is_string_literal(int kind) { return kind == SCONST || kind == USCONST; }

// A token that can be a secret value: a literal, or a bare word or number where a literal belongs.
bool is_value(int kind) {
    return is_string_literal(kind) || kind == IDENT || kind == UIDENT || kind == ICONST || kind == FCONST ||
           kind == BCONST || kind == XCONST;
}

bool is_secret_keyword(const Token& t) {
    if (t.kind == PASSWORD || t.kind == CONNECTION) return true;
    if (t.kind != IDENT && t.kind != UIDENT) return false;
    return pg_strcasecmp(t.value.c_str(), "passfile") == 0 || pg_strcasecmp(t.value.c_str(), "sslpassword") == 0 ||
           pg_strcasecmp(t.value.c_str(), "password") == 0;  // "password" quoted as an identifier
}

// Byte ranges [start, end) to replace, and the secret values found.
struct Found {
    std::vector<std::pair<size_t, size_t>> ranges;
    std::vector<std::string> values;
};

// Where token i ends: where the next token (or the scanner's stop) begins, trailing blanks kept out.
size_t token_end(const std::string& text, const Scan& s, size_t i) {
    size_t end = i + 1 < s.tokens.size() ? s.tokens[i + 1].start : std::min(s.stopped_at, text.size());
    while (end > s.tokens[i].start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    return end;
}

void add_value(Found& out, const std::string& value) {
    if (!value.empty() && std::find(out.values.begin(), out.values.end(), value) == out.values.end()) {
        out.values.push_back(value);
    }
}

// A word of a connection string that names a password: libpq's keywords are lower case.
bool names_password(std::string_view word) { return word.starts_with("password") || word.starts_with("sslpassword"); }

// A connection string's words as libpq's messages quote them (`missing "=" after "password:x"`): each
// whitespace-separated word that names a password with its value, and the word after a bare name or '='.
void conninfo_words(const std::string& value, Found& out) {
    std::vector<std::string_view> words;
    const std::string_view v = value;
    for (size_t pos = 0; pos < v.size();) {
        while (pos < v.size() && std::isspace(static_cast<unsigned char>(v[pos]))) ++pos;
        const size_t start = pos;
        while (pos < v.size() && !std::isspace(static_cast<unsigned char>(v[pos]))) ++pos;
        if (pos > start) words.push_back(v.substr(start, pos - start));
    }
    for (size_t i = 0; i < words.size(); ++i) {
        if (!names_password(words[i])) continue;
        add_value(out, std::string(words[i]));
        const size_t eq = words[i].find_first_of("=:");
        if (eq != std::string_view::npos && eq + 1 < words[i].size()) {
            add_value(out, std::string(words[i].substr(eq + 1)));
            continue;
        }
        // "password = x", "password =x" or "password= x": the value is in a following word
        for (size_t j = i + 1; j < words.size() && j <= i + 2; ++j) {
            if (words[j] == "=") continue;
            add_value(out, std::string(words[j].front() == '=' ? words[j].substr(1) : words[j]));
            break;
        }
    }
}

// Token i is a secret: replace it, and remember its value as the scanner read it and as written (and, for a
// connection string, the words libpq's messages may quote).
void take_token(const std::string& text, const Scan& s, size_t i, Found& out, bool conninfo = false) {
    const size_t start = s.tokens[i].start;
    const size_t end = token_end(text, s, i);
    out.ranges.emplace_back(start, end);
    add_value(out, s.tokens[i].value);
    const std::string written = text.substr(start, end - start);
    add_value(out, written);
    if (written.size() >= 2 && written.front() == '\'' && written.back() == '\'') {
        add_value(out, written.substr(1, written.size() - 2));
    }
    if (conninfo) conninfo_words(s.tokens[i].value, out);
}

void find_secrets(const std::string& text, Found& out, int depth);

// A body (or EXECUTE string) withheld whole: its own secrets are still wanted, to mask them where
// core quotes the statements the body runs.
void body_values(const std::string& body, Found& out, int depth) {
    if (depth >= kMaxDepth || !mentions_secret(body)) return;
    Found inner;
    find_secrets(body, inner, depth + 1);
    for (const std::string& v : inner.values) add_value(out, v);
}

// The first token that starts at or after byte offset `from`.
std::vector<Token>::const_iterator first_token_at(const Scan& s, size_t from) {
    return std::lower_bound(s.tokens.begin(), s.tokens.end(), from,
                            [](const Token& t, size_t offset) { return t.start < offset; });
}

// The string literal at or right after byte offset `from` (skipping at most `skip` tokens, e.g.
// ENCRYPTED or the AS keyword): its token index.
std::optional<size_t> literal_after(const Scan& s, size_t from, int skip) {
    // Tokens are in text order: a binary search keeps redacting a script of many statements linear.
    auto it = first_token_at(s, from);
    for (int i = 0; it != s.tokens.end() && i <= skip + 1; ++it, ++i) {
        if (is_string_literal(it->kind)) return static_cast<size_t>(it - s.tokens.begin());
    }
    return std::nullopt;
}

// The token-based rules, for text the grammar rejects (see redact.hpp).
void token_secrets(const std::string& text, const Scan& s, Found& out, int depth) {
    const size_t n = s.tokens.size();
    for (size_t i = 0; i < n; ++i) {
        const Token& t = s.tokens[i];
        if (is_secret_keyword(t)) {
            size_t j = i + 1;
            for (int skipped = 0; j < n && skipped < 2 && (s.tokens[j].kind == ENCRYPTED || s.tokens[j].kind == '=');
                 ++skipped) {
                ++j;
            }
            if (j < n && is_value(s.tokens[j].kind)) take_token(text, s, j, out, t.kind == CONNECTION);
        } else if (is_string_literal(t.kind) && mentions_secret(t.value)) {
            take_token(text, s, i, out);
            body_values(t.value, out, depth);
        }
    }
    if (s.stopped_at >= text.size()) return;
    // Stopped at an unterminated literal: withhold the rest when it follows a secret's keyword or
    // mentions one itself.
    bool after_keyword = false;
    for (size_t k = n, seen = 0; k > 0 && seen < 3; --k, ++seen) {
        const Token& t = s.tokens[k - 1];
        if (is_secret_keyword(t)) after_keyword = true;
        if (t.kind != ENCRYPTED && t.kind != '=' && !is_secret_keyword(t)) break;
    }
    const std::string rest = text.substr(s.stopped_at);
    if (after_keyword || mentions_secret(rest)) {
        out.ranges.emplace_back(s.stopped_at, text.size());
        std::string trimmed = rest;
        while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
        add_value(out, trimmed);
        if (trimmed.size() > 1) add_value(out, trimmed.substr(1));  // without its opening quote
    }
}

bool is_secret_option(const DefElem* opt) {
    return opt->defname != nullptr &&
           (pg_strcasecmp(opt->defname, "password") == 0 || pg_strcasecmp(opt->defname, "passfile") == 0 ||
            pg_strcasecmp(opt->defname, "sslpassword") == 0);
}

void secret_options(List* options, const std::string& text, const Scan& s, Found& out) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (!is_secret_option(opt) || opt->location < 0) continue;
        if (const auto i = literal_after(s, static_cast<size_t>(opt->location), 2)) take_token(text, s, *i, out);
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

// DO '...' and CREATE FUNCTION/PROCEDURE ... AS '...': the body literal, withheld whole when it
// mentions a secret. DO's "as" option points at the literal; a function's at the AS keyword.
void body_option(List* options, const std::string& text, const Scan& s, Found& out, int depth) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        const auto* opt = static_cast<DefElem*>(lfirst(cell));
        if (opt->defname == nullptr || strcmp(opt->defname, "as") != 0 || opt->arg == nullptr || opt->location < 0) {
            continue;
        }
        std::vector<std::string> parts;  // DO: one string; a function: its body (and a C symbol)
        if (IsA(opt->arg, String)) {
            parts.emplace_back(strVal(opt->arg));
        } else if (IsA(opt->arg, List)) {
            ListCell* part = nullptr;
            foreach (part, castNode(List, opt->arg)) {
                if (IsA(lfirst(part), String)) parts.emplace_back(strVal(lfirst(part)));
            }
        }
        bool secret = false;
        for (const std::string& p : parts) secret = secret || mentions_secret(p);
        if (!secret) continue;
        const auto i = literal_after(s, static_cast<size_t>(opt->location), 0);
        if (!i) continue;
        out.ranges.emplace_back(s.tokens[*i].start, token_end(text, s, *i));
        for (const std::string& p : parts) body_values(p, out, depth);
    }
}

void find_secrets(const std::string& text, Found& out, int depth) {
    List* parsed = nullptr;
    bool parses = true;
    try {
        const char* source = text.c_str();
        parsed = pg::call_isolated([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        parses = false;  // call_isolated rolled its subtransaction back
    }
    const Scan s = scan(text);
    if (!parses) {
        token_secrets(text, s, out, depth);
        return;
    }
    ListCell* cell = nullptr;
    foreach (cell, parsed) {
        Node* stmt = lfirst_node(RawStmt, cell)->stmt;
        if (IsA(stmt, CreateRoleStmt) || IsA(stmt, AlterRoleStmt)) {
            List* options = IsA(stmt, CreateRoleStmt) ? castNode(CreateRoleStmt, stmt)->options
                                                      : castNode(AlterRoleStmt, stmt)->options;
            secret_options(options, text, s, out);
        } else if (IsA(stmt, CreateSubscriptionStmt) || IsA(stmt, AlterSubscriptionStmt)) {
            // The connection string has no location of its own: it is the literal after CONNECTION,
            // searched within the statement only (ALTER SUBSCRIPTION ... ENABLE has none).
            const RawStmt* raw = lfirst_node(RawStmt, cell);
            const size_t from = static_cast<size_t>(std::max(0, raw->stmt_location));
            const auto start = first_token_at(s, from);
            const auto stop =
                raw->stmt_len > 0 ? first_token_at(s, from + static_cast<size_t>(raw->stmt_len)) : s.tokens.end();
            const auto keyword = std::find_if(start, stop, [](const Token& t) { return t.kind == CONNECTION; });
            if (keyword != stop) {
                if (const auto i = literal_after(s, keyword->start + 1, 0)) take_token(text, s, *i, out, true);
            }
            if (IsA(stmt, CreateSubscriptionStmt)) {
                secret_options(castNode(CreateSubscriptionStmt, stmt)->options, text, s, out);
            }
        } else if (IsA(stmt, DoStmt)) {
            body_option(castNode(DoStmt, stmt)->args, text, s, out, depth);
        } else if (IsA(stmt, CreateFunctionStmt)) {
            body_option(castNode(CreateFunctionStmt, stmt)->options, text, s, out, depth);
        } else {
            secret_options(fdw_options(stmt), text, s, out);
        }
    }
}

std::string replace_ranges(const std::string& text, std::vector<std::pair<size_t, size_t>> ranges) {
    if (ranges.empty()) return text;
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    size_t pos = 0;
    for (const auto& [start, end] : ranges) {
        if (start < pos) continue;
        out.append(text, pos, start - pos);
        out.append(kRedacted);
        pos = end;
    }
    out.append(text, pos, std::string::npos);
    return out;
}

bool parses(const std::string& text) {
    try {
        const char* source = text.c_str();
        pg::call_isolated([source] { return raw_parser(source, RAW_PARSE_DEFAULT); });
        return true;
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return false;
    }
}

bool at_line_start(const std::string& text, size_t pos) { return pos == 0 || text[pos - 1] == '\n'; }

// The next line of `context` (from `from`) that quotes a statement: the offset of its text (after
// the opening quote), or npos.
size_t next_quoted(const std::string& context, size_t from) {
    static constexpr std::string_view kMarkers[] = {"SQL statement \"", "SQL expression \"", "PL/pgSQL assignment \""};
    size_t best = std::string::npos, best_text = std::string::npos;
    for (const std::string_view marker : kMarkers) {
        for (size_t at = context.find(marker, from); at != std::string::npos; at = context.find(marker, at + 1)) {
            if (!at_line_start(context, at)) continue;
            if (at < best) {
                best = at;
                best_text = at + marker.size();
            }
            break;
        }
    }
    return best_text;
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
        case T_DoStmt:
        case T_CreateFunctionStmt:
            return true;
        default:
            return false;
    }
}

bool mentions_secret(const std::string& text) {
    static constexpr std::string_view kWords[] = {"password", "connection", "passfile"};
    for (const std::string_view word : kWords) {
        const auto hit = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
        });
        if (hit != text.end()) return true;
    }
    return false;
}

std::string redact_statement(const std::string& statement) {
    if (!mentions_secret(statement)) return statement;  // every rule needs one of these words
    Found found;
    find_secrets(statement, found, 0);
    return replace_ranges(statement, found.ranges);
}

std::vector<std::string> secret_values(const std::string& statement) {
    if (!mentions_secret(statement)) return {};
    Found found;
    find_secrets(statement, found, 0);
    return found.values;
}

std::string mask_values(const std::string& text, const std::vector<std::string>& values) {
    std::vector<std::string> sorted;
    for (const std::string& v : values) {
        if (v.size() >= kMinMaskedValue) sorted.push_back(v);
    }
    // Longest first, so that a value containing another is masked whole.
    std::sort(sorted.begin(), sorted.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    std::string out = text;
    for (const std::string& v : sorted) {
        for (size_t at = out.find(v); at != std::string::npos; at = out.find(v, at + std::strlen(kMasked))) {
            out.replace(at, v.size(), kMasked);
        }
    }
    return out;
}

std::string redact_context(const std::string& context) {
    if (!mentions_secret(context)) return context;
    std::string out;
    size_t pos = 0;
    for (size_t start = next_quoted(context, pos); start != std::string::npos; start = next_quoted(context, pos)) {
        out.append(context, pos, start - pos);
        // The quoted text runs to a quote that ends a line, but the text itself may hold such quotes:
        // take the longest candidate before the next quoting line that parses as SQL, and redact
        // whatever follows it token by token, so that a wrong cut still hides every secret.
        const size_t next = next_quoted(context, start);
        const size_t region_end = next == std::string::npos ? context.size() : context.rfind('\n', next);
        std::vector<size_t> ends;
        for (size_t q = context.find('"', start); q != std::string::npos && q < region_end;
             q = context.find('"', q + 1)) {
            if (q + 1 == context.size() || context[q + 1] == '\n') ends.push_back(q);
        }
        const std::string region = context.substr(start, region_end - start);
        bool done = false;
        for (auto it = ends.rbegin(); it != ends.rend() && it - ends.rbegin() < 8 && !done; ++it) {
            const std::string quoted = context.substr(start, *it - start);
            if (!parses(quoted)) continue;
            out += redact_statement(quoted);
            out += redact_statement(context.substr(*it, region_end - *it));
            done = true;
        }
        if (!done) out += redact_statement(region);
        pos = region_end;
    }
    out.append(context, pos, std::string::npos);
    return out;
}

Error safe_error(const Error& e, const std::string& statement) {
    const std::vector<std::string> values = secret_values(statement);
    Error out(e.sqlstate(), mask_values(e.message(), values), mask_values(e.detail(), values),
              mask_values(e.hint(), values));
    out.with_context(mask_values(redact_context(e.context()), values));
    out.caused_by(e);
    return out;
}

}  // namespace pgmig

// pgmig.redact(statement) -> the statement with its secrets replaced.
PGMIG_FUNCTION_ANY_SQL(pgmig_redact) {
    return pgmig::pg::text_datum(pgmig::redact_statement(*pgmig::pg::text_arg(fcinfo, 0)));  // declared STRICT
}

// pgmig.redact_message(statement, message) -> message with the statement's secret values masked.
PGMIG_FUNCTION_ANY_SQL(pgmig_redact_message) {
    const std::optional<std::string> statement = pgmig::pg::text_arg(fcinfo, 0);
    const std::optional<std::string> message = pgmig::pg::text_arg(fcinfo, 1);
    if (!message) PG_RETURN_NULL();
    if (!statement) return pgmig::pg::text_datum(*message);
    return pgmig::pg::text_datum(pgmig::mask_values(*message, pgmig::secret_values(*statement)));
}
