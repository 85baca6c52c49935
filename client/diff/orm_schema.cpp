// The desired schema from an ORM: drizzle-kit export or prisma migrate diff, run from the project's own
// node_modules/.bin, captured as SQL for the shadow database.
#include "client/diff/orm_schema.hpp"

#include "client/core/errors.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace pgmig::client {

namespace fs = std::filesystem;

namespace {

constexpr int kDefaultTimeoutSeconds = 300;
constexpr std::size_t kMaxOutput = 64U << 20U;  // a schema's SQL is far smaller; stop a runaway tool

std::string_view tool_name(OrmTool tool) { return tool == OrmTool::drizzle ? "Drizzle" : "Prisma"; }

std::string_view prefix_of(OrmTool tool) { return tool == OrmTool::drizzle ? "drizzle:" : "prisma:"; }

bool is_drizzle_config(const fs::path& path) {
    const std::string leaf = path.filename().string();
    return leaf.rfind("drizzle.config.", 0) == 0;
}

// The nearest folder holding package.json, from the schema (a file's folder, or the folder itself) up.
std::optional<fs::path> package_folder(const fs::path& schema) {
    std::error_code ec;
    fs::path dir = fs::is_directory(schema, ec) ? schema : schema.parent_path();
    for (;;) {
        if (fs::is_regular_file(dir / "package.json", ec)) return dir;
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

// node_modules/.bin/<program> of `from` and its ancestors (as npm and Node.js resolve packages; a monorepo
// hoists them to the root). `looked` gets every folder tried.
std::optional<fs::path> find_tool(const fs::path& from, std::string_view program, std::vector<std::string>& looked) {
    fs::path dir = from;
    for (;;) {
        const fs::path bin = dir / "node_modules" / ".bin";
        looked.push_back(bin.string());
        const fs::path candidate = bin / std::string(program);
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
        if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

bool node_on_path() {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return false;
    std::stringstream folders(path);
    std::string folder;
    while (std::getline(folders, folder, ':')) {
        if (folder.empty()) continue;
        const fs::path candidate = fs::path(folder) / "node";
        if (access(candidate.c_str(), X_OK) == 0) return true;
    }
    return false;
}

int prisma_major(const fs::path& bin_dir) {
    std::ifstream in(bin_dir.parent_path() / "prisma" / "package.json");
    if (!in) return 0;
    const nlohmann::json package = nlohmann::json::parse(in, nullptr, false);
    if (!package.is_object() || !package.contains("version") || !package["version"].is_string()) return 0;
    return std::atoi(package["version"].get<std::string>().c_str());
}

int timeout_seconds() {
    const char* text = std::getenv("PGMIG_ORM_TIMEOUT");
    if (text == nullptr || *text == '\0') return kDefaultTimeoutSeconds;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value <= 0 || value > 86400) {
        throw Error(ErrorKind::usage, "PGMIG_ORM_TIMEOUT is not a number of seconds between 1 and 86400",
                    "in the environment", "unset it (default 300) or give whole seconds");
    }
    return static_cast<int>(value);
}

// What the tool printed, fit for one error message: colours removed, a URL's password masked, the last
// lines only.
std::string trimmed_output(std::string text) {
    std::string clean;
    clean.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\x1b') {  // CSI sequence: ESC [ ... final byte
            std::size_t j = i + 1;
            if (j < text.size() && text[j] == '[') {
                ++j;
                while (j < text.size() && !(text[j] >= '@' && text[j] <= '~')) ++j;
            }
            i = j;
            continue;
        }
        if (text[i] == '\r') continue;
        clean += text[i];
    }
    // scheme://user:password@host -> scheme://user:***@host
    for (std::size_t at = clean.find("://"); at != std::string::npos; at = clean.find("://", at + 3)) {
        const std::size_t start = at + 3;
        std::size_t end = start;
        while (end < clean.size() && clean[end] != '@' && clean[end] != '/' && clean[end] != ' ' &&
               clean[end] != '\n' && clean[end] != '"' && clean[end] != '\'')
            ++end;
        if (end >= clean.size() || clean[end] != '@') continue;
        const std::size_t colon = clean.find(':', start);
        if (colon != std::string::npos && colon < end) clean.replace(colon + 1, end - colon - 1, "***");
    }
    // The message, not the JavaScript stack under it: "    at f (file.js:1:2)" lines are left out, and the
    // tool's own chatter ("Loaded Prisma config from ...").
    std::vector<std::string> lines;
    std::stringstream in(clean);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        std::size_t indent = 0;
        while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
        const std::string_view body = std::string_view(line).substr(indent);
        if (body.empty() || body.rfind("at ", 0) == 0 || body.rfind("Loaded Prisma config", 0) == 0 ||
            body.rfind("Prisma schema loaded from", 0) == 0 || body.rfind("Environment variables loaded", 0) == 0)
            continue;
        lines.push_back(line.substr(indent));
    }
    constexpr std::size_t kLines = 12;
    std::string out;
    for (std::size_t i = 0; i < lines.size() && i < kLines; ++i) out += (i ? " | " : "") + lines[i];
    if (lines.size() > kLines) out += fmt::format(" (... {} more lines)", lines.size() - kLines);
    constexpr std::size_t kChars = 2000;
    if (out.size() > kChars) out = out.substr(0, kChars) + "...";
    return out;
}

struct Captured {
    int exit_code = -1;  // -1: killed by a signal (or not started)
    bool timed_out = false;
    bool interrupted = false;
    std::string out;
    std::string err;
    std::string start_error;
};

// fork + exec without a shell, stdin /dev/null, stdout and stderr captured apart, in a process group of its
// own so that a timeout (or Ctrl-C) ends the tool and whatever it started (esbuild, the schema engine).
Captured run_captured(const std::vector<std::string>& argv, const fs::path& cwd, const std::vector<std::string>& env,
                      int timeout_s) {
    Captured result;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        result.start_error = std::string("cannot create a pipe: ") + std::strerror(errno);
        return result;
    }
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        result.start_error = std::string("cannot create a pipe: ") + std::strerror(errno);
        close(out_pipe[0]);
        close(out_pipe[1]);
        return result;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        result.start_error = std::string("cannot fork: ") + std::strerror(errno);
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
        return result;
    }
    if (pid == 0) {
        // Child: only async-signal-safe work from here on. Its own process group (a timeout kills the tool
        // and what it started), and killed with pgmig should pgmig die first (Ctrl-C before the guard).
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        if (chdir(cwd.c_str()) != 0) {
            static const char msg[] = "pgmig: cannot enter the project folder\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(126);
        }
        execve(args[0], args.data(), envp.data());
        static const char msg[] = "pgmig: cannot execute the program\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    setpgid(pid, pid);  // also here: whichever runs first, the group exists before we may signal it
    close(out_pipe[1]);
    close(err_pipe[1]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_fds = 2;
    bool killed = false;
    while (open_fds > 0) {
        if (InterruptGuard::interrupted()) result.interrupted = true;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) result.timed_out = true;
        if ((result.timed_out || result.interrupted) && !killed) {
            kill(-pid, SIGKILL);
            killed = true;
        }
        const int ready = poll(fds, 2, static_cast<int>(std::min<long>(std::max<long>(left.count(), 1), 200)));
        if (ready < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            char buffer[65536];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                if (sinks[i]->size() < kMaxOutput) sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& fd : fds) {
        if (fd.fd >= 0) close(fd.fd);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!killed) kill(-pid, SIGKILL);  // anything the tool left running in its group
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

bool blank(std::string_view text) {
    for (char c : text) {
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r') return false;
    }
    return true;
}

// A SQL text with nothing but comments and blank lines ("-- This is an empty migration.").
bool only_comments(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t end = std::min(text.find('\n', i), text.size());
        std::string_view line = text.substr(i, end - i);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (!blank(line) && line.rfind("--", 0) != 0) return false;
        i = end + 1;
    }
    return true;
}

}  // namespace

std::optional<OrmSchemaSource> parse_orm_schema_source(std::string_view value) {
    for (OrmTool tool : {OrmTool::drizzle, OrmTool::prisma}) {
        const std::string_view prefix = prefix_of(tool);
        if (value.substr(0, prefix.size()) != prefix) continue;
        std::string path(value.substr(prefix.size()));
        if (path.empty()) {
            throw Error(
                ErrorKind::usage, fmt::format("'{}' names no schema file", value), "in the desired schema",
                fmt::format("write {}PATH, e.g. {}", prefix,
                            tool == OrmTool::drizzle ? "drizzle:src/db/schema.ts" : "prisma:prisma/schema.prisma"));
        }
        return OrmSchemaSource{tool, std::move(path), std::string(value)};
    }
    return std::nullopt;
}

std::string_view orm_tool_program(OrmTool tool) { return tool == OrmTool::drizzle ? "drizzle-kit" : "prisma"; }

std::string_view orm_tool_install_hint(OrmTool tool) {
    return tool == OrmTool::drizzle ? "npm install -D drizzle-kit drizzle-orm" : "npm install -D prisma";
}

std::vector<std::string> orm_tool_arguments(OrmTool tool, const std::string& schema, int prisma_major) {
    if (tool == OrmTool::drizzle) {
        // A drizzle.config.* brings the project's own settings (casing, schemaFilter, several files).
        if (is_drizzle_config(schema)) return {"export", "--sql", "--config", schema};
        return {"export", "--sql", "--dialect", "postgresql", "--schema", schema};
    }
    // Prisma 7 renamed --to-schema-datamodel to --to-schema. Neither needs a database.
    return {"migrate", "diff",    "--from-empty", prisma_major >= 7 ? "--to-schema" : "--to-schema-datamodel",
            schema,    "--script"};
}

std::vector<std::string> orm_tool_environment(const std::vector<std::string>& environment) {
    std::vector<std::string> out;
    for (const auto& entry : environment) {
        const std::string name = entry.substr(0, entry.find('='));
        if (name.rfind("PG", 0) == 0) continue;  // libpq's and node-postgres's settings, passwords included
        if (name == "CHECKPOINT_DISABLE" || name == "PRISMA_HIDE_UPDATE_MESSAGE" || name == "NO_COLOR" ||
            name == "FORCE_COLOR" || name == "NO_UPDATE_NOTIFIER")
            continue;
        out.push_back(entry);
    }
    out.emplace_back("CHECKPOINT_DISABLE=1");          // Prisma's telemetry/update check (a network call)
    out.emplace_back("PRISMA_HIDE_UPDATE_MESSAGE=1");  // nothing but SQL on stdout
    out.emplace_back("NO_UPDATE_NOTIFIER=1");
    out.emplace_back("NO_COLOR=1");
    out.emplace_back("FORCE_COLOR=0");
    return out;
}

SchemaFile orm_schema_file(const OrmSchemaSource& source) {
    const std::string_view name = tool_name(source.tool);
    const std::string_view program = orm_tool_program(source.tool);
    const std::string setting = fmt::format("schema = \"{}\"", source.text);
    std::error_code ec;
    const fs::path project = fs::current_path(ec);
    const fs::path schema = fs::absolute(source.path, ec).lexically_normal();
    if (!fs::exists(schema, ec)) {
        throw Error(ErrorKind::orm_schema_failed, fmt::format("the {} schema file does not exist", name),
                    fmt::format("at {} (from {}; the path is relative to the project folder {})", schema.string(),
                                source.text, project.string()),
                    "fix the path in pgmig.toml's schema (or --schema / --to); nothing was changed");
    }
    const fs::path package = package_folder(schema).value_or(project);
    std::vector<std::string> looked;
    const std::optional<fs::path> tool = find_tool(package, program, looked);
    if (!tool) {
        std::string where = "looked in ";
        for (std::size_t i = 0; i < looked.size(); ++i) where += (i ? ", " : "") + looked[i];
        throw Error(ErrorKind::orm_schema_failed,
                    fmt::format("{} is not installed in the project ({} needs the project's own {})", program, setting,
                                program),
                    where,
                    fmt::format("run `{}` in {} (pgmig runs the project's node_modules/.bin/{}, never a global "
                                "install or npx); nothing was changed",
                                orm_tool_install_hint(source.tool), package.string(), program));
    }
    if (!node_on_path()) {
        throw Error(ErrorKind::orm_schema_failed,
                    fmt::format("Node.js is not installed: `node` is not on PATH, and {} runs on it", program),
                    fmt::format("for {}", setting),
                    "install Node.js 18 or later (Debian: apt-get install nodejs) or put it on PATH; nothing was "
                    "changed");
    }
    const fs::path relative = schema.lexically_relative(package);
    const std::string schema_arg =
        relative.empty() || relative.native().rfind("..", 0) == 0 ? schema.string() : relative.string();
    std::vector<std::string> argv{tool->string()};
    for (auto& argument : orm_tool_arguments(source.tool, schema_arg,
                                             source.tool == OrmTool::prisma ? prisma_major(tool->parent_path()) : 0))
        argv.push_back(std::move(argument));
    std::vector<std::string> environment;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) environment.emplace_back(*e);
    const int timeout = timeout_seconds();

    std::string command = std::string(program);
    for (std::size_t i = 1; i < argv.size(); ++i) command += " " + argv[i];
    const std::string where = fmt::format("running {} in {}", command, package.string());
    const Captured run = run_captured(argv, package, orm_tool_environment(environment), timeout);
    if (run.interrupted) InterruptGuard::check(where);
    if (!run.start_error.empty()) {
        throw Error(ErrorKind::orm_schema_failed, fmt::format("cannot start {}: {}", program, run.start_error), where,
                    "nothing was changed");
    }
    if (run.timed_out) {
        throw Error(ErrorKind::orm_schema_failed,
                    fmt::format("{} did not finish within {} s and was stopped", program, timeout), where,
                    "set PGMIG_ORM_TIMEOUT=SECONDS for a slower machine; nothing was changed");
    }
    // drizzle-kit export reports a schema it cannot load on stderr and exits 0 without SQL: a failure too.
    const bool no_sql = blank(run.out) || only_comments(run.out);
    std::string said = trimmed_output(run.err);
    if (said.empty() && run.exit_code != 0) said = trimmed_output(run.out);
    if (run.exit_code != 0 || (no_sql && !said.empty())) {
        if (said.empty()) said = "(it printed nothing)";
        throw Error(
            ErrorKind::orm_schema_failed,
            run.exit_code == 0
                ? fmt::format("{} failed (no SQL): {}", program, said)
                : fmt::format("{} failed (exit {}): {}", program,
                              run.exit_code < 0 ? std::string("by a signal") : std::to_string(run.exit_code), said),
            where,
            fmt::format("fix what {} reports, usually in the {} schema (run the same command in {} to see "
                        "all it says); nothing was changed",
                        program, name, package.string()));
    }
    if (no_sql) {
        throw Error(
            ErrorKind::orm_schema_failed,
            fmt::format("{} printed no SQL: the {} schema defines no table, type or other object", program, name),
            where,
            fmt::format("check that {} is the file that defines (and, for Drizzle, exports) the schema; "
                        "nothing was changed",
                        source.path));
    }
    return SchemaFile{fmt::format("{} ({} output)", source.text, program), run.out};
}

}  // namespace pgmig::client
