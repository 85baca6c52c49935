// quote_identifier(): PostgreSQL's own rule (ruleutils.c) over PostgreSQL's own keyword list (the
// PG_KEYWORD lines of the server's parser/kwlist.h, copied into pg_keywords.inc by CMakeLists.txt).
#include "client/core/sql_names.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace pgmig::client {
namespace {

enum KeywordCategory { UNRESERVED_KEYWORD, COL_NAME_KEYWORD, TYPE_FUNC_NAME_KEYWORD, RESERVED_KEYWORD };

struct Keyword {
    std::string_view word;
    KeywordCategory category;
};

// One PG_KEYWORD(name, token, category, label) line per keyword, in ASCII order, as in kwlist.h.
#define PG_KEYWORD(kwname, value, category, collabel) Keyword{kwname, category},
// A plain array: deducing std::array's size from 450+ elements exceeds clang's fold-expression limit.
constexpr Keyword kKeywords[] = {
#include "pg_keywords.inc"
};
#undef PG_KEYWORD

static_assert(std::is_sorted(std::begin(kKeywords), std::end(kKeywords),
                             [](const Keyword& a, const Keyword& b) { return a.word < b.word; }),
              "parser/kwlist.h is in ASCII order (the server's ScanKeywordLookup relies on it too)");

bool needs_quotes_as_keyword(std::string_view name) {
    const auto it = std::lower_bound(std::begin(kKeywords), std::end(kKeywords), name,
                                     [](const Keyword& k, std::string_view n) { return k.word < n; });
    return it != std::end(kKeywords) && it->word == name && it->category != UNRESERVED_KEYWORD;
}

}  // namespace

std::string quote_identifier(const std::string& name) {
    bool safe = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
    for (const char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) safe = false;
    }
    if (safe && !needs_quotes_as_keyword(name)) return name;
    std::string out = "\"";
    for (const char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

}  // namespace pgmig::client
