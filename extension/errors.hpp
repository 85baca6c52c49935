// pgmig's own error kinds: one SQLSTATE each (common/errors.def, docs/errors.md), raised as pgmig::Error.
#pragma once

#include <cstddef>
#include <exception>
#include <iterator>
#include <source_location>
#include <string>
#include <utility>

namespace pgmig {

// The same packing as PostgreSQL's MAKE_SQLSTATE, without pulling PostgreSQL headers in here.
constexpr int make_sqlstate(const char (&s)[6]) {
    int code = 0;
    for (int i = 0; i < 5; ++i) code += ((s[i] - '0') & 0x3F) << (6 * i);
    return code;
}

namespace sqlstate {
// pgmig's own, class PM: one constant per row of common/errors.def, the table docs/errors.md is made from.
#define PGMIG_SQLSTATE(name, code, exit_kind, meaning, next_step) inline constexpr int name = make_sqlstate(code);
#include "common/errors.def"

// Standard codes used as they are.
inline constexpr int insufficient_privilege = make_sqlstate("42501");
inline constexpr int internal_error = make_sqlstate("XX000");
inline constexpr int out_of_memory = make_sqlstate("53200");
}  // namespace sqlstate

namespace error_table {
// A code listed twice would make two error kinds one to every caller: refused when compiling.
inline constexpr int pgmig_sqlstates[] = {
#define PGMIG_SQLSTATE(name, code, exit_kind, meaning, next_step) make_sqlstate(code),
#include "common/errors.def"
};
constexpr bool all_distinct(const int* codes, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (codes[i] == codes[j]) return false;
    return true;
}
static_assert(all_distinct(pgmig_sqlstates, std::size(pgmig_sqlstates)), "common/errors.def lists a SQLSTATE twice");
}  // namespace error_table

// Where an error was raised: a C++ site (std::source_location at the throw) or, for an error caught
// from PostgreSQL, the C function that called ereport. The strings are static (string literals of
// the compiler or of PostgreSQL's own ereport sites): they are reported in `LOCATION:`.
struct ErrorOrigin {
    const char* file = nullptr;
    int line = 0;
    const char* function = nullptr;      // a plain C name, as PostgreSQL's __func__
    const char* cxx_function = nullptr;  // std::source_location's signature, trimmed when reported
};

// The fields of PostgreSQL's ErrorData that name the object involved (GET STACKED DIAGNOSTICS
// SCHEMA_NAME, TABLE_NAME, COLUMN_NAME, PG_DATATYPE_NAME, CONSTRAINT_NAME), and the part of the
// detail meant only for the server log. Empty when unknown.
struct ErrorObjects {
    std::string schema;
    std::string table;
    std::string column;
    std::string datatype;
    std::string constraint;
    std::string detail_log;
};

// A user-facing error: what failed (message), the facts (detail), what to do next (hint).
// When a PostgreSQL error is the cause, its SQLSTATE is kept and its fields are carried along.
class Error : public std::exception {
  public:
    Error(int sqlstate, std::string message, std::string detail = {}, std::string hint = {},
          const std::source_location& where = std::source_location::current())
        : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {
        origin_.file = where.file_name();
        origin_.line = static_cast<int>(where.line());
        origin_.cxx_function = where.function_name();
    }

    const char* what() const noexcept override { return message_.c_str(); }
    int sqlstate() const noexcept { return sqlstate_; }
    const std::string& message() const noexcept { return message_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }
    const std::string& context() const noexcept { return context_; }
    const ErrorOrigin& origin() const noexcept { return origin_; }
    const ErrorObjects& objects() const noexcept { return objects_; }
    Error& with_context(std::string context) {
        context_ = std::move(context);
        return *this;
    }
    // An error that rewords `cause` (names the migration, redacts a secret) keeps where it came
    // from and the objects it names: a constraint violation still says which constraint.
    Error& caused_by(const Error& cause) {
        origin_ = cause.origin_;
        objects_ = cause.objects_;
        return *this;
    }

  protected:
    ErrorOrigin origin_;
    ErrorObjects objects_;

  private:
    int sqlstate_;
    std::string message_;
    std::string detail_;
    std::string hint_;
    std::string context_;
};

}  // namespace pgmig
