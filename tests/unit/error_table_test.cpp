// Unit tests of the error table (common/errors.def): docs/errors.md is what the table makes.
#include "common/errors_md.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path kSource = PGMIG_SOURCE_DIR;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST(ErrorsDef, DocsAreWhatTheTableMakes) {
    const std::string made = pgmig::common::errors_markdown(read_file(kSource / "docs/errors.md.in"));
    const std::string committed = read_file(kSource / "docs/errors.md");
    if (made == committed) return;
    std::istringstream a(committed), b(made);
    std::string line_a, line_b;
    int line = 0;
    while (true) {
        ++line;
        const bool more_a = static_cast<bool>(std::getline(a, line_a));
        const bool more_b = static_cast<bool>(std::getline(b, line_b));
        if (!more_a && !more_b) break;
        if (more_a != more_b || line_a != line_b) {
            ADD_FAILURE() << "docs/errors.md is not what common/errors.def and docs/errors.md.in make; edit those, "
                             "not docs/errors.md, then run `cmake --build build --target update_errors_md`.\n"
                          << "First difference at line " << line
                          << ":\n  committed: " << (more_a ? line_a : "(end of file)")
                          << "\n  made:      " << (more_b ? line_b : "(end of file)");
            return;
        }
    }
    ADD_FAILURE() << "docs/errors.md differs from what common/errors.def makes (line endings?)";
}

TEST(ErrorsDef, TemplateNeedsBothMarkers) {
    EXPECT_THROW(pgmig::common::errors_markdown("# Errors\n@SQLSTATES@\n"), std::invalid_argument);
    const std::string page = pgmig::common::errors_markdown("a\n@SQLSTATES@\nb\n@EXIT_CODES@\nc\n");
    EXPECT_NE(page.find("| `PM001` | invalid migration version |"), std::string::npos);
    EXPECT_NE(page.find("| 0 | success |\n| 1 | internal error (a bug: please report it) |\n"), std::string::npos);
    EXPECT_EQ(page.find("@SQLSTATES@"), std::string::npos);
    EXPECT_EQ(page.find("@EXIT_CODES@"), std::string::npos);
}
