// The statement scanner of the folder readers (see sql_scan.hpp), after PostgreSQL's scan.l and psql's
// psqlscan.l.
#include "client/ledger/formats/sql_scan.hpp"

#include <algorithm>
#include <cctype>

namespace pgmig::client::formats {

namespace {

bool ident_start(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool ident_cont(unsigned char c) { return ident_start(c) || std::isdigit(c) != 0 || c == '$'; }
// psql's variable_char: a name after ':' (no '$').
bool variable_char(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c >= 0x80; }

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

class Scanner {
  public:
    explicit Scanner(std::string_view text) : t_(text) {}

    ScanResult run() {
        while (i_ < t_.size()) step();
        finish_statement(t_.size(), false);
        return std::move(r_);
    }

  private:
    unsigned char at(std::size_t k) const { return k < t_.size() ? static_cast<unsigned char>(t_[k]) : 0; }

    // Advances over t_[i_, to), counting lines.
    void advance_to(std::size_t to) {
        to = std::min(to, t_.size());
        line_ += static_cast<int>(std::count(t_.begin() + static_cast<std::ptrdiff_t>(i_),
                                             t_.begin() + static_cast<std::ptrdiff_t>(to), '\n'));
        i_ = to;
    }

    // A token of the current statement starts at i_.
    void token(bool is_word, std::string_view word = {}) {
        if (!in_statement_) {
            in_statement_ = true;
            stmt_ = ScannedStatement{};
            stmt_.begin = i_;
            stmt_.line = line_;
            identifier_count_ = 0;
            std::fill(std::begin(identifiers_), std::end(identifiers_), '\0');
            paren_depth_ = 0;
            begin_depth_ = 0;
            words_open_ = true;
        }
        if (words_open_) {
            if (is_word && stmt_.words.size() < 8) {
                stmt_.words.push_back(upper(word));
            } else {
                words_open_ = false;
                stmt_.only_words = false;
            }
        }
    }

    void finish_statement(std::size_t end, bool terminated) {
        if (!in_statement_) return;
        stmt_.end = end;
        stmt_.terminated = terminated;
        r_.statements.push_back(std::move(stmt_));
        in_statement_ = false;
    }

    // An unquoted identifier or keyword: psql's heuristic for the BEGIN ... END of a function body.
    void identifier(std::string_view word) {
        token(true, word);
        if (identifier_count_ == 0) std::fill(std::begin(identifiers_), std::end(identifiers_), '\0');
        if (iequals(word, "create") || iequals(word, "function") || iequals(word, "procedure") || iequals(word, "or") ||
            iequals(word, "replace")) {
            if (identifier_count_ < sizeof identifiers_) {
                identifiers_[identifier_count_] =
                    static_cast<char>(std::tolower(static_cast<unsigned char>(word.front())));
            }
        }
        ++identifier_count_;
        const bool routine =
            identifiers_[0] == 'c' &&
            (identifiers_[1] == 'f' || identifiers_[1] == 'p' ||
             (identifiers_[1] == 'o' && identifiers_[2] == 'r' && (identifiers_[3] == 'f' || identifiers_[3] == 'p')));
        if (routine && paren_depth_ == 0) {
            if (iequals(word, "begin")) {
                ++begin_depth_;
            } else if (iequals(word, "case")) {
                if (begin_depth_ >= 1) ++begin_depth_;  // CASE also ends with END, inside a body
            } else if (iequals(word, "end")) {
                if (begin_depth_ > 0) --begin_depth_;
            }
        }
    }

    // A quoted region from i_ (its opening delimiter) to `close` (just after its end); unterminated at the end.
    void opaque(std::size_t close, const char* what) {
        const std::size_t from = i_;
        const int from_line = line_;
        if (close == std::string_view::npos) {
            r_.opaque.emplace_back(from, t_.size());
            r_.unterminated = what;
            r_.unterminated_line = from_line;
            advance_to(t_.size());
            return;
        }
        r_.opaque.emplace_back(from, close);
        advance_to(close);
    }

    // The end (just after the closing quote) of a '...' string from i_ (its opening quote), '' doubling it;
    // with backslash escapes in an E'...' string.
    std::size_t quote_end(std::size_t open, bool backslashes) const {
        for (std::size_t k = open + 1; k < t_.size(); ++k) {
            if (backslashes && t_[k] == '\\') {
                ++k;
            } else if (t_[k] == '\'') {
                if (at(k + 1) == '\'') {
                    ++k;
                } else {
                    return k + 1;
                }
            }
        }
        return std::string_view::npos;
    }

    std::size_t ident_end(std::size_t open) const {
        for (std::size_t k = open + 1; k < t_.size(); ++k) {
            if (t_[k] == '"') {
                if (at(k + 1) == '"') {
                    ++k;
                } else {
                    return k + 1;
                }
            }
        }
        return std::string_view::npos;
    }

    std::size_t comment_end(std::size_t open) const {
        int depth = 0;
        for (std::size_t k = open; k < t_.size(); ++k) {
            if (t_[k] == '/' && at(k + 1) == '*') {
                ++depth;
                ++k;
            } else if (t_[k] == '*' && at(k + 1) == '/') {
                ++k;
                if (--depth == 0) return k + 1;
            }
        }
        return std::string_view::npos;
    }

    // The length of a dollar-quote delimiter ($tag$ or $$) at k, else 0.
    std::size_t dollar_tag(std::size_t k) const {
        std::size_t e = k + 1;
        if (ident_start(at(e))) {
            while (e < t_.size() && ident_cont(at(e)) && at(e) != '$') ++e;
        }
        return at(e) == '$' ? e + 1 - k : 0;
    }

    void step() {
        const unsigned char c = at(i_);
        if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            advance_to(i_ + 1);
            return;
        }
        if (c == '-' && at(i_ + 1) == '-') {
            const std::size_t nl = t_.find('\n', i_);
            advance_to(nl == std::string_view::npos ? t_.size() : nl);
            return;
        }
        if (c == '/' && at(i_ + 1) == '*') {
            opaque(comment_end(i_), "a /* comment");
            return;
        }
        if (c == '\'') {
            token(false);
            opaque(quote_end(i_, false), "a quoted string");
            return;
        }
        if (c == '"') {
            token(false);
            opaque(ident_end(i_), "a quoted identifier");
            return;
        }
        if (c == '$') {
            if (const std::size_t len = dollar_tag(i_); len > 0) {
                token(false);
                const std::string tag(t_.substr(i_, len));
                const std::size_t close = t_.find(tag, i_ + len);
                opaque(close == std::string_view::npos ? close : close + len, "a dollar-quoted string");
                return;
            }
            token(false);  // $1, a parameter
            std::size_t e = i_ + 1;
            while (std::isdigit(at(e)) != 0) ++e;
            advance_to(e);
            return;
        }
        if (ident_start(c)) {
            // E'...' (backslash escapes), U&'...' and U&"..." are one token with their quote.
            if ((c == 'E' || c == 'e') && at(i_ + 1) == '\'') {
                token(false);
                opaque(quote_end(i_ + 1, true), "a quoted string");
                return;
            }
            if ((c == 'U' || c == 'u') && at(i_ + 1) == '&' && (at(i_ + 2) == '\'' || at(i_ + 2) == '"')) {
                token(false);
                const std::size_t close = at(i_ + 2) == '\'' ? quote_end(i_ + 2, false) : ident_end(i_ + 2);
                opaque(close, at(i_ + 2) == '\'' ? "a quoted string" : "a quoted identifier");
                return;
            }
            std::size_t e = i_ + 1;
            while (e < t_.size() && ident_cont(at(e))) ++e;
            identifier(t_.substr(i_, e - i_));
            advance_to(e);
            return;
        }
        if (std::isdigit(c) != 0 || (c == '.' && std::isdigit(at(i_ + 1)) != 0)) {
            token(false);
            std::size_t e = i_ + 1;
            while (e < t_.size() && (std::isalnum(at(e)) != 0 || at(e) == '.' || at(e) == '_')) ++e;
            advance_to(e);
            return;
        }
        if (c == '\\') {
            // psql: a meta-command, with its arguments to the end of the line.
            std::size_t e = i_ + 1;
            while (e < t_.size() && (std::isalnum(at(e)) != 0 || at(e) == '\\' || at(e) == '?' || at(e) == '!')) ++e;
            r_.psql_only.push_back(
                {PsqlOnly::Kind::meta_command, line_, std::string(t_.substr(i_, e - i_)), {}, false});
            token(false);
            const std::size_t nl = t_.find('\n', i_);
            advance_to(nl == std::string_view::npos ? t_.size() : nl);
            return;
        }
        if (c == ':') {
            if (at(i_ + 1) == ':') {  // a cast
                token(false);
                advance_to(i_ + 2);
                return;
            }
            if (at(i_ + 1) == '\'' || at(i_ + 1) == '"') {
                const char q = static_cast<char>(at(i_ + 1));
                std::size_t e = i_ + 2;
                while (e < t_.size() && variable_char(at(e))) ++e;
                if (at(e) == static_cast<unsigned char>(q) && e > i_ + 2) {
                    r_.psql_only.push_back({PsqlOnly::Kind::variable, line_, std::string(t_.substr(i_, e + 1 - i_)),
                                            std::string(t_.substr(i_ + 2, e - i_ - 2)), true});
                    token(false);
                    advance_to(e + 1);
                    return;
                }
            } else if (at(i_ + 1) == '{' && at(i_ + 2) == '?') {
                const std::size_t close = t_.find('}', i_);
                if (close != std::string_view::npos) {
                    r_.psql_only.push_back({PsqlOnly::Kind::variable, line_, std::string(t_.substr(i_, close + 1 - i_)),
                                            std::string(t_.substr(i_ + 3, close - i_ - 3)), true});
                    token(false);
                    advance_to(close + 1);
                    return;
                }
            } else if (variable_char(at(i_ + 1))) {
                std::size_t e = i_ + 1;
                while (e < t_.size() && variable_char(at(e))) ++e;
                r_.psql_only.push_back({PsqlOnly::Kind::variable, line_, std::string(t_.substr(i_, e - i_)),
                                        std::string(t_.substr(i_ + 1, e - i_ - 1)), false});
                token(false);
                advance_to(e);
                return;
            }
            token(false);
            advance_to(i_ + 1);
            return;
        }
        if (c == ';') {
            if (in_statement_ && (paren_depth_ > 0 || begin_depth_ > 0)) {
                token(false);
                advance_to(i_ + 1);
                return;
            }
            if (in_statement_) words_open_ = false;  // the ';' ends the words without adding a token
            finish_statement(i_ + 1, true);
            advance_to(i_ + 1);
            return;
        }
        token(false);
        if (c == '(') ++paren_depth_;
        if (c == ')' && paren_depth_ > 0) --paren_depth_;
        advance_to(i_ + 1);
    }

    std::string_view t_;
    std::size_t i_ = 0;
    int line_ = 1;
    ScanResult r_;
    bool in_statement_ = false;
    ScannedStatement stmt_;
    bool words_open_ = true;
    int paren_depth_ = 0;
    int begin_depth_ = 0;
    char identifiers_[4] = {};
    std::size_t identifier_count_ = 0;
};

}  // namespace

bool ScanResult::inside_opaque(std::size_t at) const {
    for (const auto& [b, e] : opaque) {
        if (at >= b && at < e) return true;
    }
    return false;
}

ScanResult scan_sql(std::string_view text) { return Scanner(text).run(); }

int line_at(std::string_view text, std::size_t at) {
    at = std::min(at, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

}  // namespace pgmig::client::formats
