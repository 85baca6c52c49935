// Helpers of the folder readers (see folder_files.hpp).
#include "client/ledger/formats/folder_files.hpp"

#include "client/ledger/formats/sql_scan.hpp"

#include "common/version.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <stdexcept>
#include <system_error>

namespace pgmig::client::formats {

namespace fs = std::filesystem;

std::vector<fs::path> folder_entries(const fs::path& dir, bool dirs) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) throw MigrationFileError(dir.string(), "cannot read the folder: " + ec.message());
    std::vector<fs::path> out;
    for (const auto& entry : it) {
        if (entry.path().filename().string().starts_with(".")) continue;
        std::error_code type_ec;
        if (dirs ? entry.is_directory(type_ec) : entry.is_regular_file(type_ec)) out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
    return out;
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

bool has_subfolder_holding(const fs::path& dir, const char* file) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) return false;
    for (const auto& entry : it) {
        if (entry.path().filename().string().starts_with(".")) continue;
        std::error_code type_ec;
        if (entry.is_directory(type_ec) && is_file(entry.path() / file)) return true;
    }
    return false;
}

std::string relative_name(const fs::path& dir, const fs::path& path) {
    fs::path base = dir.lexically_normal();
    if (!base.has_filename()) base = base.parent_path();  // "migrations/" -> "migrations"
    const fs::path rel = path.lexically_normal().lexically_relative(base);
    return rel.empty() ? path.generic_string() : rel.generic_string();
}

std::string at_line(const std::string& reason, int line) {
    return line > 0 ? reason + " (line " + std::to_string(line) + ")" : reason;
}

void refuse(const fs::path& file, int line, const std::string& reason, const std::string& advice) {
    throw MigrationFileError(file.string(), at_line(reason, line), advice, FileProblem::grammar, line);
}

std::string version_before_underscore(std::string_view name, std::string_view dropped) {
    const std::string_view head = name.substr(0, name.find('_'));
    std::string version;
    for (char c : head) {
        if (dropped.find(c) != std::string_view::npos) continue;
        if (c < '0' || c > '9') return {};
        version.push_back(c);
    }
    return version;
}

namespace {

bool words_are(const ScannedStatement& s, std::initializer_list<std::initializer_list<const char*>> forms) {
    if (!s.only_words) return false;
    for (const auto& form : forms) {
        if (form.size() != s.words.size()) continue;
        bool same = true;
        std::size_t i = 0;
        for (const char* w : form) same = same && s.words[i++] == w;
        if (same) return true;
    }
    return false;
}

bool is_begin(const ScannedStatement& s) {
    return words_are(s, {{"BEGIN"}, {"BEGIN", "WORK"}, {"BEGIN", "TRANSACTION"}, {"START", "TRANSACTION"}});
}

bool is_commit(const ScannedStatement& s) {
    return words_are(
        s,
        {{"COMMIT"}, {"COMMIT", "WORK"}, {"COMMIT", "TRANSACTION"}, {"END"}, {"END", "WORK"}, {"END", "TRANSACTION"}});
}

// Transaction control of any form (what PostgreSQL's TransactionStmt covers).
bool is_transaction_control(const ScannedStatement& s) {
    if (s.words.empty()) return false;
    const std::string& w = s.words[0];
    if (w == "BEGIN" || w == "COMMIT" || w == "END" || w == "ROLLBACK" || w == "ABORT" || w == "SAVEPOINT" ||
        w == "RELEASE") {
        return true;
    }
    if (w == "START") return s.words.size() > 1 && s.words[1] == "TRANSACTION";
    if (w == "PREPARE") return s.words.size() > 1 && s.words[1] == "TRANSACTION";
    return false;
}

void blank_out(std::string& text, const ScannedStatement& s) {
    for (std::size_t k = s.begin; k < s.end && k < text.size(); ++k) {
        if (text[k] != '\n' && text[k] != '\r') text[k] = ' ';
    }
}

}  // namespace

Unwrapped strip_transaction_wrapper(const fs::path& file, std::string text) {
    const ScanResult scan = scan_sql(text);
    const std::vector<ScannedStatement>& st = scan.statements;
    Unwrapped out;
    const bool wrapped = st.size() >= 2 && is_begin(st.front()) && is_commit(st.back());
    for (std::size_t i = 0; i < st.size(); ++i) {
        if (wrapped && (i == 0 || i + 1 == st.size())) continue;
        if (!is_transaction_control(st[i])) continue;
        std::string what = st[i].words[0];
        if (what == "START" || what == "PREPARE") what += " TRANSACTION";
        const bool lone_begin = i == 0 && is_begin(st[i]);
        refuse(file, st[i].line,
               lone_begin ? "the script begins a transaction (" + what + ") that its last statement does not commit"
                          : "transaction control (" + what + ") inside the script",
               "pgmig runs each migration in its own transaction and takes a script wrapped in BEGIN; ... COMMIT; "
               "as it is; it cannot run a script that commits, rolls back or sets savepoints part-way (split it "
               "into several migrations)");
    }
    if (wrapped) {
        blank_out(text, st.front());
        blank_out(text, st.back());
    }
    out.text = std::move(text);
    out.wrapped = wrapped;
    return out;
}

std::string sha1_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not compute SHA-1");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out;
}

}  // namespace pgmig::client::formats
