// Values across the SQL boundary: text arguments in, text results and result rows out.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <optional>
#include <string>
#include <vector>

namespace pgmig::pg {

// Argument n as text, or nullopt for SQL NULL (the argument must be of a text type).
std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n);
// The same, refusing NULL with an error that names the argument `what` (PM007).
std::string required_text_arg(FunctionCallInfo fcinfo, int n, const char* what);
// Any argument in its type's text form (interval, jsonb...), or nullopt for SQL NULL.
std::optional<std::string> arg_as_text(FunctionCallInfo fcinfo, int n);

// A text / bytea result, allocated in result_context() so that it outlives the body's SPI connection.
Datum text_datum(const std::string& s);
Datum bytea_datum(const std::string& bytes);

// Returns the rows of a set-returning function (materialize mode), each value in its column type's
// text form (nullopt = NULL). Call it last, once every row is known.
using TextRow = std::vector<std::optional<std::string>>;
void return_rows(FunctionCallInfo fcinfo, const std::vector<TextRow>& rows);

}  // namespace pgmig::pg
