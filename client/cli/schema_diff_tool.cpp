// pgmig_schema_diff: a developer's window on the diff engine. Reads two migrate_snapshot() JSON files
// and prints what schema_diff::diff() makes of them (not installed; the user-facing command is pgmig diff).
#include "client/diff/schema_diff.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

int usage() {
    std::cerr << "usage: pgmig_schema_diff FROM.json TO.json [--allow-destructive] [--no-rename] [--no-safe-forms]\n"
                 "                         [--rename table:OLD=NEW | --rename column:OLD=NEW]... [--out DIR]\n"
                 "                         [--server-version-num N]\n"
                 "  prints main up/down, post up/down, withheld steps, probable renames and unsupported objects;\n"
                 "  with --out DIR also writes DIR/main_up.sql, main_down.sql, post_up.sql, post_down.sql\n";
    return 2;
}

bool read_json(const std::string& path, nlohmann::json& out) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "pgmig_schema_diff: cannot read " << path << "\n";
        return false;
    }
    try {
        in >> out;
    } catch (const std::exception& e) {
        std::cerr << "pgmig_schema_diff: " << path << " is not JSON: " << e.what() << "\n";
        return false;
    }
    return true;
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    return static_cast<bool>(out);
}

}  // namespace

namespace {
int run(int argc, char** argv) {
    using namespace pgmig::schema_diff;
    std::vector<std::string> files;
    Options options;
    std::string out_dir;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--allow-destructive") {
            options.allow_destructive = true;
        } else if (a == "--no-rename") {
            options.no_renames = true;
        } else if (a == "--no-safe-forms") {
            options.safe_forms = false;
        } else if (a == "--rename" && i + 1 < argc) {
            std::string r = argv[++i];
            auto colon = r.find(':');
            auto eq = r.find('=');
            if (colon == std::string::npos || eq == std::string::npos || eq < colon) return usage();
            options.renames.push_back({r.substr(0, colon), r.substr(colon + 1, eq - colon - 1), r.substr(eq + 1)});
        } else if (a == "--server-version-num" && i + 1 < argc) {
            options.server_version_num = std::stoi(argv[++i]);
        } else if (a == "--out" && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!a.empty() && a[0] == '-') {
            return usage();
        } else {
            files.push_back(a);
        }
    }
    if (files.size() != 2) return usage();
    nlohmann::json from;
    nlohmann::json to;
    if (!read_json(files[0], from) || !read_json(files[1], to)) return 1;
    Result r = diff(from, to, options);
    std::cout << "-- ==== main up ====\n"
              << render(r.main.up) << "-- ==== main down ====\n"
              << render(r.main.down) << "-- ==== post up ====\n"
              << render(r.post.up) << "-- ==== post down ====\n"
              << render(r.post.down);
    std::cout << "-- ==== withheld ====\n";
    for (const auto& w : r.withheld) std::cout << "-- " << w.subject << ": " << w.reason << "\n" << w.sql << "\n";
    std::cout << "-- ==== probable renames ====\n";
    for (const auto& p : r.probable_renames)
        std::cout << "-- " << p.kind << " " << p.from << " -> " << p.to << ": " << p.reason << "\n";
    std::cout << "-- ==== unsupported ====\n";
    for (const auto& u : r.unsupported) std::cout << "-- " << u << "\n";
    if (!out_dir.empty()) {
        bool ok = write_file(out_dir + "/main_up.sql", render(r.main.up)) &&
                  write_file(out_dir + "/main_down.sql", render(r.main.down)) &&
                  write_file(out_dir + "/post_up.sql", render(r.post.up)) &&
                  write_file(out_dir + "/post_down.sql", render(r.post.down));
        if (!ok) {
            std::cerr << "pgmig_schema_diff: cannot write into " << out_dir << "\n";
            return 1;
        }
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "pgmig_schema_diff: " << e.what() << "\n";
        return 1;
    }
}
