// pgmig.toml through toml++: every key known by name, everything else refused by name.
#include "client/config.hpp"

#include "client/errors.hpp"
#include "client/text_bytes.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>
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

// Reads one table's keys: each known key has a reader; any other key is an error naming the table.
class TableReader {
  public:
    TableReader(const toml::table& table, std::string path, std::string where)
        : table_(table), path_(std::move(path)), where_(std::move(where)) {}

    using Handler = std::function<void(const toml::node&, const std::string& key_path)>;

    void read(std::initializer_list<std::pair<std::string_view, Handler>> handlers) const {
        for (const auto& [key, value] : table_) {
            const auto it = std::find_if(handlers.begin(), handlers.end(),
                                         [&](const auto& h) { return h.first == key.str(); });
            if (it == handlers.end()) {
                std::vector<std::string_view> known;
                for (const auto& h : handlers) known.push_back(h.first);
                throw Error(ErrorKind::input, fmt::format("unknown key '{}'", key_path(key.str())), where_,
                            fmt::format("remove it; {} knows only: {}", path_.empty() ? "pgmig.toml" : "[" + path_ + "]",
                                        fmt::join(known, ", ")));
            }
            it->second(value, key_path(key.str()));
        }
    }

    std::string key_path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

  private:
    const toml::table& table_;
    std::string path_;
    std::string where_;
};

[[noreturn]] void wrong_type(const std::string& key, const char* expected, const std::string& where,
                             const std::string& example) {
    throw Error(ErrorKind::input, fmt::format("key '{}' must be {}", key, expected), where,
                fmt::format("write {} = {}", key.substr(key.rfind('.') + 1), example));
}

std::string get_string(const toml::node& node, const std::string& key, const std::string& where,
                       bool allow_empty = false) {
    const auto* text = node.as_string();
    if (text == nullptr || (!allow_empty && text->get().empty())) {
        wrong_type(key, allow_empty ? "a string" : "a non-empty string", where, "\"...\"");
    }
    return text->get();
}

std::string get_choice(const toml::node& node, const std::string& key, const std::string& where,
                       std::initializer_list<std::string_view> choices) {
    std::string value = get_string(node, key, where);
    if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
        throw Error(ErrorKind::input, fmt::format("key '{}' is '{}'", key, value), where,
                    fmt::format("use one of: {}", fmt::join(choices, ", ")));
    }
    return value;
}

bool get_bool(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* value = node.as_boolean();
    if (value == nullptr) wrong_type(key, "true or false", where, "true");
    return value->get();
}

long long get_int(const toml::node& node, const std::string& key, const std::string& where, long long min,
                  long long max) {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
        throw Error(ErrorKind::input, fmt::format("key '{}' must be a whole number from {} to {}", key, min, max),
                    where, fmt::format("write {} = {}", key.substr(key.rfind('.') + 1), min));
    }
    return value->get();
}

// "500ms", "5s", "2min" or a whole number of milliseconds.
long get_duration_ms(const toml::node& node, const std::string& key, const std::string& where) {
    if (node.is_integer()) return static_cast<long>(get_int(node, key, where, 0, 86'400'000));
    const std::string text = get_string(node, key, where);
    static constexpr std::pair<std::string_view, long> units[] = {{"ms", 1}, {"s", 1000}, {"min", 60'000}};
    for (const auto& [suffix, factor] : units) {
        if (text.size() > suffix.size() && text.ends_with(suffix)) {
            const std::string number = text.substr(0, text.size() - suffix.size());
            if (std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                number.size() <= 8) {
                // "5s" must not match "ms": the digits check refuses "5m" + "s".
                return std::stol(number) * factor;
            }
        }
    }
    throw Error(ErrorKind::input, fmt::format("key '{}' is '{}', not a duration", key, text), where,
                fmt::format("write {} = \"5s\" (ms, s or min)", key.substr(key.rfind('.') + 1)));
}

std::vector<std::string> get_strings(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* array = node.as_array();
    std::vector<std::string> out;
    if (array == nullptr) wrong_type(key, "an array of strings", where, "[\"...\"]");
    for (const auto& item : *array) {
        const auto* text = item.as_string();
        if (text == nullptr || text->get().empty()) wrong_type(key, "an array of non-empty strings", where, "[\"...\"]");
        out.push_back(text->get());
    }
    return out;
}

const toml::table& get_table(const toml::node& node, const std::string& key, const std::string& where) {
    const auto* table = node.as_table();
    if (table == nullptr) {
        throw Error(ErrorKind::input, fmt::format("'{}' must be a table", key), where,
                    fmt::format("write it as a section: [{}]", key));
    }
    return *table;
}

void check_env_name(const std::string& value, const std::string& key, const std::string& where) {
    const bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }) && !(value[0] >= '0' && value[0] <= '9');
    if (!ok) {
        throw Error(ErrorKind::input,
                    fmt::format("key '{}' must name an environment variable (letters, digits, '_'), not hold a value",
                                key),
                    where, "secrets stay out of pgmig.toml: put the value in the environment and name the variable");
    }
}

// Which secret a connection string sets inline, read by libpq's own parser (PQconninfoParse), which
// knows both forms: key=value (password=..., sslpassword=...) and URIs (postgresql://user:secret@host,
// ?password=...). Empty when none. A plain database name (no '=', not a URI) sets nothing.
std::string inline_secret(const std::string& conninfo) {
    const bool uri = conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
    if (!uri && conninfo.find('=') == std::string::npos) return {};
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (options == nullptr) {
        if (parse_error != nullptr) PQfreemem(parse_error);  // it may quote the string: never shown
        // libpq cannot read it, so cannot say: refuse what could hold one.
        std::string lower(conninfo.size(), ' ');
        std::transform(conninfo.begin(), conninfo.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const bool may = lower.find("password") != std::string::npos || (uri && lower.find('@') != std::string::npos);
        return may ? "what may be a password (libpq cannot parse the string to tell)" : std::string();
    }
    std::string found;
    for (const PQconninfoOption* o = options; o->keyword != nullptr && found.empty(); ++o) {
        const std::string_view key = o->keyword;
        if ((key == "password" || key == "sslpassword") && o->val != nullptr && *o->val != '\0') {
            found = key == "password" ? "a password" : "an sslpassword";
        }
    }
    PQconninfoFree(options);
    return found;
}

// Connection strings and URLs kept in the project file: a password written in one is refused, naming the
// environment (or section) and key, never the value.
void check_no_inline_password(const std::string& conninfo, const std::string& key, const std::string& owner,
                              const std::string& where) {
    const std::string secret = inline_secret(conninfo);
    if (secret.empty()) return;
    throw Error(ErrorKind::inline_password, fmt::format("{}: key '{}' holds {} inline", owner, key, secret), where,
                "remove it from pgmig.toml (the value is not shown) and keep the connection string without it",
                "libpq finds the password by itself: in ~/.pgpass (or the file PGPASSFILE names), in the PGPASSWORD "
                "environment variable, or in a service file (service=NAME in pg_service.conf, or PGSERVICEFILE)");
}

// An alert target's URL (webhook url, smtp): a password in its user information is refused the same way.
void check_url_no_password(const std::string& url, const std::string& key, const std::string& owner,
                           const std::string& where) {
    CURLU* handle = curl_url();
    if (handle == nullptr) return;
    bool has_password = false;
    if (curl_url_set(handle, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        char* password = nullptr;
        if (curl_url_get(handle, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK && password != nullptr) {
            has_password = *password != '\0';
            curl_free(password);
        }
    }
    curl_url_cleanup(handle);
    if (!has_password) return;
    throw Error(ErrorKind::inline_password,
                fmt::format("{}: key '{}' holds a password inline (user:password@)", owner, key), where,
                "remove it from pgmig.toml (the value is not shown)",
                "name the variable that holds it instead: url_env for a webhook, username and password_env for SMTP");
}

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
