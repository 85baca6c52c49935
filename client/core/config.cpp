// pgmig.toml through toml++: every key known by name, everything else refused by name.
#include "client/core/config.hpp"

#include "client/core/config_reader.hpp"
#include "client/core/errors.hpp"
#include "client/ops/fleet/fleet_config_reader.hpp"
#include "client/core/text_bytes.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string_view>

namespace pgmig::client {

namespace {

using namespace toml_reader;  // NOLINT(google-build-using-namespace): the readers are this file's vocabulary

void read_backup(const toml::table& table, const std::string& path, const std::string& where, BackupSettings& out) {
    TableReader(table, path, where)
        .read({
            {"dir", [&](const toml::node& n, const std::string& k) { out.dir = get_string(n, k, where); }},
            {"keep", [&](const toml::node& n, const std::string& k) { out.keep = static_cast<int>(get_int(n, k, where, 0, 100000)); }},
            {"key_file", [&](const toml::node& n, const std::string& k) { out.key_file = get_string(n, k, where); }},
            {"key_env",
             [&](const toml::node& n, const std::string& k) {
                 out.key_env = get_string(n, k, where);
                 check_env_name(out.key_env, k, where);
             }},
        });
}

AlertTarget read_alert(const std::string& name, const toml::table& table, const std::string& where) {
    const std::string path = "alerts." + name;
    AlertTarget alert;
    alert.name = name;
    bool has_type = false;
    auto env_name = [&](std::string& field) {
        return [&field, &where](const toml::node& n, const std::string& k) {
            field = get_string(n, k, where);
            check_env_name(field, k, where);
        };
    };
    TableReader(table, path, where)
        .read({
            {"type",
             [&](const toml::node& n, const std::string& k) {
                 has_type = true;
                 alert.kind = get_choice(n, k, where, {"webhook", "email"}) == "email" ? AlertTarget::Kind::email
                                                                                     : AlertTarget::Kind::webhook;
             }},
            {"url",
             [&](const toml::node& n, const std::string& k) {
                 alert.url = get_string(n, k, where);
                 check_url_no_password(alert.url, k, fmt::format("alert target '{}'", name), where);
             }},
            {"url_env", env_name(alert.url_env)},
            {"secret_env", env_name(alert.secret_env)},
            {"format", [&](const toml::node& n, const std::string& k) { alert.format = get_choice(n, k, where, {"json", "slack"}); }},
            {"smtp",
             [&](const toml::node& n, const std::string& k) {
                 alert.smtp = get_string(n, k, where);
                 check_url_no_password(alert.smtp, k, fmt::format("alert target '{}'", name), where);
             }},
            {"from", [&](const toml::node& n, const std::string& k) { alert.from = get_string(n, k, where); }},
            {"to", [&](const toml::node& n, const std::string& k) { alert.to = get_strings(n, k, where); }},
            {"username", [&](const toml::node& n, const std::string& k) { alert.username = get_string(n, k, where); }},
            {"password_env", env_name(alert.password_env)},
            {"starttls",
             [&](const toml::node& n, const std::string& k) {
                 alert.starttls = get_choice(n, k, where, {"auto", "always", "never"});
             }},
            {"timeout",
             [&](const toml::node& n, const std::string& k) {
                 alert.timeout_ms = get_duration_ms(n, k, where);
                 // libcurl reads 0 as "no timeout": an attempt must stay bounded.
                 if (alert.timeout_ms < 100) {
                     throw Error(ErrorKind::input,
                                 fmt::format("key '{}' is {}ms; an alert attempt needs a timeout of at least 100ms",
                                             k, alert.timeout_ms),
                                 where, "write timeout = \"5s\" (the default), or any duration from 100ms");
                 }
             }},
            {"retries", [&](const toml::node& n, const std::string& k) { alert.retries = static_cast<int>(get_int(n, k, where, 0, 10)); }},
            {"retry_wait", [&](const toml::node& n, const std::string& k) { alert.retry_wait_ms = get_duration_ms(n, k, where); }},
            {"events",
             [&](const toml::node& n, const std::string& k) {
                 alert.events = get_strings(n, k, where);
                 for (const auto& event : alert.events) {
                     if (std::find_if(std::begin(kAlertEvents), std::end(kAlertEvents),
                                      [&](const char* e) { return event == e; }) == std::end(kAlertEvents)) {
                         throw Error(ErrorKind::input, fmt::format("key '{}' names unknown event '{}'", k, event),
                                     where, fmt::format("use some of: {}", fmt::join(kAlertEvents, ", ")));
                     }
                 }
             }},
        });
    const std::string next = fmt::format("see the alerts section of docs/operations.md");
    if (!has_type) {
        throw Error(ErrorKind::input, fmt::format("[{}] has no type", path), where,
                    "write type = \"webhook\" or type = \"email\"");
    }
    if (alert.kind == AlertTarget::Kind::webhook && alert.url.empty() == alert.url_env.empty()) {
        throw Error(ErrorKind::input, fmt::format("webhook [{}] needs exactly one of url and url_env", path), where,
                    next);
    }
    if (alert.kind == AlertTarget::Kind::email && (alert.smtp.empty() || alert.from.empty() || alert.to.empty())) {
        throw Error(ErrorKind::input, fmt::format("email [{}] needs smtp, from and to", path), where, next);
    }
    if (alert.kind == AlertTarget::Kind::email && !alert.smtp.starts_with("smtp://") &&
        !alert.smtp.starts_with("smtps://")) {
        throw Error(ErrorKind::input, fmt::format("key '{}.smtp' must start with smtp:// or smtps://", path), where,
                    "write smtp = \"smtp://mail.example.com:587\"");
    }
    return alert;
}

Environment read_environment(const std::string& name, const toml::table& table, const BackupSettings& defaults,
                             const ShadowSettings& shadow_defaults, const std::string& where) {
    const std::string path = "environments." + name;
    Environment env;
    env.name = name;
    env.backup_settings = defaults;
    env.shadow = shadow_defaults;
    TableReader(table, path, where)
        .read({
            {"dbname",
             [&](const toml::node& n, const std::string& k) {
                 env.dbname = get_string(n, k, where);
                 check_no_inline_password(env.dbname, k, fmt::format("environment '{}'", name), where);
             }},
            {"dbname_env",
             [&](const toml::node& n, const std::string& k) {
                 env.dbname_env = get_string(n, k, where);
                 check_env_name(env.dbname_env, k, where);
             }},
            {"backup", [&](const toml::node& n, const std::string& k) { env.backup = get_bool(n, k, where); }},
            {"backup_dir", [&](const toml::node& n, const std::string& k) { env.backup_settings.dir = get_string(n, k, where); }},
            {"backup_keep",
             [&](const toml::node& n, const std::string& k) {
                 env.backup_settings.keep = static_cast<int>(get_int(n, k, where, 0, 100000));
             }},
            {"backup_key_file",
             [&](const toml::node& n, const std::string& k) { env.backup_settings.key_file = get_string(n, k, where); }},
            {"backup_key_env",
             [&](const toml::node& n, const std::string& k) {
                 env.backup_settings.key_env = get_string(n, k, where);
                 check_env_name(env.backup_settings.key_env, k, where);
             }},
            {"approval", [&](const toml::node& n, const std::string& k) { env.approval = get_bool(n, k, where); }},
            {"lint", [&](const toml::node& n, const std::string& k) { env.lint = get_choice(n, k, where, {"off", "error", "warning"}); }},
            {"alerts", [&](const toml::node& n, const std::string& k) { env.alerts = get_strings(n, k, where); }},
            {"shadow_db", [&](const toml::node& n, const std::string& k) { env.shadow.db = get_string(n, k, where); }},
            {"shadow_owner", [&](const toml::node& n, const std::string& k) { env.shadow.owner = get_string(n, k, where); }},
            {"shadow_server",
             [&](const toml::node& n, const std::string& k) {
                 env.shadow.server = get_string(n, k, where);
                 check_no_inline_password(env.shadow.server, k, fmt::format("environment '{}'", name), where);
             }},
        });
    if (!env.dbname.empty() && !env.dbname_env.empty()) {
        throw Error(ErrorKind::input, fmt::format("[{}] has both dbname and dbname_env", path), where,
                    "keep one of them");
    }
    return env;
}

}  // namespace

ProjectConfig load_config(const std::filesystem::path& file) {
    const std::string where = "in " + file.string();
    toml::table table;
    // Read and checked first: a NUL byte or invalid UTF-8 is named with its position (exit 43), not left to
    // the TOML parser, whose message may quote the bytes.
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) {
        throw Error(ErrorKind::input, "cannot read the project file", where, "check that it exists and is readable");
    }
    const std::string text = content.str();
    if (const auto bad = find_bad_bytes(text)) {
        throw Error(ErrorKind::bad_bytes, "the project file holds " + describe(*bad), where, kBadBytesAdvice);
    }
    try {
        table = toml::parse(text, file.string());
    } catch (const toml::parse_error& e) {
        const auto& begin = e.source().begin;
        throw Error(ErrorKind::input, fmt::format("cannot parse the project file: {}", e.description()),
                    fmt::format("{} line {} column {}", where, begin.line, begin.column),
                    "fix it (TOML syntax: migrations = \"migrations\")");
    }
    ProjectConfig config;
    const toml::table* environments = nullptr;
    const toml::table* fleets = nullptr;
    TableReader(table, "", where)
        .read({
            {"migrations",
             [&](const toml::node& n, const std::string& k) { config.migrations = get_string(n, k, where); }},
            {"format",
             [&](const toml::node& n, const std::string& k) {
                 config.format = get_string(n, k, where);
                 if (!folder_format_named(config.format)) {
                     throw Error(ErrorKind::input,
                                 fmt::format("key '{}' is '{}', not a format pgmig reads", k, config.format), where,
                                 fmt::format("use one of: {}", folder_format_names()));
                 }
             }},
            {"schema", [&](const toml::node& n, const std::string& k) { config.schema = get_string(n, k, where); }},
            {"shadow_db",
             [&](const toml::node& n, const std::string& k) { config.shadow.db = get_string(n, k, where); }},
            {"shadow_owner",
             [&](const toml::node& n, const std::string& k) { config.shadow.owner = get_string(n, k, where); }},
            {"shadow_server",
             [&](const toml::node& n, const std::string& k) {
                 config.shadow.server = get_string(n, k, where);
                 check_no_inline_password(config.shadow.server, k, "the top level", where);
             }},
            {"audit_log",
             [&](const toml::node& n, const std::string& k) { config.audit_log = get_string(n, k, where, true); }},
            {"bugs", [&](const toml::node& n, const std::string& k) { config.bugs = get_string(n, k, where); }},
            {"backup", [&](const toml::node& n,
                           const std::string& k) { read_backup(get_table(n, k, where), k, where, config.backup); }},
            {"alerts",
             [&](const toml::node& n, const std::string& k) {
                 for (const auto& [name, target] : get_table(n, k, where)) {
                     const std::string key = k + "." + std::string(name.str());
                     config.alerts.emplace(std::string(name.str()),
                                           read_alert(std::string(name.str()), get_table(target, key, where), where));
                 }
             }},
            // Read after [backup] and shadow_*, whatever the order in the file: environments inherit them.
            {"environments",
             [&](const toml::node& n, const std::string& k) { environments = &get_table(n, k, where); }},
            // Read after the environments: a fleet names the environment whose policy it runs under.
            {"fleets", [&](const toml::node& n, const std::string& k) { fleets = &get_table(n, k, where); }},
        });
    if (environments != nullptr) {
        for (const auto& [name, env] : *environments) {
            const std::string key = "environments." + std::string(name.str());
            Environment e = read_environment(std::string(name.str()), get_table(env, key, where), config.backup, config.shadow,
                                            where);
            for (const auto& alert : e.alerts) {
                if (!config.alerts.contains(alert)) {
                    throw Error(ErrorKind::input, fmt::format("[{}] names alert target '{}', which is not defined", key, alert),
                                where, fmt::format("add an [alerts.{}] section or remove it from alerts", alert));
                }
            }
            config.environments.emplace(e.name, std::move(e));
        }
    }
    if (fleets != nullptr) {
        for (const auto& [name, fleet] : *fleets) {
            const std::string key = "fleets." + std::string(name.str());
            config.fleets.emplace(std::string(name.str()),
                                  fleet::read_fleet(std::string(name.str()), get_table(fleet, key, where), config, where));
        }
    }
    return config;
}

ProjectConfig load_project_config() {
    std::error_code ec;
    if (std::filesystem::exists(kConfigFile, ec)) return load_config(kConfigFile);
    return {};
}

std::string resolve_migrations_dir(const std::string& dir_option) {
    if (!dir_option.empty()) return dir_option;
    return load_project_config().migrations;
}

namespace {
std::string& format_option() {
    static std::string format;
    return format;
}
}  // namespace

void set_format_option(const std::string& format) { format_option() = format; }

std::optional<FolderFormat> resolve_folder_format(const std::string& dir) {
    if (!format_option().empty()) return folder_format_named(format_option());
    std::error_code ec;
    if (!std::filesystem::exists(kConfigFile, ec)) return std::nullopt;
    const ProjectConfig config = load_config(kConfigFile);
    if (config.format.empty()) return std::nullopt;
    const auto same_folder = [](const std::string& a, const std::string& b) {
        const auto norm = [](const std::string& p) {
            std::error_code e;
            std::string n =
                std::filesystem::weakly_canonical(std::filesystem::absolute(p, e), e).lexically_normal().string();
            while (n.size() > 1 && n.back() == '/') n.pop_back();
            return n;
        };
        return norm(a) == norm(b);
    };
    if (!same_folder(config.migrations, dir)) {
        return std::nullopt;  // another folder than the project's: its own files say what it is
    }
    return folder_format_named(config.format);
}

std::string resolve_schema_dir(const std::string& schema_option) {
    if (!schema_option.empty()) return schema_option;
    return load_project_config().schema;
}

const Environment& find_environment(const ProjectConfig& config, const std::string& name) {
    const auto it = config.environments.find(name);
    if (it != config.environments.end()) return it->second;
    std::vector<std::string> known;
    for (const auto& [n, e] : config.environments) known.push_back(n);
    std::error_code ec;
    const std::filesystem::path file = std::filesystem::absolute(kConfigFile, ec);
    const std::string path = ec ? std::string(kConfigFile) : file.string();
    if (!known.empty()) {
        throw Error(ErrorKind::input, fmt::format("no environment '{}' in {}", name, path), "for --env",
                    fmt::format("use one of: {} (or add an [environments.{}] section)", fmt::join(known, ", "), name));
    }
    if (!std::filesystem::exists(kConfigFile, ec)) {
        throw Error(ErrorKind::input, fmt::format("no environment '{}': there is no {}", name, path), "for --env",
                    fmt::format("run pgmig in the project's folder, or write {} with an [environments.{}] section "
                                "(pgmig init writes one)",
                                kConfigFile, name));
    }
    throw Error(ErrorKind::input, fmt::format("no environment '{}' in {}", name, path), "for --env",
                fmt::format("it defines no environment; add an [environments.{}] section", name));
}

std::string environment_conninfo(const Environment& env) {
    if (!env.dbname.empty()) return env.dbname;
    if (!env.dbname_env.empty()) {
        const char* value = std::getenv(env.dbname_env.c_str());
        if (value != nullptr && *value != '\0') return value;
        throw Error(ErrorKind::input,
                    fmt::format("environment '{}': the variable {} (dbname_env) is not set", env.name, env.dbname_env),
                    "in ./pgmig.toml", fmt::format("export {} with the connection string", env.dbname_env));
    }
    throw Error(ErrorKind::input, fmt::format("environment '{}' has no dbname or dbname_env", env.name),
                "in ./pgmig.toml", "add dbname = \"host=... dbname=...\" (passwords belong in ~/.pgpass)");
}

}  // namespace pgmig::client
