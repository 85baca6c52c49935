// The error table's helpers and the one-line error format.
#include "client/core/errors.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>

namespace pgmig::client {

// kErrorKinds and ErrorKind are expanded from the same rows in the same order: a kind is its row's index.
constexpr bool kinds_in_row_order() {
    for (std::size_t i = 0; i < kErrorKinds.size(); ++i)
        if (kErrorKinds[i].kind != static_cast<ErrorKind>(i)) return false;
    return true;
}
static_assert(kinds_in_row_order());

int exit_code(ErrorKind kind) {
    const auto i = static_cast<std::size_t>(kind);
    return i < kErrorKinds.size() ? kErrorKinds[i].exit_code : 1;
}

std::string_view kind_name(ErrorKind kind) {
    const auto i = static_cast<std::size_t>(kind);
    return i < kErrorKinds.size() ? kErrorKinds[i].name : "internal";
}

ErrorKind kind_for_sqlstate(std::string_view sqlstate) {
    const auto* row = std::find_if(kSqlstateKinds.begin(), kSqlstateKinds.end(),
                                   [sqlstate](const SqlstateKind& r) { return r.sqlstate == sqlstate; });
    return row != kSqlstateKinds.end() ? row->kind : ErrorKind::migration_failed;
}

std::string exit_codes_help() {
    std::string out = "Exit codes:\n";
    out += fmt::format("  {}  success\n", kExitOk);
    for (const auto& info : kErrorKinds) out += fmt::format("  {}  {}\n", info.exit_code, info.meaning);
    return out;
}

std::string one_line(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = !out.empty();
        } else {
            if (space) out.push_back(' ');
            space = false;
            out.push_back(c);
        }
    }
    return out;
}

std::string Error::format_line() const {
    std::string out = one_line(what_failed_);
    if (!where_.empty()) out += ", " + one_line(where_);
    if (!next_step_.empty()) out += "; " + one_line(next_step_);
    return out;
}

int report(const Error& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "pgmig: error: %s\n", error.line().c_str());
    if (!error.hint().empty()) std::fprintf(stderr, "hint: %s\n", one_line(error.hint()).c_str());
    return error.exit_code();
}

}  // namespace pgmig::client
