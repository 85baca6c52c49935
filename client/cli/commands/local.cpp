// pgmig local: a throwaway PostgreSQL cluster in a folder, reachable on a unix socket only.
// As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
#include "client/cli/commands/commands.hpp"
#include "common/checksum.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/core/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pgmig::client {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabase = "pgmig";
constexpr const char* kSuperuser = "postgres";

struct Paths {
    fs::path dir, data, socket, log, port_file;
    bool given = true;          // --dir was passed (hints repeat it)
    std::string moved_because;  // set when the default folder is unreachable and `dir` is the project's own outside it
};

struct Running {
    int port = 0;
    std::string socket_dir;
};

Paths paths_for(const std::string& dir) {
    Paths p;
    std::error_code ec;
    p.dir = fs::absolute(dir, ec).lexically_normal();
    if (ec) throw Error(ErrorKind::local_cluster, fmt::format("cannot resolve the folder {}", dir), ec.message());
    if (p.dir.has_filename() == false && p.dir.has_parent_path()) p.dir = p.dir.parent_path();  // drop trailing '/'
    p.data = p.dir / "data";
    p.socket = p.dir / "socket";
    p.log = p.dir / "server.log";
    p.port_file = p.dir / "port";
    return p;
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::string url_of(const Running& r) {
    return fmt::format("postgresql:///{}?host={}&port={}&user={}", kDatabase, url_encode(r.socket_dir), r.port,
                       kSuperuser);
}

std::string shell_quote(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out.push_back(c);
        }
    }
    return out + "'";
}

// The running server of this folder, from postmaster.pid (pid, data dir, start time, port, socket dir, ...).
std::optional<Running> running_server(const Paths& p) {
    std::ifstream in(p.data / "postmaster.pid");
    if (!in) return std::nullopt;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() < 5) return std::nullopt;
    long pid = 0;
    try {
        pid = std::stol(lines[0]);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (pid <= 0 || (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)) return std::nullopt;
    Running r;
    try {
        r.port = std::stoi(lines[3]);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    r.socket_dir = lines[4];
    return r;
}

std::string not_running_hint(const Paths& p) {
    if (!p.given) return "run pgmig local start in this project's folder";
    return fmt::format("run pgmig local start --dir {}", p.dir.string());
}

bool has_cluster(const Paths& p) {
    std::error_code ec;
    return fs::exists(p.data / "PG_VERSION", ec);
}

// The folder of a project whose default folder the server's OS user cannot reach (a checkout under /root):
// under /var/tmp (kept across reboots, like the default), named after the default folder's absolute path so
// that every later `pgmig local` run in the same project finds it again, and after the project for people.
fs::path outside_folder_for(const fs::path& wanted) {
    std::error_code ec;
    const fs::path base = fs::is_directory("/var/tmp", ec) ? fs::path("/var/tmp") : fs::path("/tmp");
    std::string label;
    for (char c : wanted.parent_path().parent_path().filename().string()) {
        const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
        label.push_back(plain ? c : '_');
        if (label.size() == 24) break;
    }
    if (label.empty() || label.front() == '.') label = "project" + label;
    return base / fmt::format("pgmig-local-{}-{}", label, pgmig::common::sha256_hex(wanted.string()).substr(0, 12));
}

// Where the cluster of these options lives. --dir is used as given. The default (.pgmig/local of the current
// folder) is used when a cluster already lives there or when the server can reach it (always when we are not
// root: the server then runs as us); otherwise, as root in a folder OS user postgres cannot enter, the
// project's own folder under /var/tmp.
Paths locate(const LocalOptions& options) {
    Paths p = paths_for(options.dir);
    p.given = options.dir_given;
    if (options.dir_given || geteuid() != 0 || has_cluster(p)) return p;
    const auto user = find_os_user(kSuperuser);
    if (!user) return p;  // start says so
    const auto bad = first_unreachable_folder(p.dir.string(), *user);
    if (!bad || fs::path(*bad) == p.dir) return p;  // reachable (start checks the folder itself)
    Paths outside = paths_for(outside_folder_for(p.dir).string());
    outside.given = false;
    outside.moved_because = fmt::format(
        "{} is not searchable by OS user {}, which runs the server when pgmig runs as root", *bad, user->name);
    return outside;
}

Running require_running(const Paths& p) {
    auto r = running_server(p);
    if (!r) {
        throw Error(ErrorKind::local_cluster, "the local cluster is not running", fmt::format("in {}", p.dir.string()),
                    not_running_hint(p));
    }
    return *r;
}

fs::path program(const fs::path& bindir, const char* name) {
    fs::path p = bindir / name;
    if (access(p.c_str(), X_OK) != 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("{} not found", p.string()), "in the PostgreSQL bin folder",
                    "install PostgreSQL 15 server binaries or set PGMIG_PG_BINDIR to their folder");
    }
    return p;
}

// As root, the OS user the server runs as; nullopt when we are not root (the server runs as us).
std::optional<OsUser> server_os_user() {
    if (geteuid() != 0) return std::nullopt;
    auto user = find_os_user(kSuperuser);
    if (!user) {
        throw Error(ErrorKind::local_cluster, "running as root, but there is no OS user postgres to run the server",
                    "on this machine",
                    "create the postgres user (the postgresql package does) or run pgmig as a non-root user");
    }
    return user;
}

void make_folder(const fs::path& dir, const std::optional<OsUser>& user, mode_t mode) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        throw Error(ErrorKind::local_cluster, fmt::format("cannot create the folder: {}", ec.message()),
                    fmt::format("at {}", dir.string()), "use --dir with a folder you can write");
    }
    // Through a descriptor opened without following a symbolic link: as root, never chown what a link points at.
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("cannot open the folder: {}", std::strerror(errno)),
                    fmt::format("at {}", dir.string()), "use --dir with a folder you can write (not a symbolic link)");
    }
    if (user && fchown(fd, user->uid, user->gid) != 0) {
        const int err = errno;
        close(fd);
        throw Error(ErrorKind::local_cluster,
                    fmt::format("cannot give the folder to OS user {}: {}", user->name, std::strerror(err)),
                    fmt::format("at {}", dir.string()), "use --dir under /tmp");
    }
    fchmod(fd, mode);
    close(fd);
}

// The project's folder outside the checkout is created here, by us; one that already exists is used only when
// OS user postgres or root owns it and nobody else may write it (anybody may create folders in /var/tmp).
void claim_outside_folder(const Paths& p, const OsUser& user) {
    if (mkdir(p.dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ErrorKind::local_cluster, fmt::format("cannot create the folder: {}", std::strerror(errno)),
                    fmt::format("at {}", p.dir.string()), "use --dir with a folder OS user postgres can reach");
    }
    struct stat st {};
    if (lstat(p.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_uid != user.uid && st.st_uid != 0) ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw Error(ErrorKind::local_cluster,
                    fmt::format("{} exists but is not a folder owned by OS user {} or root that only its owner may "
                                "write; pgmig does not use a folder someone else prepared",
                                p.dir.string(), user.name),
                    "for the local cluster of this project",
                    fmt::format("look at it, remove it (rm -rf {}), or use --dir", p.dir.string()));
    }
    make_folder(p.dir, user, 0755);  // ours (or postgres's): the server's from now on
}

// A small file written by us (as root, into the server's folder): never through a symbolic link.
void write_small_file(const fs::path& path, const std::string& text) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("cannot write the file: {}", std::strerror(errno)),
                    fmt::format("at {}", path.string()), "remove it if it is a symbolic link, or use another --dir");
    }
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    if (!ok) {
        throw Error(ErrorKind::local_cluster, "cannot write the file", fmt::format("at {}", path.string()),
                    "check the free space");
    }
}

bool port_free(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw Error(ErrorKind::local_cluster, "cannot open a socket to find a free port", "on 127.0.0.1");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        close(fd);
        throw Error(ErrorKind::local_cluster, "cannot find a free port", "on 127.0.0.1");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

int choose_port(const Paths& p) {
    std::ifstream in(p.port_file);
    int stored = 0;
    if (in >> stored && stored > 1024 && stored < 65536 && port_free(stored) &&
        !fs::exists(p.socket / fmt::format(".s.PGSQL.{}", stored))) {
        return stored;
    }
    return free_port();
}

std::string tail(const std::string& text, std::size_t lines) {
    std::size_t pos = text.size();
    while (pos > 0 && (text[pos - 1] == '\n')) --pos;
    std::size_t end = pos;
    for (std::size_t n = 0; n < lines && pos > 0; ++n) {
        pos = text.rfind('\n', pos - 1);
        if (pos == std::string::npos) {
            pos = 0;
            break;
        }
    }
    return one_line(text.substr(pos, end - pos));
}

void check_reachable(const Paths& p, const std::optional<OsUser>& user) {
    if (!user) return;
    if (auto bad = first_unreachable_folder(p.dir.string(), *user)) {
        const bool is_dir = fs::path(*bad) == p.dir;
        throw Error(ErrorKind::local_cluster,
                    fmt::format("{} is not {} by OS user {}, which runs the server when pgmig runs as root", *bad,
                                is_dir ? "writable" : "searchable", user->name),
                    fmt::format("for --dir {}", p.dir.string()),
                    "use --dir under /tmp or a shared folder every user can enter");
    }
}

void check_socket_path(const Paths& p) {
    // The socket path must fit in sockaddr_un; pg_ctl's -o string goes through a shell and the GUC is a list.
    const std::size_t longest = (p.socket / ".s.PGSQL.65535.lock").string().size();
    if (longest >= sizeof(sockaddr_un{}.sun_path)) {
        throw Error(ErrorKind::local_cluster, "the folder's path is too long for a unix socket",
                    fmt::format("at {}", p.dir.string()), "use a shorter --dir, e.g. under /tmp");
    }
    for (char c : p.socket.string()) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' || c == '-' || c == '+' ||
              c == '@')) {
            throw Error(ErrorKind::local_cluster, "the folder's path has a space or special character",
                        fmt::format("at {}", p.dir.string()), "use a --dir made of letters, digits and / . _ -");
        }
    }
}

void initdb(const Paths& p, const fs::path& bindir, const std::optional<OsUser>& user) {
    if (fs::exists(p.data / "PG_VERSION")) return;
    ProcessResult r = run_process({program(bindir, "initdb").string(), "-D", p.data.string(), "-U", kSuperuser,
                                   "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"},
                                  p.dir.string(), user);
    const fs::path log = p.dir / "initdb.log";
    write_small_file(log, r.output);
    if (r.exit_code != 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("initdb failed: {}", tail(r.output, 2)),
                    fmt::format("for {} (output in {})", p.data.string(), log.string()),
                    "remove the folder if it is left over, or use another --dir");
    }
}

void prepare_database(const Running& r, const fs::path& bindir) {
    const std::string base = fmt::format("host={} port={} user={} ", shell_quote(r.socket_dir), r.port, kSuperuser);
    auto open = [&base](const char* db) {
        try {
            return Connection::open(base + "dbname=" + db);
        } catch (const Error& e) {
            throw Error(ErrorKind::local_cluster, e.what_failed(), e.where(), "see the server log");
        }
    };
    {
        Connection conn = open("postgres");
        Result exists = conn.exec_params("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", {kDatabase});
        if (exists.ok() && exists.rows() == 0) {
            Result created = conn.exec(fmt::format("CREATE DATABASE {}", kDatabase));
            if (!created.ok() && created.error().sqlstate != "42P04") {
                throw Error(ErrorKind::local_cluster,
                            fmt::format("CREATE DATABASE failed: {}", created.error().message),
                            fmt::format("in {}", conn.target()), "see the server log");
            }
        }
    }
    Connection conn = open(kDatabase);
    Result ext = conn.exec("CREATE EXTENSION IF NOT EXISTS pgmig");
    if (!ext.ok()) {
        const ServerError e = ext.error();
        if (e.sqlstate == "58P01" || e.sqlstate == "0A000") {
            throw Error(ErrorKind::local_cluster,
                        fmt::format("the cluster is running but the pgmig extension is not installed in this "
                                    "PostgreSQL ({})",
                                    e.message),
                        fmt::format("for the server in {}", bindir.string()),
                        "run `make install` in the pgmig checkout (as root), then pgmig local start again");
        }
        throw Error(ErrorKind::local_cluster, fmt::format("CREATE EXTENSION pgmig failed: {}", e.message),
                    fmt::format("in {}", conn.target()), "see the server log", e.hint);
    }
}

}  // namespace

int run_local_start(const LocalOptions& options) {
    const Paths p = locate(options);
    const auto user = server_os_user();
    check_socket_path(p);
    if (!p.moved_because.empty()) {
        fmt::print(
            "local cluster folder: {}\n  ({}; every pgmig local command run in this project uses that "
            "folder)\n",
            p.dir.string(), p.moved_because);
        std::fflush(stdout);
    }
    if (auto r = running_server(p)) {
        fmt::print("local cluster already running: {}\n", url_of(*r));
        return kExitOk;
    }
    const fs::path bindir = pg_bindir();
    const fs::path pg_ctl = program(bindir, "pg_ctl");
    if (!p.moved_because.empty() && user) claim_outside_folder(p, *user);
    check_reachable(p, user);  // before creating or chowning anything
    make_folder(p.dir, user, 0755);
    check_reachable(p, user);
    initdb(p, bindir, user);
    make_folder(p.socket, user, 0700);

    const int port = choose_port(p);
    write_small_file(p.port_file, fmt::format("{}\n", port));
    const std::string server_options =
        fmt::format("-c listen_addresses='' -c unix_socket_directories={} -p {}", shell_quote(p.socket.string()), port);
    ProcessResult r = run_process(
        {pg_ctl.string(), "-D", p.data.string(), "-l", p.log.string(), "-w", "-t", "60", "-o", server_options, "start"},
        p.dir.string(), user);
    if (r.exit_code != 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("the server did not start: {}", tail(r.output, 2)),
                    fmt::format("for {} (server log: {})", p.data.string(), p.log.string()),
                    "read the server log; pgmig local stop, then start again");
    }
    const Running running{port, p.socket.string()};
    try {
        prepare_database(running, bindir);
    } catch (const Error& e) {
        throw Error(e.kind(), e.what_failed(), fmt::format("{} (server log: {})", e.where(), p.log.string()),
                    e.next_step(), e.hint());
    }
    fmt::print("local cluster started: {}\n", url_of(running));
    fmt::print("data: {}\nlog:  {}\n", p.data.string(), p.log.string());
    return kExitOk;
}

int run_local_stop(const LocalOptions& options) {
    const Paths p = locate(options);
    if (!running_server(p)) {
        fmt::print("local cluster not running ({})\n", p.dir.string());
        return kExitOk;
    }
    const auto user = server_os_user();
    const fs::path pg_ctl = program(pg_bindir(), "pg_ctl");
    ProcessResult r = run_process({pg_ctl.string(), "-D", p.data.string(), "-m", "fast", "-w", "-t", "60", "stop"},
                                  p.dir.string(), user);
    if (r.exit_code != 0) {
        throw Error(ErrorKind::local_cluster, fmt::format("the server did not stop: {}", tail(r.output, 2)),
                    fmt::format("for {} (server log: {})", p.data.string(), p.log.string()), "read the server log");
    }
    fmt::print("local cluster stopped ({})\n", p.dir.string());
    return kExitOk;
}

int run_local_status(const LocalOptions& options) {
    const Paths p = locate(options);
    if (auto r = running_server(p)) {
        fmt::print("running: {}\ndata: {}\nlog:  {}\n", url_of(*r), p.data.string(), p.log.string());
    } else if (fs::exists(p.data / "PG_VERSION")) {
        fmt::print("not running ({}); {}\n", p.dir.string(), not_running_hint(p));
    } else {
        fmt::print("not created ({}); {}\n", p.dir.string(), not_running_hint(p));
    }
    // Not running is what a script asks about: exit 7 (local_cluster), as pgmig local url and env do.
    if (!running_server(p)) return exit_code(ErrorKind::local_cluster);
    return kExitOk;
}

int run_local_url(const LocalOptions& options) {
    fmt::print("{}\n", url_of(require_running(locate(options))));
    return kExitOk;
}

int run_local_env(const LocalOptions& options) {
    const Running r = require_running(locate(options));
    // export: eval "$(pgmig local env)" must reach the programs the shell starts (psql, pgmig), not only
    // the shell's own variables
    fmt::print("export PGHOST={}\nexport PGPORT={}\nexport PGUSER={}\nexport PGDATABASE={}\n",
               shell_quote(r.socket_dir), r.port, kSuperuser, kDatabase);
    return kExitOk;
}

}  // namespace pgmig::client
