// "1 script", "2 scripts": a count with its noun, singular for exactly one, for the client's messages.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace pgmig::client {

// `plural` defaults to `singular` + "s". Any integer: a size, a row count, a long.
template <std::integral N>
std::string counted(N n, std::string_view singular, std::string_view plural = {}) {
    std::string out = std::to_string(n) + ' ';
    if (n == 1) return out.append(singular);
    if (!plural.empty()) return out.append(plural);
    return out.append(singular).append("s");
}

}  // namespace pgmig::client
