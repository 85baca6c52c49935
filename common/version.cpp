// Version grammar and natural ordering (see version.hpp for the rule).
#include "version.hpp"

namespace pgmig::common {

namespace {
constexpr std::size_t kMaxGroupDigits = 255;  // one length byte per group
constexpr std::size_t kMaxVersionLength = 200;
}  // namespace

std::optional<std::string> version_problem(std::string_view version) {
    if (version.empty()) return std::string("the version is empty");
    if (version.size() > kMaxVersionLength) return std::string("the version is longer than 200 characters");
    std::size_t group = 0;
    for (std::size_t i = 0; i < version.size(); ++i) {
        const char c = version[i];
        if (c == '.') {
            if (group == 0) return std::string("a '.' must stand between two groups of digits");
            group = 0;
        } else if (c >= '0' && c <= '9') {
            if (++group > kMaxGroupDigits) return std::string("a group of digits is longer than 255");
        } else {
            return "the character '" + std::string(1, c) + "' is not allowed (versions are digits separated by '.')";
        }
    }
    if (group == 0) return std::string("a '.' must stand between two groups of digits");
    return std::nullopt;
}

std::string version_sort_key(std::string_view version) {
    std::string key;
    key.reserve(version.size() + 4);
    std::size_t pos = 0;
    while (pos <= version.size()) {
        std::size_t dot = version.find('.', pos);
        if (dot == std::string_view::npos) dot = version.size();
        std::string_view group = version.substr(pos, dot - pos);
        while (!group.empty() && group.front() == '0') group.remove_prefix(1);
        key.push_back(static_cast<char>(group.size()));
        key.append(group);
        pos = dot + 1;
    }
    return key;
}

int compare_versions(std::string_view a, std::string_view b) {
    return version_sort_key(a).compare(version_sort_key(b));
}

}  // namespace pgmig::common

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
