// The command entry points and their options; client/main.cpp declares them on the command line.
#pragma once

#include <string>

namespace pgmig::client {

struct GlobalOptions {
    std::string dbname;  // -d/--dbname: connection string or URI; empty = libpq environment
};

struct StatusOptions {
    bool json = false;
    std::string dir;  // reserved: comparing the folder with the ledger comes later
};

struct ApplyOptions {
    std::string dir = "migrations";
    std::string to;  // target version; empty = all
};

struct LocalOptions {
    std::string dir = ".pgmig/local";
};

// Each returns an exit code or throws client::Error.
int run_status(const GlobalOptions& global, const StatusOptions& options);
int run_apply(const GlobalOptions& global, const ApplyOptions& options);
int run_local_start(const LocalOptions& options);
int run_local_stop(const LocalOptions& options);
int run_local_status(const LocalOptions& options);
int run_local_url(const LocalOptions& options);
int run_local_env(const LocalOptions& options);

}  // namespace pgmig::client
