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

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
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
