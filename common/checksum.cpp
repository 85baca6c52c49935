// The checksum rule: normalisation of migration text and its SHA-256 (OpenSSL's EVP interface).
#include "checksum.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace pgmig::common {

std::string normalize_script(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t line_start = 0;  // index in out where the current line begins
    auto end_line = [&out, &line_start]() {
        std::size_t keep = out.size();
        while (keep > line_start &&
               (out[keep - 1] == ' ' || out[keep - 1] == '\t' || out[keep - 1] == '\f' || out[keep - 1] == '\v')) {
            --keep;
        }
        out.resize(keep);
        out.push_back('\n');
        line_start = out.size();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
            end_line();
        } else if (c == '\n') {
            end_line();
        } else {
            out.push_back(c);
        }
    }
    if (out.size() > line_start) end_line();  // last line without a newline
    // Trailing blank lines: every line is already right-trimmed, so they are runs of '\n'.
    while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
    if (out == "\n") out.clear();
    return out;
}

namespace {

// SHA-256, looked up once: with EVP_sha256(), OpenSSL 3 looks the algorithm up again in every
// EVP_Digest (an implicit fetch), which made hashing a short script about 2.6 times as slow; the
// ledger hashes every applied script on each apply and each migrate_status(). Never freed: it lives as
// long as the process. Static initialisation is thread-safe (the client hashes from several threads).
const EVP_MD* sha256_md() {
    static const EVP_MD* const md = [] {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (fetched != nullptr) return fetched;
#endif
        return EVP_sha256();
    }();
    return md;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, sha256_md(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not compute SHA-256");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(len) * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out;
}

std::string script_checksum(std::string_view text) { return sha256_hex(normalize_script(text)); }

}  // namespace pgmig::common

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
