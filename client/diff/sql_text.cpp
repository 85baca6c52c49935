// SQL writing: identifier quoting, literals, comment text, file-safe SQL and render().
#include "client/diff/engine.hpp"
#include "client/core/sql_names.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace pgmig::schema_diff::detail {

std::string qi(const std::string& name) { return client::quote_identifier(name); }

std::string literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

std::string rtrim_semicolon(std::string s) {
    while (!s.empty() && (s.back() == ';' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string replace_word(const std::string& text, const std::string& from, const std::string& to) {
    if (from.empty()) return text;
    auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; };
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        auto p = text.find(from, i);
        if (p == std::string::npos) break;
        bool left = p == 0 || !ident_char(text[p - 1]);
        bool right = p + from.size() >= text.size() || !ident_char(text[p + from.size()]);
        out += text.substr(i, p - i);
        out += (left && right) ? to : from;
        i = p + from.size();
    }
    return out + text.substr(i);
}

}  // namespace pgmig::schema_diff::detail

namespace pgmig::schema_diff {

std::string comment_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

namespace {

bool ident_char(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '$' || c >= 0x80; }

// A line that pgmig (or an older pgmig, or a grep) could take for "-- pgmig:..." once it stands alone
// (after a LF or a CR).
bool has_pgmig_line(std::string_view text) {
    const auto blank = [&](std::size_t k) {
        return k < text.size() && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\f' ||
                                   text[k] == '\v' || text[k] == '\n');
    };
    for (std::size_t pos = text.find_first_of("\n\r"); pos != std::string_view::npos;
         pos = text.find_first_of("\n\r", pos + 1)) {
        std::size_t i = pos + 1;
        while (blank(i)) ++i;
        if (text.compare(i, 2, "--") != 0) continue;
        i += 2;
        while (blank(i)) ++i;
        if (text.compare(i, 6, "pgmig:") == 0) return true;
    }
    return false;
}

// The body of a string as E'...': quotes doubled, backslashes and control characters escaped.
std::string e_literal(std::string_view body) {
    std::string out = "E'";
    for (const char c : body) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\'') {
            out += "''";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out + "'";
}

// A quoted identifier's name as U&"...": control characters as \XXXX, backslashes doubled.
std::string u_identifier(std::string_view name) {
    std::string out = "U&\"";
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"') {
            out += "\"\"";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\{:04X}", u);
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

std::string file_safe_sql(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    const std::size_t n = sql.size();
    std::size_t i = 0;
    bool in_word = false;  // inside an identifier or keyword (a quote or $ there belongs to it)
    while (i < n) {
        const char c = sql[i];
        if (c == '-' && i + 1 < n && sql[i + 1] == '-') {  // a comment to the end of the line, as it is
            const std::size_t end = std::min(sql.find('\n', i), n);
            out.append(sql, i, end - i);
            i = end;
            in_word = false;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            int depth = 0;
            std::size_t j = i;
            do {
                if (sql.compare(j, 2, "/*") == 0) {
                    ++depth;
                    j += 2;
                } else if (sql.compare(j, 2, "*/") == 0) {
                    --depth;
                    j += 2;
                } else {
                    ++j;
                }
            } while (j < n && depth > 0);
            out.append(sql, i, std::min(j, n) - i);
            i = std::min(j, n);
            in_word = false;
        } else if (c == '"') {
            std::string name;
            std::size_t j = i + 1;
            bool control = false;
            for (; j < n; ++j) {
                if (sql[j] == '"') {
                    if (j + 1 < n && sql[j + 1] == '"') {
                        name += '"';
                        ++j;
                        continue;
                    }
                    break;
                }
                const auto u = static_cast<unsigned char>(sql[j]);
                control = control || u < 0x20 || u == 0x7f;
                name += sql[j];
            }
            const std::size_t end = std::min(j + 1, n);
            if (control && j < n && !(i > 0 && sql[i - 1] == '&')) {
                out += u_identifier(name);
            } else {
                out.append(sql, i, end - i);
            }
            i = end;
            in_word = false;
        } else if (c == '\'') {
            // E'...' when the E stands alone; any other prefix (B, X, N, U&) is left as it is.
            const bool e_string = in_word && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                  (i < 2 || !ident_char(static_cast<unsigned char>(sql[i - 2])));
            const bool plain = !in_word && !(i > 0 && sql[i - 1] == '&');
            std::string body;  // the string's value (standard strings) or its escaped text (E strings)
            std::size_t j = i + 1;
            for (; j < n; ++j) {
                if (e_string && sql[j] == '\\' && j + 1 < n) {
                    body += sql[j];
                    body += sql[++j];
                    continue;
                }
                if (sql[j] == '\'') {
                    if (j + 1 < n && sql[j + 1] == '\'') {
                        body += e_string ? "''" : "'";
                        ++j;
                        continue;
                    }
                    break;
                }
                body += sql[j];
            }
            const std::size_t end = std::min(j + 1, n);
            if (j < n && has_pgmig_line(body) && plain) {
                out += e_literal(body);
            } else if (j < n && has_pgmig_line(body) && e_string) {
                std::string text;  // raw line breaks in an E string are its own escapes' equals
                for (const char b : body) text += b == '\n' ? "\\n" : b == '\r' ? "\\r" : std::string(1, b);
                out.pop_back();  // the E, written again below
                out += "E'" + text + "'";
            } else {
                out.append(sql, i, end - i);
            }
            i = end;
            in_word = false;
        } else if (c == '$' && !in_word) {
            // $tag$ ... $tag$ (a function body): only rewritten when a line of it could pass for a directive.
            std::size_t k = i + 1;
            if (k < n && (std::isalpha(static_cast<unsigned char>(sql[k])) != 0 || sql[k] == '_' ||
                          static_cast<unsigned char>(sql[k]) >= 0x80)) {
                while (k < n && sql[k] != '$' && ident_char(static_cast<unsigned char>(sql[k]))) ++k;
            }
            if (k < n && sql[k] == '$') {
                const std::string_view tag = sql.substr(i, k + 1 - i);
                const std::size_t close = sql.find(tag, k + 1);
                if (close != std::string_view::npos) {
                    const std::string_view body = sql.substr(k + 1, close - k - 1);
                    if (has_pgmig_line(body)) {
                        out += e_literal(body);
                    } else {
                        out.append(sql, i, close + tag.size() - i);
                    }
                    i = close + tag.size();
                    in_word = false;
                    continue;
                }
            }
            out += c;  // $1, or an unterminated quote: as it is
            ++i;
        } else {
            in_word = in_word ? ident_char(static_cast<unsigned char>(c))
                              : (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                                 static_cast<unsigned char>(c) >= 0x80);
            out += c;
            ++i;
        }
    }
    return out;
}

std::string render(const std::vector<Statement>& statements) {
    std::string out;
    for (const auto& s : statements) {
        if (!out.empty()) out += "\n\n";
        out += file_safe_sql(s.sql);
    }
    if (!out.empty()) out += "\n";
    return out;
}

}  // namespace pgmig::schema_diff
