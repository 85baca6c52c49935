// Parsing of durations (see duration.hpp).
#include "duration.hpp"

#include <cctype>
#include <climits>

namespace pgmig::common {

std::optional<int> parse_duration_ms(std::string_view text) {
    auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && blank(text.back())) text.remove_suffix(1);
    std::size_t i = 0;
    long long value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + (text[i] - '0');
        if (value > INT_MAX) return std::nullopt;
        ++i;
    }
    if (i == 0) return std::nullopt;
    std::string_view unit = text.substr(i);
    while (!unit.empty() && blank(unit.front())) unit.remove_prefix(1);
    long long factor = 0;
    if (unit.empty() || unit == "ms") {
        factor = 1;
    } else if (unit == "s") {
        factor = 1000;
    } else if (unit == "min") {
        factor = 60000;
    } else {
        return std::nullopt;
    }
    if (value * factor > INT_MAX) return std::nullopt;
    return static_cast<int>(value * factor);
}

}  // namespace pgmig::common

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
