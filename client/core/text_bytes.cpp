// The check for NUL bytes and invalid UTF-8 (see text_bytes.hpp).
#include "client/core/text_bytes.hpp"

#include <fmt/core.h>

namespace pgmig::client {

namespace {

// The length of the valid UTF-8 sequence at text[pos], or 0 when it is invalid (PostgreSQL's
// pg_utf8_islegal: no overlong forms, no surrogates, nothing above U+10FFFF). `bad_length` is set to
// how many bytes to show for an invalid one.
std::size_t sequence_length(std::string_view text, std::size_t pos, std::size_t& bad_length) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(pos);
    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) second_min = 0xA0;  // overlong
        if (lead == 0xED) second_max = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) second_min = 0x90;  // overlong
        if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
    } else {
        bad_length = 1;  // a continuation byte without a lead, 0xC0, 0xC1 or 0xF5..0xFF
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if (pos + i >= text.size()) {
            bad_length = i;  // cut short by the end of the text
            return 0;
        }
        const unsigned char c = byte(pos + i);
        const unsigned char min = i == 1 ? second_min : 0x80;
        const unsigned char max = i == 1 ? second_max : 0xBF;
        if (c < min || c > max) {
            bad_length = i + 1;
            return 0;
        }
    }
    return length;
}

}  // namespace

std::optional<BadBytes> find_bad_bytes(std::string_view text) {
    int line = 1;
    int column = 1;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto c = static_cast<unsigned char>(text[pos]);
        if (c == 0) return BadBytes{pos, line, column, "a NUL byte"};
        if (c < 0x80) {
            if (c == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
            ++pos;
            continue;
        }
        std::size_t bad_length = 0;
        const std::size_t length = sequence_length(text, pos, bad_length);
        if (length == 0) {
            std::string shown;
            for (std::size_t i = 0; i < bad_length && pos + i < text.size(); ++i) {
                shown += fmt::format("{}0x{:02x}", i == 0 ? "" : " ", static_cast<unsigned char>(text[pos + i]));
            }
            return BadBytes{pos, line, column, "invalid UTF-8 (" + shown + ")"};
        }
        pos += length;
        ++column;
    }
    return std::nullopt;
}

std::string describe(const BadBytes& bad) {
    return fmt::format("{} at line {}, column {} (byte offset {})", bad.what, bad.line, bad.column, bad.offset);
}

}  // namespace pgmig::client
