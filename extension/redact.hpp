// Secrets out of statement text: password literals found from PostgreSQL's parse tree and core
// scanner (never a regular expression), replaced before text reaches a log, a NOTICE or a table.
#pragma once

#include <string>

struct Node;  // PostgreSQL's parse-tree node

namespace pgmig {

inline constexpr const char* kRedacted = "'********'";

// `statement` with every secret literal replaced by kRedacted: role passwords (CREATE/ALTER
// ROLE/USER ... [ENCRYPTED] PASSWORD '...'), "password" options of user mappings, foreign
// servers, foreign tables and wrappers, and subscription connection strings. A statement that
// does not parse is returned as kRedacted whole when it looks like it could carry a secret.
std::string redact_statement(const std::string& statement);

// Whether a statement of this kind (a raw parse tree node) can carry a secret at all; the hot
// path of the event triggers redacts only those.
bool kind_may_hold_secret(const Node* stmt);

// Whether text that cannot be parsed into its own statements (a DO block, a function body)
// mentions a secret-bearing keyword: then it is withheld whole.
bool mentions_secret(const std::string& text);

}  // namespace pgmig
