// Backups: pg_dump -Fc → container → <name>.partial → fsync → rename; manifests; verify; restore; retention.
#include "client/ops/backup.hpp"

#include "client/core/db.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace pgmig::client {

namespace fs = std::filesystem;
using backup_crypto::ContainerError;
using backup_crypto::KeyMaterial;

namespace {

constexpr std::size_t kReadSize = 1U << 20;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string read_file_contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A file descriptor closed on scope exit.
struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    ~Fd() {
        if (fd >= 0) close(fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    void reset(int f = -1) {
        if (fd >= 0) close(fd);
        fd = f;
    }
};

bool write_all(int fd, const unsigned char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// A child process with stdin/stdout/stderr on the given descriptors and extra environment entries
// ("NAME=value", replacing the inherited NAME). Returns the pid, or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, int in_fd, int out_fd,
            int err_fd) {
    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string entry = *e;
        const std::string name = entry.substr(0, entry.find('='));
        const bool replaced = std::any_of(extra_env.begin(), extra_env.end(), [&](const std::string& x) {
            return x.compare(0, name.size() + 1, name + "=") == 0;
        });
        if (!replaced) env_strings.push_back(entry);
    }
    env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        if (in_fd >= 0) dup2(in_fd, STDIN_FILENO);
        if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
        if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execve(args[0], args.data(), envp.data());
        static const char msg[] = "pgmig: cannot execute the program\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    for (auto& s : env_strings) std::fill(s.begin(), s.end(), '\0');
    return pid;
}

int wait_child(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// An unlinked temporary file for a child's stderr/stdout.
int temp_fd() {
    char name[] = "/tmp/pgmig-backup-XXXXXX";
    const int fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0) unlink(name);
    return fd;
}

std::string read_fd_from_start(int fd, std::size_t limit = 4000) {
    std::string out;
    if (lseek(fd, 0, SEEK_SET) < 0) return out;
    char buf[4096];
    for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) break;
    }
    return out;
}

// Text of a child's stderr for a message: one line, the password (if any) blanked out just in case.
std::string scrub(std::string text, const std::string& password) {
    if (!password.empty()) {
        for (std::size_t at = text.find(password); at != std::string::npos; at = text.find(password, at)) {
            text.replace(at, password.size(), "***");
        }
    }
    text = one_line(text);
    if (text.size() > 1000) text.replace(1000, std::string::npos, "...");
    return text;
}

// A conninfo split into one without the password (for argv) and the password (for PGPASSWORD).
struct SplitConninfo {
    std::string conninfo;
    std::string password;
};

std::string quote_conn_value(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "'";
}

SplitConninfo split_conninfo(const std::string& conninfo, const std::optional<std::string>& dbname = std::nullopt) {
    SplitConninfo out;
    if (conninfo.empty() && !dbname) return out;
    char* errmsg = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &errmsg);
    if (options == nullptr) {
        std::string message = errmsg ? one_line(errmsg) : "out of memory";
        PQfreemem(errmsg);
        throw Error(ErrorKind::input, "the connection string is invalid: " + message,
                    "in -d or the environment's dbname", "fix it (see libpq's connection strings)");
    }
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        const std::string key = o->keyword;
        if (key == "dbname" && dbname) continue;
        if (o->val == nullptr) continue;
        if (key == "password") {
            out.password = o->val;
            continue;
        }
        if (key == "sslpassword" && o->val[0] != '\0') {
            // pg_dump/pg_restore take the connection string on their command line (visible in ps), and libpq
            // has no environment variable for it: refuse rather than expose it.
            PQconninfoFree(options);
            throw Error(ErrorKind::backup_failed,
                        "the connection string has sslpassword, which pg_dump/pg_restore would get on their command "
                        "line (visible to every user in ps)",
                        "in -d or the environment's dbname",
                        "use a client key without a passphrase, or put sslpassword in a service file "
                        "(service=NAME, see PGSERVICEFILE)");
        }
        if (!out.conninfo.empty()) out.conninfo += ' ';
        out.conninfo += key + "=" + quote_conn_value(o->val);
    }
    PQconninfoFree(options);
    if (dbname) {
        if (!out.conninfo.empty()) out.conninfo += ' ';
        out.conninfo += "dbname=" + quote_conn_value(*dbname);
    }
    return out;
}

std::vector<std::string> password_env(const SplitConninfo& split) {
    if (split.password.empty()) return {};
    return {"PGPASSWORD=" + split.password};
}

std::string utc_stamp(std::time_t t, const char* format) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

std::string safe_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-' || c == '.';
        out.push_back(ok ? c : '_');
    }
    return out.empty() ? "db" : out;
}

const std::regex& backup_name_re() {
    static const std::regex re(R"(^\d{8}T\d{6}Z_.+\.pgmig-backup$)");
    return re;
}

void fsync_dir(const fs::path& dir) {
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

// Writes `text` to path atomically (path.partial, fsync, rename, fsync of the folder).
void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path partial = path.string() + ".partial";
    Fd fd(open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.fd < 0 || !write_all(fd.fd, reinterpret_cast<const unsigned char*>(text.data()), text.size()) ||
        fsync(fd.fd) != 0) {
        const std::string why = std::strerror(errno);
        std::error_code ec;
        fs::remove(partial, ec);
        throw Error(ErrorKind::backup_failed, fmt::format("cannot write {}: {}", partial.string(), why),
                    "while writing the backup", "check the folder's space and permissions");
    }
    fd.reset();
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::error_code ec;
        fs::remove(partial, ec);
        throw Error(ErrorKind::backup_failed, fmt::format("cannot rename {}: {}", partial.string(), why),
                    "while writing the backup", "check the folder's permissions");
    }
    fsync_dir(path.parent_path());
}

// What a database says about itself for the manifest (inside the transaction of the exported snapshot).
struct DatabaseFacts {
    std::string database;
    std::string server_version;
    std::optional<std::string> ledger_version;
    std::optional<std::string> fingerprint;
    bool extension = false;
};

DatabaseFacts database_facts(const Connection& conn, const std::string& where) {
    DatabaseFacts f;
    f.database = PQdb(conn.raw());
    Result v = conn.exec("SELECT current_setting('server_version')");
    if (!v.ok()) throw Error(ErrorKind::backup_failed, "cannot read server_version: " + v.error().message, where);
    f.server_version = v.get(0, 0);
    f.extension = installed_extension_version(conn).has_value();
    if (f.extension) {
        Result fp = conn.exec("SELECT migrate_fingerprint()");
        if (!fp.ok())
            throw Error(ErrorKind::backup_failed, "migrate_fingerprint() failed: " + fp.error().message, where);
        f.fingerprint = fp.get(0, 0);
        Result lv = conn.exec(
            "SELECT s.version FROM migrate_status() WITH ORDINALITY AS s "
            " WHERE s.kind = 'versioned' AND s.applied_at IS NOT NULL ORDER BY s.ordinality DESC LIMIT 1");
        if (!lv.ok()) throw Error(ErrorKind::backup_failed, "migrate_status() failed: " + lv.error().message, where);
        if (lv.rows() > 0) f.ledger_version = lv.get(0, 0);
    }
    return f;
}

nlohmann::json opt_json(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

Error container_error(const ContainerError& e, const fs::path& file) {
    using K = ContainerError::Kind;
    const std::string where = "in " + file.string();
    switch (e.kind()) {
        case K::wrong_key:
            return {ErrorKind::backup_wrong_key, fmt::format("wrong key: {}", e.what()), where,
                    "give the key it was taken with (--key-file, PGMIG_BACKUP_KEY_FILE, or pgmig.toml)"};
        case K::truncated:
            return {ErrorKind::backup_truncated, fmt::format("the backup is truncated: {}", e.what()), where,
                    "it is incomplete: use another backup"};
        case K::not_a_backup:
        case K::unsupported:
        case K::corrupted:
            break;
    }
    return {ErrorKind::backup_corrupted, fmt::format("the backup is corrupted: {}", e.what()), where,
            "do not restore it: use another backup"};
}

// Streams the file through the decryptor into fd `out` (-1: nowhere). A closed pipe stops the copying,
// not the decryption (everything is still authenticated). Returns (ciphertext bytes, plaintext bytes, sha256).
struct StreamResult {
    std::uint64_t bytes = 0;
    std::uint64_t plain = 0;
    std::string sha256;
    bool pipe_closed = false;
};

StreamResult decrypt_file(const fs::path& file, const KeyMaterial& key, int out) {
    StreamResult r;
    Fd in(open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.fd < 0) {
        throw Error(ErrorKind::backup_failed, fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)),
                    "reading the backup", "check the path and its permissions");
    }
    backup_crypto::Sha256 sha;
    backup_crypto::Decryptor dec(key, [&](const unsigned char* data, std::size_t size) {
        r.plain += size;
        if (out >= 0 && !r.pipe_closed && !write_all(out, data, size)) {
            if (errno != EPIPE) {
                throw Error(ErrorKind::backup_failed,
                            fmt::format("cannot write to pg_restore: {}", std::strerror(errno)), "in " + file.string(),
                            "see pg_restore's message");
            }
            r.pipe_closed = true;
        }
    });
    std::vector<unsigned char> buf(kReadSize);
    try {
        for (;;) {
            const ssize_t n = read(in.fd, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error(ErrorKind::backup_failed,
                            fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)),
                            "reading the backup", "check the file");
            }
            if (n == 0) break;
            r.bytes += static_cast<std::uint64_t>(n);
            sha.update(buf.data(), static_cast<std::size_t>(n));
            dec.feed(buf.data(), static_cast<std::size_t>(n));
        }
        dec.finish();
    } catch (const ContainerError& e) {
        throw container_error(e, file);
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        // Anything else from the decryption (scrypt out of memory, an OpenSSL failure) is still this file's
        // error: restore must wait for pg_restore and name the left database, verify must go on to the next.
        throw Error(ErrorKind::backup_corrupted, fmt::format("the backup could not be decrypted: {}", e.what()),
                    "in " + file.string(),
                    "check the memory available to pgmig (scrypt needs 32 MiB) and try again; if it recurs, the "
                    "file is damaged: use another backup");
    }
    r.sha256 = sha.hex();
    return r;
}

struct PipedRestore {
    StreamResult stream;
    int exit_code = 0;  // pg_restore's
};

// Decrypts `backup` into the stdin of `pg_restore ARGS` (its stdout and stderr to the given fds) and waits
// for it, also when the decryption fails. `what` names the purpose in errors.
PipedRestore decrypt_into_pg_restore(const fs::path& backup, const KeyMaterial& key, const fs::path& pg_restore,
                                     std::vector<std::string> args, const std::vector<std::string>& env, int out_fd,
                                     int err_fd, const std::string& what) {
    // A pg_restore that stops reading (it rejected the archive) must not kill pgmig with SIGPIPE: the write
    // fails with EPIPE instead, and its exit code and message say why. Whatever command calls this (pgmig
    // deploy did not ignore SIGPIPE, and died with 141 and no message).
    struct IgnoreSigpipe {
        struct sigaction previous {};
        IgnoreSigpipe() {
            struct sigaction ignore {};
            ignore.sa_handler = SIG_IGN;
            sigemptyset(&ignore.sa_mask);
            sigaction(SIGPIPE, &ignore, &previous);
        }
        ~IgnoreSigpipe() { sigaction(SIGPIPE, &previous, nullptr); }
        IgnoreSigpipe(const IgnoreSigpipe&) = delete;
        IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;
    } const ignore_sigpipe;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(ErrorKind::backup_failed, "cannot create a pipe", what);
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);
    args.insert(args.begin(), pg_restore.string());
    const pid_t pid = spawn(args, env, read_end.fd, out_fd, err_fd);
    read_end.reset();
    if (pid < 0) throw Error(ErrorKind::backup_failed, "cannot start " + pg_restore.string(), what);
    PipedRestore out;
    try {
        out.stream = decrypt_file(backup, key, write_end.fd);
    } catch (...) {
        write_end.reset();
        wait_child(pid);
        throw;
    }
    write_end.reset();
    out.exit_code = wait_child(pid);
    return out;
}

// The file's size and SHA-256 as its manifest records them, or Error(backup_corrupted).
void check_against_manifest(const StreamResult& stream, const nlohmann::json& manifest, const fs::path& backup) {
    const auto recorded = manifest["size"].get<std::uint64_t>();
    if (stream.bytes != recorded || stream.sha256 != manifest["sha256"].get<std::string>()) {
        throw Error(
            ErrorKind::backup_corrupted,
            fmt::format("the backup does not match its manifest (size {} vs {}, or SHA-256)", stream.bytes, recorded),
            "in " + backup.string(), "the file or its manifest was changed: use another backup");
    }
}

std::optional<std::string> manifest_problem(const nlohmann::json& m) {
    if (!m.is_object()) return "it is not a JSON object";
    if (!m.contains("format") || m["format"] != kBackupFormat)
        return fmt::format("\"format\" is not \"{}\"", kBackupFormat);
    for (const char* key :
         {"database", "environment", "server_version", "sha256", "created_at", "pgmig_version", "key_id"}) {
        if (!m.contains(key) || !m[key].is_string()) return fmt::format("\"{}\" is missing or not a string", key);
    }
    for (const char* key : {"ledger_version", "fingerprint"}) {
        if (!m.contains(key) || !(m[key].is_string() || m[key].is_null()))
            return fmt::format("\"{}\" is missing or not a string or null", key);
    }
    if (!m.contains("size") || !m["size"].is_number_unsigned()) return "\"size\" is missing or not a number";
    const std::string sha = m["sha256"].get<std::string>();
    if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
        return "\"sha256\" is not 64 hex digits";
    return std::nullopt;
}

}  // namespace

// ---- keys ----

KeyMaterial resolve_key(const KeyOptions& options, const BackupSettings& settings, std::string* source) {
    std::string file;
    std::string described;
    if (!options.key_file.empty()) {
        file = options.key_file;
        described = "--key-file " + file;
    } else if (const char* env = std::getenv("PGMIG_BACKUP_KEY_FILE"); env != nullptr && *env != '\0') {
        file = env;
        described = "PGMIG_BACKUP_KEY_FILE (" + file + ")";
    } else if (!settings.key_file.empty()) {
        file = settings.key_file;
        described = "key_file of pgmig.toml (" + file + ")";
    }
    if (source) *source = described;
    if (!file.empty()) {
        std::string contents;
        try {
            contents = read_file_contents(file);
        } catch (const std::exception& e) {
            throw Error(ErrorKind::backup_failed, fmt::format("cannot read the backup key file: {}", e.what()),
                        "from " + described, "check the path and its permissions");
        }
        try {
            return KeyMaterial::from_file_contents(std::move(contents));
        } catch (const std::invalid_argument&) {
            throw Error(ErrorKind::backup_failed, "the backup key file is empty", "from " + described,
                        "put 32 random bytes, 64 hex digits or a passphrase in it (e.g. openssl rand -hex 32)");
        }
    }
    if (!settings.key_env.empty()) {
        described = "the variable " + settings.key_env + " (key_env of pgmig.toml)";
        if (source) *source = described;
        const char* value = std::getenv(settings.key_env.c_str());
        if (value == nullptr || *value == '\0') {
            throw Error(ErrorKind::backup_failed, fmt::format("the variable {} is not set or empty", settings.key_env),
                        "for the backup passphrase (key_env of pgmig.toml)", "set it to the passphrase");
        }
        return KeyMaterial::from_passphrase(value);
    }
    throw Error(ErrorKind::backup_failed, "no backup key: backups are always encrypted",
                "no --key-file, no PGMIG_BACKUP_KEY_FILE, no key_file or key_env in pgmig.toml",
                "give one (e.g. openssl rand -hex 32 > backup.key; pgmig backup --key-file backup.key)");
}

fs::path backup_folder(const BackupSettings& settings, const std::string& env_name, const std::string& out_dir) {
    return fs::path(out_dir.empty() ? settings.dir : out_dir) / (env_name.empty() ? kDefaultEnvironmentName : env_name);
}

fs::path pg_program(const char* name) {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("PGMIG_PG_BINDIR"); env && *env) candidates.emplace_back(fs::path(env) / name);
    if (const char* path = std::getenv("PATH")) {
        std::stringstream ss(path);
        for (std::string dir; std::getline(ss, dir, ':');) {
            if (!dir.empty()) candidates.emplace_back(fs::path(dir) / name);
        }
    }
    candidates.emplace_back(fs::path("/usr/lib/postgresql/15/bin") / name);
    for (const auto& c : candidates) {
        if (access(c.c_str(), X_OK) == 0) return c;
    }
    throw Error(ErrorKind::backup_failed, fmt::format("{} not found", name),
                "in PGMIG_PG_BINDIR, PATH or /usr/lib/postgresql/15/bin",
                "install the PostgreSQL client programs or set PGMIG_PG_BINDIR to their folder");
}

// ---- backup ----

BackupInfo take_backup(const std::string& conninfo, const std::string& env_name, const BackupSettings& settings,
                       const KeyMaterial& key, const std::string& out_dir) {
    const auto start = std::chrono::steady_clock::now();
    const std::string env = env_name.empty() ? kDefaultEnvironmentName : env_name;
    const fs::path pg_dump = pg_program("pg_dump");
    const fs::path folder = backup_folder(settings, env, out_dir);
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
        throw Error(ErrorKind::backup_failed, fmt::format("cannot create {}: {}", folder.string(), ec.message()),
                    "for the backups of environment " + env, "check the path and its permissions");
    }

    // One snapshot for the manifest's facts and pg_dump (--snapshot): they describe the same state.
    Connection conn = Connection::open(conninfo);
    const std::string where = "in " + conn.target();
    Result begin = conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (!begin.ok()) throw Error(ErrorKind::backup_failed, "cannot begin: " + begin.error().message, where);
    Result snap = conn.exec("SELECT pg_export_snapshot()");
    if (!snap.ok())
        throw Error(ErrorKind::backup_failed, "pg_export_snapshot() failed: " + snap.error().message, where);
    const std::string snapshot = snap.get(0, 0);
    const DatabaseFacts facts = database_facts(conn, where);

    // <UTC>_<db>.pgmig-backup; two backups in one second: wait for the next one.
    fs::path path;
    std::time_t now = 0;
    for (int attempt = 0;; ++attempt) {
        now = std::time(nullptr);
        path = folder / (utc_stamp(now, "%Y%m%dT%H%M%SZ") + "_" + safe_name(facts.database) + kBackupSuffix);
        std::error_code ec1;
        std::error_code ec2;
        const bool taken = fs::exists(path, ec1) || fs::exists(path.string() + ".partial", ec2);
        if (ec1 || ec2) {
            throw Error(ErrorKind::backup_failed,
                        fmt::format("cannot check whether {} exists: {}", path.string(), (ec1 ? ec1 : ec2).message()),
                        "in " + folder.string(), "check the folder and its permissions");
        }
        if (!taken) break;
        if (attempt > 30) {
            throw Error(ErrorKind::backup_failed, fmt::format("{} exists", path.string()), "in " + folder.string(),
                        "remove the stale file");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const fs::path partial = path.string() + ".partial";
    const SplitConninfo split = split_conninfo(conninfo);

    Fd out(open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.fd < 0) {
        throw Error(ErrorKind::backup_failed,
                    fmt::format("cannot create {}: {}", partial.string(), std::strerror(errno)), "for the backup",
                    "check the folder's space and permissions");
    }
    auto remove_partial = [&] {
        std::error_code rm;
        fs::remove(partial, rm);
    };
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        remove_partial();
        throw Error(ErrorKind::backup_failed, "cannot create a pipe", "for pg_dump", "check the system's limits");
    }
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);
    Fd err(temp_fd());
    std::vector<std::string> argv{pg_dump.string(), "-Fc", "--snapshot=" + snapshot};
    if (!split.conninfo.empty()) argv.push_back("--dbname=" + split.conninfo);
    const Fd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
    const pid_t pid = spawn(argv, password_env(split), devnull.fd, write_end.fd, err.fd);
    write_end.reset();
    if (pid < 0) {
        remove_partial();
        throw Error(ErrorKind::backup_failed, "cannot start pg_dump", where, "check the system's limits");
    }

    std::uint64_t size = 0;
    backup_crypto::Sha256 sha;
    std::string write_error;
    std::uint32_t chunk_size = backup_crypto::kDefaultChunkSize;
    try {
        backup_crypto::Encryptor enc(
            key,
            [&](const unsigned char* data, std::size_t n) {
                if (!write_error.empty()) return;
                if (!write_all(out.fd, data, n)) {
                    write_error = std::strerror(errno);
                    return;
                }
                sha.update(data, n);
                size += n;
            },
            chunk_size);
        std::vector<unsigned char> buf(kReadSize);
        for (;;) {
            const ssize_t n = read(read_end.fd, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                write_error = std::string("reading pg_dump's output: ") + std::strerror(errno);
                break;
            }
            if (n == 0 || !write_error.empty()) break;
            enc.write(buf.data(), static_cast<std::size_t>(n));
        }
        if (write_error.empty()) enc.finish();
    } catch (const std::exception& e) {
        if (write_error.empty()) write_error = e.what();
    }
    read_end.reset();  // pg_dump gets EPIPE if we stopped early
    const int rc = wait_child(pid);
    conn.exec("COMMIT");
    // Our own write failure first: it made pg_dump fail too (EPIPE once we stopped reading).
    if (write_error.empty() && rc != 0) {
        remove_partial();
        throw Error(
            ErrorKind::backup_failed,
            fmt::format("pg_dump failed (exit code {}): {}", rc, scrub(read_fd_from_start(err.fd), split.password)),
            where, "fix what pg_dump says; no backup was written");
    }
    if (!write_error.empty() || fsync(out.fd) != 0) {
        if (write_error.empty()) write_error = std::strerror(errno);
        remove_partial();
        throw Error(ErrorKind::backup_failed, fmt::format("cannot write {}: {}", partial.string(), write_error),
                    "while writing the backup", "check the folder's space and permissions; no backup was written");
    }
    out.reset();

    nlohmann::json manifest = {
        {"format", kBackupFormat},
        {"file", path.filename().string()},
        {"database", facts.database},
        {"environment", env},
        {"server_version", facts.server_version},
        {"ledger_version", opt_json(facts.ledger_version)},
        {"fingerprint", opt_json(facts.fingerprint)},
        {"size", size},
        {"sha256", sha.hex()},
        {"created_at", utc_stamp(now, "%Y-%m-%dT%H:%M:%SZ")},
        {"pgmig_version", PGMIG_VERSION},
        {"key_id", key.key_id()},
        {"kdf", key.is_passphrase() ? "scrypt" : "none"},
        {"chunk_size", chunk_size},
    };
    // The manifest first, then the backup: a backup file never exists without its manifest.
    const fs::path manifest_path = path.string() + kManifestSuffix;
    try {
        write_atomically(manifest_path, manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (...) {
        remove_partial();
        throw;
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        remove_partial();
        fs::remove(manifest_path, ec);
        throw Error(ErrorKind::backup_failed, fmt::format("cannot rename {}: {}", partial.string(), why),
                    "while writing the backup", "check the folder's permissions");
    }
    fsync_dir(folder);

    BackupInfo info;
    info.path = path;
    info.manifest = manifest;
    info.removed = apply_retention(folder, settings.keep);
    info.seconds = seconds_since(start);
    return info;
}

// ---- list, manifest, retention ----

nlohmann::json read_manifest(const fs::path& backup) {
    const fs::path path = backup.string() + kManifestSuffix;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw Error(ErrorKind::backup_manifest, fmt::format("the manifest {} is missing", path.string()),
                    "beside " + backup.string(),
                    "without it the backup cannot be checked against what was recorded: use another backup");
    }
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(read_file_contents(path));
    } catch (const std::exception& e) {
        throw Error(ErrorKind::backup_manifest, fmt::format("the manifest is not valid JSON: {}", one_line(e.what())),
                    "in " + path.string(), "use another backup");
    }
    if (auto problem = manifest_problem(m)) {
        throw Error(ErrorKind::backup_manifest, "the manifest is invalid: " + *problem, "in " + path.string(),
                    "use another backup");
    }
    return m;
}

std::vector<BackupEntry> list_backups(const fs::path& folder) {
    std::vector<BackupEntry> out;
    // error_code overloads throughout: a folder or entry that cannot be read is a backup error naming it,
    // not a filesystem_error escaping as an internal error.
    auto unreadable = [&](const fs::path& what, const std::error_code& ec) {
        return Error(ErrorKind::backup_failed, fmt::format("cannot read {}: {}", what.string(), ec.message()),
                     "in the backup folder " + folder.string(), "check the folder, its entries and their permissions");
    };
    std::error_code ec;
    const fs::file_status st = fs::status(folder, ec);
    if (st.type() == fs::file_type::not_found) return out;
    if (ec) throw unreadable(folder, ec);
    if (st.type() != fs::file_type::directory) {
        throw Error(ErrorKind::backup_failed, fmt::format("{} is not a folder", folder.string()), "for the backups",
                    "give the backup folder (--out, backup_dir or dir of pgmig.toml)");
    }
    fs::directory_iterator it(folder, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        const std::string name = entry.path().filename().string();
        if (!std::regex_match(name, backup_name_re())) continue;
        std::error_code entry_ec;
        const bool regular = entry.is_regular_file(entry_ec);
        if (entry_ec) throw unreadable(entry.path(), entry_ec);
        if (!regular) continue;
        BackupEntry e;
        e.path = entry.path();
        e.file_size = entry.file_size(ec);
        try {
            e.manifest = read_manifest(e.path);
        } catch (const Error& err) {
            e.manifest_problem = err.what_failed();
        }
        out.push_back(std::move(e));
    }
    if (ec) throw unreadable(folder, ec);
    std::sort(out.begin(), out.end(), [](const BackupEntry& a, const BackupEntry& b) {
        return a.path.filename().string() > b.path.filename().string();
    });
    return out;
}

std::vector<fs::path> apply_retention(const fs::path& folder, int keep) {
    std::vector<fs::path> removed;
    if (keep <= 0) return removed;
    int kept = 0;
    for (const auto& e : list_backups(folder)) {
        if (!e.manifest) continue;
        if (++kept <= keep) continue;
        std::error_code ec;
        fs::remove(e.path, ec);
        if (ec) continue;
        fs::remove(e.path.string() + kManifestSuffix, ec);
        removed.push_back(e.path);
    }
    if (!removed.empty()) fsync_dir(folder);
    return removed;
}

// ---- verify ----

VerifyResult verify_backup(const fs::path& backup, const KeyMaterial& key) {
    const auto start = std::chrono::steady_clock::now();
    VerifyResult result;
    result.path = backup;
    std::optional<Error> manifest_error;
    std::optional<nlohmann::json> manifest;
    try {
        manifest = read_manifest(backup);
    } catch (const Error& e) {
        manifest_error = e;
    }
    try {
        std::error_code ec;
        if (!fs::is_regular_file(backup, ec)) {
            throw Error(ErrorKind::backup_failed, fmt::format("{} does not exist", backup.string()), "for verify",
                        "give the path of a .pgmig-backup file (see pgmig backup list)");
        }
        Fd list_out(temp_fd());
        Fd err(temp_fd());
        const auto [stream, rc] = decrypt_into_pg_restore(backup, key, pg_program("pg_restore"), {"--list"}, {},
                                                          list_out.fd, err.fd, "verifying " + backup.string());
        result.bytes = stream.bytes;
        result.plain_bytes = stream.plain;
        const std::string where = "in " + backup.string();
        if (manifest) check_against_manifest(stream, *manifest, backup);
        if (rc != 0) {
            throw Error(ErrorKind::backup_corrupted,
                        fmt::format("pg_restore --list rejects the archive (exit code {}): {}", rc,
                                    scrub(read_fd_from_start(err.fd), {})),
                        where, "do not restore it: use another backup");
        }
        const std::string listing = read_fd_from_start(list_out.fd, std::size_t{1} << 30);
        std::istringstream lines(listing);
        for (std::string line; std::getline(lines, line);) {
            if (!line.empty() && line[0] != ';') ++result.toc_entries;
        }
        if (manifest_error) throw *manifest_error;
    } catch (const Error& e) {
        result.error = e;
    }
    result.seconds = seconds_since(start);
    return result;
}

// ---- restore ----

namespace {

// pg_restore into the new database, the file checked against its manifest, the fingerprints compared.
void restore_into(const fs::path& backup, const nlohmann::json& manifest, const SplitConninfo& split,
                  const std::string& dbname, const KeyMaterial& key, const fs::path& pg_restore,
                  RestoreResult& result) {
    Fd err(temp_fd());
    const Fd devnull(open("/dev/null", O_WRONLY | O_CLOEXEC));
    const auto [stream, rc] =
        decrypt_into_pg_restore(backup, key, pg_restore, {"--exit-on-error", "--dbname=" + split.conninfo},
                                password_env(split), devnull.fd, err.fd, "restoring into " + dbname);
    check_against_manifest(stream, manifest, backup);
    if (rc != 0) {
        throw Error(
            ErrorKind::backup_failed,
            fmt::format("pg_restore failed (exit code {}): {}", rc, scrub(read_fd_from_start(err.fd), split.password)),
            fmt::format("restoring {} into {}", backup.filename().string(), dbname), "see pg_restore's message");
    }

    std::string restored_conninfo = split.conninfo;  // conninfo with dbname replaced, and its password
    if (!split.password.empty()) restored_conninfo += " password=" + quote_conn_value(split.password);
    Connection restored = Connection::open(restored_conninfo);
    if (installed_extension_version(restored)) {
        Result fp = restored.exec("SELECT migrate_fingerprint()");
        if (!fp.ok())
            throw Error(ErrorKind::backup_failed, "migrate_fingerprint() failed: " + fp.error().message,
                        "in " + dbname);
        result.fingerprint = fp.get(0, 0);
    }
    // The major version the backup was taken on (its manifest's server_version, "15.20 (Debian ...)").
    const std::string taken_on = manifest.value("server_version", std::string());
    Result live = restored.exec("SELECT current_setting('server_version')");
    const std::string restored_on = live.ok() ? live.get(0, 0) : std::string();
    const auto major = [](const std::string& v) { return v.substr(0, v.find_first_not_of("0123456789")); };
    if (!taken_on.empty() && !restored_on.empty() && major(taken_on) != major(restored_on)) {
        result.not_compared = fmt::format("the backup was taken on PostgreSQL {} and restored into {}: fingerprints of "
                                          "different major versions are not compared",
                                          major(taken_on), major(restored_on));
        return;
    }
    if (result.fingerprint != result.manifest_fingerprint) {
        throw Error(ErrorKind::restore_mismatch,
                    fmt::format("the restored database's fingerprint {} differs from the backup's {}",
                                result.fingerprint.value_or("(no extension)"),
                                result.manifest_fingerprint.value_or("(no extension)")),
                    fmt::format("in {} restored from {}", dbname, backup.filename().string()),
                    "compare them with migrate_fingerprint_objects()");
    }
}

}  // namespace

RestoreResult restore_backup(const fs::path& backup, const std::string& conninfo, const std::string& dbname,
                             const KeyMaterial& key) {
    const auto start = std::chrono::steady_clock::now();
    const nlohmann::json manifest = read_manifest(backup);
    RestoreResult result;
    result.database = dbname;
    if (!manifest["fingerprint"].is_null()) result.manifest_fingerprint = manifest["fingerprint"].get<std::string>();
    const fs::path pg_restore = pg_program("pg_restore");

    Connection conn = Connection::open(conninfo);
    const std::string where = "on " + conn.target();
    Result exists = conn.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", {dbname});
    if (!exists.ok())
        throw Error(ErrorKind::backup_failed, "cannot look up the database: " + exists.error().message, where);
    if (exists.rows() > 0) {
        throw Error(ErrorKind::backup_failed, fmt::format("database {} already exists", dbname), where,
                    "restore only into a new database: choose another name with --to");
    }
    char* ident = PQescapeIdentifier(conn.raw(), dbname.c_str(), dbname.size());
    if (ident == nullptr) throw Error(ErrorKind::input, "bad database name", "in --to", "use another name");
    const std::string quoted = ident;
    PQfreemem(ident);
    const SplitConninfo split = split_conninfo(conninfo, dbname);  // refuses what it cannot pass safely, first
    Result created = conn.exec("CREATE DATABASE " + quoted + " TEMPLATE template0");
    if (!created.ok()) {
        throw Error(ErrorKind::backup_failed,
                    fmt::format("CREATE DATABASE {} failed: {}", dbname, created.error().message), where,
                    "check the role's CREATEDB privilege");
    }

    // From here on the new database exists: every failure says it is left and how to drop it.
    const std::string next =
        fmt::format("database {} is left as it is: look at it, then DROP DATABASE {}", dbname, quoted);
    try {
        restore_into(backup, manifest, split, dbname, key, pg_restore, result);
    } catch (const Error& e) {
        throw Error(e.kind(), e.what_failed(), e.where(), e.next_step().empty() ? next : e.next_step() + "; " + next);
    } catch (const std::exception& e) {
        throw Error(ErrorKind::backup_failed, fmt::format("restoring failed: {}", e.what()),
                    fmt::format("restoring {} into {}", backup.filename().string(), dbname), next);
    }
    result.seconds = seconds_since(start);
    return result;
}

}  // namespace pgmig::client
