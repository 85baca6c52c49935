// A fresh folder per test for the folder readers' unit tests (tests/unit/formats_*_test.cpp), removed afterwards.
#pragma once

#include "client/ledger/migration_files.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pgmig::client::testing {

class FormatDir : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "pgmig-formats-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // Writes `content` to dir_/relative, creating its folders.
    void write(const std::string& relative, const std::string& content) {
        const std::filesystem::path p = dir_ / relative;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }

    std::vector<MigrationFile> load(std::optional<FolderFormat> format = std::nullopt) {
        return load_migration_dir(dir_, format);
    }

    // The error loading the folder raises; fails the test when it loads.
    MigrationFileError load_error(std::optional<FolderFormat> format = std::nullopt) {
        try {
            load_migration_dir(dir_, format);
        } catch (const MigrationFileError& e) {
            return e;
        }
        ADD_FAILURE() << "the folder was accepted";
        return MigrationFileError("", "");
    }

    std::filesystem::path dir_;
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace pgmig::client::testing
