// The readers of other migration tools' folders (FolderFormat), each in its own file of this folder:
// a folder is read as that tool writes it, with the tool's ordering rule and the directives that mean
// "no transaction", and anything a reader cannot interpret is refused naming the file and the line.
#pragma once

#include "client/ledger/migration_files.hpp"

#include <filesystem>
#include <vector>

namespace pgmig::client::formats {

struct FolderReader {
    FolderFormat format;
    // Whether `dir` holds this tool's migrations: cheap (file names, a marker file, the first lines) and
    // specific, since a folder that several readers claim must be told apart with format = "...".
    bool (*detect)(const std::filesystem::path& dir);
    // Every migration of the folder, each with its version (the tool's own, or one given in the tool's
    // order where it has none), name, up and down scripts, options (`transactional: false` for "no
    // transaction") and tool_id. Throws MigrationFileError (file, line, what to do) on anything it
    // cannot interpret. load_migration_dir then sorts and checks them (order_and_check).
    std::vector<MigrationFile> (*load)(const std::filesystem::path& dir);
};

// Every reader there is (registry.cpp); pgmig's own format is not one of them.
const std::vector<FolderReader>& folder_readers();

}  // namespace pgmig::client::formats
