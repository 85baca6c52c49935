// pgmig init and pgmig new: a project folder with pgmig.toml, and new migration files from a template.
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/diff/diff_output.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/migration_files.hpp"
#include "client/ledger/project.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace pgmig::client {

namespace fs = std::filesystem;

namespace {

void write_new_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
        throw Error(ErrorKind::input, "cannot write the file", "at " + path.string(), "check the folder's permissions");
    }
}

}  // namespace

int run_init(const InitOptions& options) {
    const fs::path dir = options.dir;
    const fs::path config = dir / kConfigFile;
    std::error_code ec;
    if (fs::exists(config, ec)) {
        throw Error(ErrorKind::input, "pgmig.toml exists already", "at " + config.string(),
                    "nothing was changed; edit it, or remove it to start over");
    }
    fs::create_directories(dir / kDefaultMigrationsDir, ec);
    if (ec) {
        throw Error(ErrorKind::input, fmt::format("cannot create the migrations folder: {}", ec.message()),
                    "at " + (dir / kDefaultMigrationsDir).string(), "check the folder's permissions");
    }
    write_new_file(config, fmt::format("# pgmig project file (see docs/reference.md)\nmigrations = \"{}\"\n",
                                       kDefaultMigrationsDir));
    fmt::print("created {} and {}/\n", config.string(), (dir / kDefaultMigrationsDir).string());
    fmt::print("next: pgmig new create_first_table\n");
    return kExitOk;
}

int run_new(const NewOptions& options) {
    if (!is_valid_name(options.name)) {
        throw Error(ErrorKind::input, fmt::format("bad migration name '{}'", options.name), "in NAME",
                    "use letters, digits, '_' and '-' only, e.g. add_orders");
    }
    const std::string dir = resolve_migrations_dir(options.dir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw Error(ErrorKind::input, "no such migrations folder", "at " + dir,
                    "run pgmig init first, or pass --dir FOLDER");
    }
    // The versions taken by the folder's file names (contents are not read: a fresh template is still empty).
    std::vector<std::string> taken;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        try {
            const FileName fn = classify_file_name(entry.path().filename().string());
            if (fn.kind == MigrationKind::versioned) taken.push_back(fn.version);
        } catch (const MigrationFileError&) {
            // not a migration file name: pgmig validate reports it
        }
    }
    // The folder's numbering, as pgmig generate follows it: 6 after 1..5, else a timestamp above them all.
    const std::string version = next_version(taken, utc_now("%Y%m%d%H%M%S"));
    const fs::path path = fs::path(dir) / fmt::format("{}_{}.sql", version, options.name);
    if (fs::exists(path, ec)) {
        throw Error(ErrorKind::input, "the file exists already", "at " + path.string(), "pick another name");
    }
    write_new_file(
        path, fmt::format("-- {}: describe what this migration does and why.\n"
                          "-- Directives: -- pgmig:no-transaction, -- pgmig:lock-timeout 5s, -- pgmig:refs ISSUE-1\n"
                          "-- pgmig:up\n"
                          "-- Write it so that it can run twice, e.g.:\n"
                          "-- CREATE TABLE IF NOT EXISTS example (id bigint PRIMARY KEY);\n"
                          "\n"
                          "-- pgmig:down\n"
                          "-- Undo the up section, e.g.:\n"
                          "-- DROP TABLE IF EXISTS example;\n",
                          options.name));
    fmt::print("{}\n", path.string());
    return kExitOk;
}

}  // namespace pgmig::client
