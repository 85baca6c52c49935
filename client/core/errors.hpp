// The client's error kinds and their exit codes (common/errors.def, docs/errors.md) and the one error line format.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace pgmig::client {

// Each kind of failure and its exit code: the PGMIG_EXIT_CODE rows of common/errors.def, in the order of their codes.
enum class ErrorKind {
#define PGMIG_EXIT_CODE(kind, exit_code, summary, meaning) kind,
#include "common/errors.def"
};

struct ErrorKindInfo {
    ErrorKind kind;
    int exit_code;
    std::string_view name;     // the kind in --json output and the audit log: "input", "approval_missing"...
    std::string_view meaning;  // its line in --help
};

inline constexpr int kExitOk = 0;

inline constexpr auto kErrorKinds = std::to_array<ErrorKindInfo>({
#define PGMIG_EXIT_CODE(kind, exit_code, summary, meaning) {ErrorKind::kind, exit_code, #kind, summary},
#include "common/errors.def"
});

// What the client exits with when the server raises one of pgmig's own SQLSTATEs (the exit_kind of a
// PGMIG_SQLSTATE row).
struct SqlstateKind {
    std::string_view sqlstate;
    ErrorKind kind;
};

inline constexpr auto kSqlstateKinds = std::to_array<SqlstateKind>({
#define PGMIG_SQLSTATE(name, sqlstate, exit_kind, meaning, next_step) {sqlstate, ErrorKind::exit_kind},
#include "common/errors.def"
});

namespace error_table {
// An exit code listed twice, or 0 (success), would make two outcomes one to a script, and a SQLSTATE listed twice
// would exit by whichever row comes first: refused when compiling.
constexpr bool exit_codes_distinct() {
    for (std::size_t i = 0; i < kErrorKinds.size(); ++i) {
        if (kErrorKinds[i].exit_code == kExitOk) return false;
        for (std::size_t j = i + 1; j < kErrorKinds.size(); ++j)
            if (kErrorKinds[i].exit_code == kErrorKinds[j].exit_code) return false;
    }
    return true;
}
static_assert(exit_codes_distinct(), "common/errors.def lists an exit code twice, or 0");
constexpr bool sqlstates_distinct() {
    for (std::size_t i = 0; i < kSqlstateKinds.size(); ++i)
        for (std::size_t j = i + 1; j < kSqlstateKinds.size(); ++j)
            if (kSqlstateKinds[i].sqlstate == kSqlstateKinds[j].sqlstate) return false;
    return true;
}
static_assert(sqlstates_distinct(), "common/errors.def lists a SQLSTATE twice");
}  // namespace error_table

int exit_code(ErrorKind kind);

// A short name of the kind for machine-readable output (the audit log): "input", "approval_missing"...
std::string_view kind_name(ErrorKind kind);

// The error kind of a SQLSTATE raised by the server (class PM for pgmig's own errors); anything else is
// a migration's own failure (migration_failed).
ErrorKind kind_for_sqlstate(std::string_view sqlstate);

// "Exit codes:" block for the --help footer, made from kErrorKinds.
std::string exit_codes_help();

// A failure reported to the user as one line:
//   pgmig: error: <what failed>, <where>; <what to do next>
// optionally followed by "hint: ..." (the server's hint, for server errors).
class Error : public std::exception {
  public:
    Error(ErrorKind kind, std::string what_failed, std::string where = {}, std::string next_step = {},
          std::string hint = {})
        : kind_(kind),
          what_failed_(std::move(what_failed)),
          where_(std::move(where)),
          next_step_(std::move(next_step)),
          hint_(std::move(hint)),
          line_(format_line()) {}

    const char* what() const noexcept override { return line_.c_str(); }
    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const { return client::exit_code(kind_); }
    const std::string& what_failed() const noexcept { return what_failed_; }
    const std::string& where() const noexcept { return where_; }
    const std::string& next_step() const noexcept { return next_step_; }
    const std::string& hint() const noexcept { return hint_; }
    // The error line without the "pgmig: error: " prefix.
    const std::string& line() const noexcept { return line_; }

  private:
    std::string format_line() const;

    ErrorKind kind_;
    std::string what_failed_;
    std::string where_;
    std::string next_step_;
    std::string hint_;
    std::string line_;
};

// Text on one line: every run of whitespace (newlines included) becomes one space, ends trimmed.
std::string one_line(std::string_view text);

// Prints the error to stderr and returns its exit code.
int report(const Error& error);

}  // namespace pgmig::client
