// A small tokenizer for the head of a CREATE INDEX CONCURRENTLY statement (see sql_names.hpp).
#include "client/core/sql_names.hpp"

#include <cctype>
#include <vector>

namespace pgmig::client {

namespace {

struct Token {
    std::string text;     // identifier (folded or unquoted) or one punctuation character
    bool quoted = false;  // a "quoted identifier"
};

// Tokens of the statement's head, up to the first '(' (enough to reach the table name).
std::vector<Token> head_tokens(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (s.substr(i, 2) == "--") {
            const std::size_t nl = s.find('\n', i);
            i = nl == std::string_view::npos ? s.size() : nl + 1;
        } else if (s.substr(i, 2) == "/*") {
            const std::size_t end = s.find("*/", i + 2);
            i = end == std::string_view::npos ? s.size() : end + 2;
        } else if (c == '"') {
            Token t{"", true};
            ++i;
            while (i < s.size()) {
                if (s[i] == '"') {
                    if (i + 1 < s.size() && s[i + 1] == '"') {
                        t.text.push_back('"');
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                t.text.push_back(s[i++]);
            }
            out.push_back(std::move(t));
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
            Token t;
            while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$' ||
                                    static_cast<unsigned char>(s[i]) >= 0x80)) {
                t.text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[i]))));
                ++i;
            }
            out.push_back(std::move(t));
        } else {
            if (c == '(') break;
            out.push_back(Token{std::string(1, c), false});
            ++i;
        }
    }
    return out;
}

}  // namespace

std::optional<IndexTarget> concurrent_index_target(std::string_view statement) {
    const std::vector<Token> t = head_tokens(statement);
    std::size_t i = 0;
    auto keyword = [&](const char* word) {
        if (i < t.size() && !t[i].quoted && t[i].text == word) {
            ++i;
            return true;
        }
        return false;
    };
    if (!keyword("create")) return std::nullopt;
    keyword("unique");
    if (!keyword("index") || !keyword("concurrently")) return std::nullopt;
    const std::size_t before_if = i;
    if (!(keyword("if") && keyword("not") && keyword("exists"))) i = before_if;
    if (i >= t.size() || (!t[i].quoted && t[i].text == "on")) return std::nullopt;  // no name given
    IndexTarget target;
    target.index = t[i++].text;
    if (!keyword("on")) return std::nullopt;
    keyword("only");
    if (i >= t.size() || t[i].text.empty()) return std::nullopt;
    target.table = quote_identifier(t[i++].text);
    if (i + 1 < t.size() && !t[i].quoted && t[i].text == ".") {
        target.table += "." + quote_identifier(t[i + 1].text);
    }
    return target;
}

}  // namespace pgmig::client
