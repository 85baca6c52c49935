// pgmig_errors_md TEMPLATE OUTPUT: writes docs/errors.md from common/errors.def (run by the build, see CMakeLists.txt).
#include "common/errors_md.hpp"

#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: pgmig_errors_md TEMPLATE OUTPUT\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "pgmig_errors_md: cannot read %s\n", argv[1]);
        return 1;
    }
    std::ostringstream page_template;
    page_template << in.rdbuf();
    try {
        const std::string page = pgmig::common::errors_markdown(page_template.str());
        std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
        out << page;
        out.close();
        if (!out) {
            std::fprintf(stderr, "pgmig_errors_md: cannot write %s\n", argv[2]);
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgmig_errors_md: %s\n", e.what());
        return 1;
    }
    return 0;
}

// common/ is compiled into the client too, which has no PostgreSQL server headers: none may be included here.
#ifdef PG_VERSION_NUM
#error "a PostgreSQL server header was included into common/, which the client compiles as well"
#endif
