// "1 script", "2 scripts": a count with its noun, singular for exactly one, for the client's messages.
#pragma once

#include <string>
#include <string_view>

namespace pgmig::client {

// `plural` defaults to `singular` + "s".
inline std::string counted(long long n, std::string_view singular, std::string_view plural = {}) {
    std::string out = std::to_string(n) + ' ';
    if (n == 1) return out.append(singular);
    if (!plural.empty()) return out.append(plural);
    return out.append(singular).append("s");
}

}  // namespace pgmig::client
