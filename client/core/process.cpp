// fork/exec with a user switch and output capture; the access check done as the target user.
#include "client/core/process.hpp"

#include "client/core/errors.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace pgmig::client {

namespace {

// In a child: switch to the user for good. Returns false on failure.
bool become(const OsUser& user) {
    if (initgroups(user.name.c_str(), user.gid) != 0) return false;
    if (setgid(user.gid) != 0) return false;
    if (setuid(user.uid) != 0) return false;
    return true;
}

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    return out;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::optional<OsUser> find_os_user(const std::string& name) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return OsUser{name, pw.pw_uid, pw.pw_gid};
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd,
                          const std::optional<OsUser>& user) {
    ProcessResult result;
    if (argv.empty()) return result;
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        result.output = std::string("cannot create a pipe: ") + std::strerror(errno);
        return result;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        result.output = std::string("cannot fork: ") + std::strerror(errno);
        return result;
    }
    if (pid == 0) {
        // Child: only async-signal-safe work from here on.
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(pipe_fds[1], STDOUT_FILENO);
        dup2(pipe_fds[1], STDERR_FILENO);
        if (user && !become(*user)) {
            static const char msg[] = "pgmig: cannot switch to the OS user\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(126);
        }
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
            static const char msg[] = "pgmig: cannot enter the working folder\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(126);
        }
        execv(args[0], args.data());
        static const char msg[] = "pgmig: cannot execute the program\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    close(pipe_fds[1]);
    result.output = read_all(pipe_fds[0]);
    close(pipe_fds[0]);
    result.exit_code = wait_for(pid);
    return result;
}

std::optional<std::string> first_unreachable_folder(const std::string& path, const OsUser& user) {
    namespace fs = std::filesystem;
    const fs::path target = fs::absolute(path).lexically_normal();
    std::vector<std::string> chain;  // "/", "/tmp", "/tmp/x", ..., target
    fs::path walk;
    for (const auto& part : target) {
        walk /= part;
        std::error_code ec;
        if (!fs::exists(walk, ec)) break;
        chain.push_back(walk.string());
    }
    const bool target_exists = !chain.empty() && fs::path(chain.back()) == target;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return std::string("(cannot create a pipe to check access)");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return std::string("(cannot fork to check access)");
    }
    if (pid == 0) {
        close(pipe_fds[0]);
        if (!become(user)) _exit(2);
        for (std::size_t i = 0; i < chain.size(); ++i) {
            const bool last = target_exists && i + 1 == chain.size();
            if (access(chain[i].c_str(), last ? (X_OK | W_OK) : X_OK) != 0) {
                (void)!write(pipe_fds[1], chain[i].data(), chain[i].size());
                _exit(1);
            }
        }
        _exit(0);
    }
    close(pipe_fds[1]);
    std::string bad = read_all(pipe_fds[0]);
    close(pipe_fds[0]);
    const int code = wait_for(pid);
    if (code == 0) return std::nullopt;
    if (bad.empty()) return std::string("(cannot switch to OS user " + user.name + ")");
    return bad;
}

std::filesystem::path pg_bindir() {
    if (const char* env = std::getenv("PGMIG_PG_BINDIR"); env && *env) return env;
    if (const char* path = std::getenv("PATH")) {
        std::stringstream ss(path);
        for (std::string dir; std::getline(ss, dir, ':');) {
            if (dir.empty()) continue;
            const std::filesystem::path candidate = std::filesystem::path(dir) / "pg_config";
            if (access(candidate.c_str(), X_OK) == 0) {
                ProcessResult r = run_process({candidate.string(), "--bindir"}, {}, std::nullopt);
                std::string out = one_line(r.output);
                if (r.exit_code == 0 && !out.empty()) return out;
                break;
            }
        }
    }
    return "/usr/lib/postgresql/15/bin";  // PostgreSQL 15's Debian folder
}

}  // namespace pgmig::client
