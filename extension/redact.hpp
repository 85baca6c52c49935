// Secrets out of statement text: password literals found from PostgreSQL's parse tree and core
// scanner (never a regular expression), replaced before text reaches a log, a NOTICE, an error or a table.
#pragma once

#include <string>
#include <vector>

#include "errors.hpp"

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig {

inline constexpr const char* kRedacted = "'********'";
inline constexpr const char* kMasked = "********";  // a secret value found in free text (an error message)

// `statement` (one statement or a whole script) with every secret replaced by kRedacted:
// - from the parse tree: role passwords (CREATE/ALTER ROLE/USER ... [ENCRYPTED] PASSWORD '...'),
//   "password", "passfile" and "sslpassword" options of user mappings, foreign servers, foreign
//   tables and wrappers, subscription connection strings; and the body of a DO block or of a
//   function or procedure (AS '...') that mentions a secret-bearing keyword, replaced whole (a body
//   is PL/pgSQL or another language, whose secrets may flow through variables);
// - text that does not parse, from the core scanner's tokens: the literal (or bare word) after
//   PASSWORD, CONNECTION, passfile or sslpassword, any string literal that itself mentions a secret
//   (a body, an EXECUTE string, a connection string), and, when the scanner stops at an unterminated
//   literal right after such a keyword, the rest of the text.
std::string redact_statement(const std::string& statement);

// Whether a statement of this kind (a raw parse tree node) can carry a secret at all; the hot
// path of the event triggers redacts only those.
bool kind_may_hold_secret(const Node* stmt);

// Whether text mentions a secret-bearing keyword (password, connection, passfile), in any case.
// Every rule of redact_statement needs one, so text without any is left alone unparsed.
bool mentions_secret(const std::string& text);

// The secret values of `statement`: what redact_statement replaces, unquoted, and inside a body it
// withholds the literals after secret-bearing keywords (recursively into EXECUTE strings), so that
// they can be masked in text core builds from them (an error message quoting a token, a context
// line quoting a statement run by a function).
std::vector<std::string> secret_values(const std::string& statement);

// `text` with every occurrence of each value (of at least 4 bytes: shorter ones would mask common
// words) replaced by kMasked.
std::string mask_values(const std::string& text, const std::vector<std::string>& values);

// An error context (lines added by error-context callbacks) with the statement each
// `SQL statement "..."`, `SQL expression "..."` and `PL/pgSQL assignment "..."` line quotes
// passed through redact_statement.
std::string redact_context(const std::string& context);

// The error `e` raised while running `statement`, safe to show: its context redacted and the
// secret values of `statement` masked in its message, detail, hint and context.
Error safe_error(const Error& e, const std::string& statement);

}  // namespace pgmig
