// Child processes (pgmig local, pgmig test): run a program (optionally as another OS user) and capture its output.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

// An OS user to switch to in the child (uid, gid, supplementary groups via initgroups).
struct OsUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

std::optional<OsUser> find_os_user(const std::string& name);

struct ProcessResult {
    int exit_code = -1;  // -1 when it could not be started or was killed by a signal
    std::string output;  // stdout and stderr together
};

// Runs argv[0] (a path) with argv, in working folder `cwd`, as `user` when given (needs root).
// Never uses a shell. stdin is /dev/null.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd,
                          const std::optional<OsUser>& user);

// As `user`, the first folder on the way to `path` (its ancestors, then `path` itself) that the
// user cannot enter (or, for `path` itself, cannot write); nullopt when all is well. Folders that do
// not exist yet end the walk, so it can be asked before creating anything.
// Checked in a child process that switches to the user, so the kernel's own access rules apply
// (ACLs and supplementary groups included).
std::optional<std::string> first_unreachable_folder(const std::string& path, const OsUser& user);

// Where the PostgreSQL programs (initdb, pg_ctl, pg_dump, psql) are: $PGMIG_PG_BINDIR, else
// `pg_config --bindir` of the first pg_config on PATH, else PostgreSQL 15's Debian folder.
std::filesystem::path pg_bindir();

}  // namespace pgmig::client
