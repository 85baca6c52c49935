// The client's JSON-lines audit log: the record of one command and its single appending write.
#include "client/core/audit_log.hpp"

#include "client/core/config.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <regex>

namespace pgmig::client {

AuditContext& audit_context() {
    static AuditContext context;
    return context;
}

void audit_note_connection(const std::string& target, const std::string& role) {
    AuditContext& c = audit_context();
    if (!c.db_role) c.db_role = role;
    if (!c.target) c.target = target;
}

void audit_note_environment(const std::string& environment) { audit_context().environment = environment; }

void audit_note_version(const std::string& version) {
    auto& versions = audit_context().versions;
    for (const auto& v : versions) {
        if (v == version) return;
    }
    versions.push_back(version);
}

std::vector<std::string> redact_arguments(int argc, const char* const* argv) {
    // password=..., or a URI's user:secret@ (postgresql://u:p@h), anywhere in an argument.
    static const std::regex secret(R"(password\s*=|://[^/@\s]*:[^/@\s]*@)", std::regex::icase);
    std::vector<std::string> out;
    bool next_is_conninfo = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (next_is_conninfo) {
            out.emplace_back("<conninfo>");
            next_is_conninfo = false;
        } else if (arg == "-d" || arg == "--dbname") {
            out.push_back(arg);
            next_is_conninfo = true;
        } else if (arg.rfind("--dbname=", 0) == 0) {
            out.emplace_back("--dbname=<conninfo>");
        } else if (arg.rfind("-d", 0) == 0 && arg.size() > 2) {
            out.emplace_back("-d<conninfo>");
        } else if (std::regex_search(arg, secret)) {
            out.emplace_back("<redacted>");
        } else {
            out.push_back(arg);
        }
    }
    return out;
}

std::string redact_message(const std::string& message) {
    // Same shapes as redact_arguments: a URI's user:secret@, and (ssl)password=value, quoted or not.
    static const std::regex uri(R"((://[^/@\s:]*:)[^@\s]*@)");
    static const std::regex pair(R"(((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'?|\S*))", std::regex::icase);
    std::string out = std::regex_replace(message, uri, "$1<redacted>@");
    return std::regex_replace(out, pair, "$1=<redacted>");
}

std::string audit_log_path() {
    if (const char* env = std::getenv("PGMIG_AUDIT_LOG")) return env;
    std::error_code ec;
    if (std::filesystem::exists(kConfigFile, ec)) {
        try {
            return load_project_config().audit_log;  // relative to the project's folder (the current one)
        } catch (...) {
            return kDefaultAuditLog;  // the command itself reports the broken pgmig.toml
        }
    }
    // No project here: the user's own log, never a logs/ folder in whatever folder pgmig runs in.
    return user_audit_log_path();
}

std::string user_audit_log_path() {
    const char* state = std::getenv("XDG_STATE_HOME");
    if (state != nullptr && state[0] == '/') return std::string(state) + "/pgmig/migration-audit.log";
    const char* home = std::getenv("HOME");
    if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/pgmig/migration-audit.log";
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buffer[1024];
    if (getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found != nullptr && found->pw_dir[0] == '/')
        return std::string(found->pw_dir) + "/.local/state/pgmig/migration-audit.log";
    return "";  // nowhere that is the user's own: no log
}

namespace {

std::string os_user() {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buffer[1024];
    if (getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found != nullptr) return found->pw_name;
    return std::to_string(geteuid());
}

std::string utc_iso_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03lldZ", text, static_cast<long long>(ms));
    return out;
}

nlohmann::json optional_json(const std::optional<std::string>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json audit_record(const AuditContext& context, int exit_code, const std::string& error_kind,
                            const std::string& error_message) {
    const auto elapsed = std::chrono::steady_clock::now() - context.started;
    nlohmann::json outcome = {{"status", exit_code == 0 ? "ok" : "error"}, {"exit_code", exit_code}};
    if (!error_kind.empty()) outcome["kind"] = error_kind;
    // An error can quote an argument (a CLI11 usage error): masked like the arguments are.
    if (!error_message.empty()) outcome["message"] = redact_message(error_message);
    return {{"time", utc_iso_now()},
            {"os_user", os_user()},
            {"db_role", optional_json(context.db_role)},
            {"environment", context.environment.empty() ? nlohmann::json(nullptr) : nlohmann::json(context.environment)},
            {"target", optional_json(context.target)},
            {"command", context.command},
            {"arguments", context.arguments},
            {"versions", context.versions},
            {"outcome", outcome},
            {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()}};
}

std::string append_audit_line(const std::string& path, const nlohmann::json& record) {
    if (path.empty()) return {};
    std::error_code ec;
    const std::filesystem::path file(path);
    if (file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path(), ec);
        if (ec) return "cannot create " + file.parent_path().string() + ": " + ec.message();
    }
    // Replace invalid UTF-8 rather than throw: the log line must always be written.
    const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    const ssize_t written = ::write(fd, line.data(), line.size());
    const int write_errno = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(line.size())) {
        return "cannot append to " + path + ": " + (written < 0 ? std::strerror(write_errno) : "short write");
    }
    return {};
}

}  // namespace pgmig::client
