// Secrets out of statement text: password literals found from PostgreSQL's parse tree and core
// scanner (never a regular expression), replaced before text reaches a log, a NOTICE or a table.
#pragma once

#include <string>

namespace pgmig {

inline constexpr const char* kRedacted = "'********'";

// `statement` with every secret literal replaced by kRedacted: role passwords (CREATE/ALTER
// ROLE/USER ... [ENCRYPTED] PASSWORD '...'), "password" options of user mappings, foreign
// servers, foreign tables and wrappers, and subscription connection strings. A statement that
// does not parse is returned as kRedacted whole when it looks like it could carry a secret.
std::string redact_statement(const std::string& statement);

}  // namespace pgmig
