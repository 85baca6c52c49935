// [fleets.NAME] through the same readers as the rest of pgmig.toml (client/core/config_reader.hpp).
#include "client/ops/fleet/fleet_config_reader.hpp"

#include "client/core/config_reader.hpp"
#include "client/core/errors.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace pgmig::client::fleet {

namespace {

using namespace toml_reader;  // NOLINT(google-build-using-namespace): the readers are this file's vocabulary

// A label's name or a wave's name: what a column name or a JSON key can carry without quoting.
bool plain_name(const std::string& text) {
    return !text.empty() && text.size() <= 63 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

Labels get_labels(const toml::node& node, const std::string& key, const std::string& where) {
    Labels out;
    for (const auto& [name, value] : get_table(node, key, where)) {
        const std::string label(name.str());
        if (!plain_name(label)) {
            throw Error(ErrorKind::input, fmt::format("key '{}' has a label named '{}'", key, label), where,
                        "name labels with letters, digits, '_' and '-' (region, plan, shard)");
        }
        out.emplace(label, get_string(value, key + "." + label, where));
    }
    return out;
}

// max_failures = 3 or max_failures = "10%".
FailureLimit get_failure_limit(const toml::node& node, const std::string& key, const std::string& where) {
    if (node.is_integer()) return FailureLimit{static_cast<int>(get_int(node, key, where, 0, 1'000'000)), false};
    const std::string text = get_string(node, key, where);
    const std::string digits = text.ends_with('%') ? text.substr(0, text.size() - 1) : std::string();
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(digits) > 100) {
        throw Error(ErrorKind::input, fmt::format("key '{}' is '{}'", key, text), where,
                    "write a number of targets (max_failures = 2) or a percentage of the wave (max_failures = "
                    "\"10%\")");
    }
    return FailureLimit{std::stoi(digits), true};
}

void check_conninfo(const std::string& conninfo, const std::string& key, const std::string& owner,
                    const std::string& where) {
    check_no_inline_password(conninfo, key, owner, where);
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        if (error != nullptr) PQfreemem(error);  // it may quote the string
        throw Error(ErrorKind::bad_conninfo, fmt::format("{}: key '{}' is not a connection string libpq reads", owner, key),
                    where, "write host=... port=... dbname=... or postgresql://host:port/dbname");
    }
    PQconninfoFree(options);
}

FleetTarget read_target(const toml::node& node, const std::string& key, const std::string& owner,
                        const std::string& where) {
    FleetTarget target;
    if (node.is_string()) {
        target.conninfo = get_string(node, key, where);
    } else {
        TableReader(get_table(node, key, where), key, where)
            .read({
                {"conninfo", [&](const toml::node& n, const std::string& k) { target.conninfo = get_string(n, k, where); }},
                {"name", [&](const toml::node& n, const std::string& k) { target.name = get_string(n, k, where); }},
                {"labels", [&](const toml::node& n, const std::string& k) { target.labels = get_labels(n, k, where); }},
            });
        if (target.conninfo.empty()) {
            throw Error(ErrorKind::input, fmt::format("'{}' has no conninfo", key), where,
                        "write { conninfo = \"host=... dbname=...\", name = \"...\" } or just the connection string");
        }
    }
    check_conninfo(target.conninfo, key, owner, where);
    if (target.name.empty()) target.name = name_from_conninfo(target.conninfo);
    return target;
}

WaveSpec read_wave(const toml::node& node, const std::string& key, std::size_t index, const std::string& where) {
    WaveSpec wave;
    wave.name = fmt::format("wave{}", index + 1);
    TableReader(get_table(node, key, where), key, where)
        .read({
            {"name",
             [&](const toml::node& n, const std::string& k) {
                 wave.name = get_string(n, k, where);
                 if (!plain_name(wave.name)) {
                     throw Error(ErrorKind::input, fmt::format("key '{}' is '{}'", k, wave.name), where,
                                 "name waves with letters, digits, '_' and '-' (canary, eu, rest)");
                 }
             }},
            {"count", [&](const toml::node& n, const std::string& k) { wave.count = static_cast<int>(get_int(n, k, where, 1, 1'000'000)); }},
            {"percent", [&](const toml::node& n, const std::string& k) { wave.percent = static_cast<int>(get_int(n, k, where, 1, 100)); }},
            {"labels", [&](const toml::node& n, const std::string& k) { wave.labels = get_labels(n, k, where); }},
            {"parallel", [&](const toml::node& n, const std::string& k) { wave.parallel = static_cast<int>(get_int(n, k, where, 1, 1000)); }},
            {"max_failures", [&](const toml::node& n, const std::string& k) { wave.max_failures = get_failure_limit(n, k, where); }},
            {"then", [&](const toml::node& n, const std::string& k) { wave.then = get_choice(n, k, where, {"continue", "pause", "approval"}); }},
        });
    if (wave.count && wave.percent) {
        throw Error(ErrorKind::input, fmt::format("[{}] has both count and percent", key), where,
                    "keep one: count = 1 for a canary, percent = 30 for a share of the fleet");
    }
    return wave;
}

}  // namespace

std::string server_from_conninfo(const std::string& conninfo) {
    const std::string name = name_from_conninfo(conninfo);
    return name.substr(0, name.rfind('/'));
}

std::string name_from_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        if (error != nullptr) PQfreemem(error);
        return "?";
    }
    std::string host, port, dbname, user;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        const std::string_view k = o->keyword;
        const std::string value = o->val != nullptr ? o->val : "";
        if (k == "host" || (k == "hostaddr" && host.empty())) host = value;
        if (k == "port") port = value;
        if (k == "dbname") dbname = value;
        if (k == "user") user = value;
    }
    PQconninfoFree(options);
    const auto from_env = [](const char* name, const char* fallback) {
        const char* v = std::getenv(name);
        return std::string(v != nullptr && *v != '\0' ? v : fallback);
    };
    if (host.empty()) host = from_env("PGHOST", "local");
    if (port.empty()) port = from_env("PGPORT", "5432");
    if (dbname.empty()) dbname = user.empty() ? from_env("PGDATABASE", "?") : user;
    return fmt::format("{}:{}/{}", host, port, dbname);
}

Fleet read_fleet(const std::string& name, const toml::table& table, const ProjectConfig& config,
                 const std::string& where) {
    const std::string path = "fleets." + name;
    const std::string owner = fmt::format("fleet '{}'", name);
    Fleet fleet;
    fleet.name = name;
    TableReader(table, path, where)
        .read({
            {"environment", [&](const toml::node& n, const std::string& k) { fleet.environment = get_string(n, k, where); }},
            {"parallel", [&](const toml::node& n, const std::string& k) { fleet.parallel = static_cast<int>(get_int(n, k, where, 1, 1000)); }},
            {"per_server", [&](const toml::node& n, const std::string& k) { fleet.per_server = static_cast<int>(get_int(n, k, where, 1, 1000)); }},
            {"max_failures", [&](const toml::node& n, const std::string& k) { fleet.max_failures = get_failure_limit(n, k, where); }},
            {"connect_timeout",
             [&](const toml::node& n, const std::string& k) {
                 fleet.connect_timeout_ms = get_duration_ms(n, k, where);
                 if (fleet.connect_timeout_ms < 1000) {
                     throw Error(ErrorKind::input, fmt::format("key '{}' is {} ms", k, fleet.connect_timeout_ms), where,
                                 "give a target at least a second to answer: connect_timeout = \"15s\" (the default)");
                 }
             }},
            {"drift_check", [&](const toml::node& n, const std::string& k) { fleet.drift_check = get_bool(n, k, where); }},
            {"targets",
             [&](const toml::node& n, const std::string& k) {
                 const auto* array = n.as_array();
                 if (array == nullptr) wrong_type(k, "an array of connection strings or tables", where, "[\"dbname=a\"]");
                 for (std::size_t i = 0; i < array->size(); ++i) {
                     fleet.targets.push_back(read_target(*array->get(i), fmt::format("{}[{}]", k, i), owner, where));
                 }
             }},
            {"servers",
             [&](const toml::node& n, const std::string& k) {
                 const auto* array = n.as_array();
                 if (array == nullptr) wrong_type(k, "an array of tables", where, "[{ conninfo = \"host=...\" }]");
                 for (std::size_t i = 0; i < array->size(); ++i) {
                     const std::string key = fmt::format("{}[{}]", k, i);
                     ServerSource server;
                     TableReader(get_table(*array->get(i), key, where), key, where)
                         .read({
                             {"conninfo", [&](const toml::node& v, const std::string& kk) { server.conninfo = get_string(v, kk, where); }},
                             {"databases", [&](const toml::node& v, const std::string& kk) { server.databases = get_string(v, kk, where); }},
                             {"labels", [&](const toml::node& v, const std::string& kk) { server.labels = get_labels(v, kk, where); }},
                         });
                     if (server.conninfo.empty()) {
                         throw Error(ErrorKind::input, fmt::format("'{}' has no conninfo", key), where,
                                     "write conninfo = \"host=... port=...\" (and databases = \"tenant_%\")");
                     }
                     check_conninfo(server.conninfo, key + ".conninfo", owner, where);
                     fleet.servers.push_back(std::move(server));
                 }
             }},
            {"directory",
             [&](const toml::node& n, const std::string& k) {
                 DirectorySource dir;
                 TableReader(get_table(n, k, where), k, where)
                     .read({
                         {"conninfo", [&](const toml::node& v, const std::string& kk) { dir.conninfo = get_string(v, kk, where); }},
                         {"query", [&](const toml::node& v, const std::string& kk) { dir.query = get_string(v, kk, where); }},
                     });
                 if (dir.conninfo.empty() || dir.query.empty()) {
                     throw Error(ErrorKind::input, fmt::format("[{}] needs conninfo and query", k), where,
                                 "write conninfo = \"dbname=directory\" and query = \"SELECT conninfo, name FROM "
                                 "tenants\"");
                 }
                 check_conninfo(dir.conninfo, k + ".conninfo", owner, where);
                 fleet.directory = std::move(dir);
             }},
            {"replication",
             [&](const toml::node& n, const std::string& k) {
                 const auto* array = n.as_array();
                 if (array == nullptr) {
                     wrong_type(k, "an array of tables", where,
                                "[{ publication = \"orders\", publisher = \"...\", subscribers = [\"...\"] }]");
                 }
                 for (std::size_t i = 0; i < array->size(); ++i) {
                     const std::string key = fmt::format("{}[{}]", k, i);
                     ReplicationGroup group;
                     TableReader(get_table(*array->get(i), key, where), key, where)
                         .read({
                             {"publication", [&](const toml::node& v, const std::string& kk) { group.publication = get_string(v, kk, where); }},
                             {"publisher", [&](const toml::node& v, const std::string& kk) { group.publisher = get_string(v, kk, where); }},
                             {"subscribers", [&](const toml::node& v, const std::string& kk) { group.subscribers = get_strings(v, kk, where); }},
                         });
                     if (group.publication.empty() || group.publisher.empty() || group.subscribers.empty()) {
                         throw Error(ErrorKind::input, fmt::format("'{}' needs publication, publisher and subscribers", key),
                                     where, "name the publisher's and the subscribers' targets by their names");
                     }
                     fleet.replication.push_back(std::move(group));
                 }
             }},
            {"waves",
             [&](const toml::node& n, const std::string& k) {
                 const auto* array = n.as_array();
                 if (array == nullptr) wrong_type(k, "an array of tables", where, "[{ name = \"canary\", count = 1 }]");
                 for (std::size_t i = 0; i < array->size(); ++i) {
                     fleet.waves.push_back(read_wave(*array->get(i), fmt::format("{}[{}]", k, i), i, where));
                 }
             }},
        });
    if (fleet.targets.empty() && fleet.servers.empty() && !fleet.directory) {
        throw Error(ErrorKind::input, fmt::format("[{}] names no targets", path), where,
                    "add targets = [...], [[" + path + ".servers]] or [" + path + ".directory]");
    }
    if (!fleet.environment.empty() && !config.environments.contains(fleet.environment)) {
        throw Error(ErrorKind::input,
                    fmt::format("[{}] names environment '{}', which is not defined", path, fleet.environment), where,
                    fmt::format("add an [environments.{}] section (its policy applies to every target; its dbname "
                                "is not used) or remove environment",
                                fleet.environment));
    }
    std::set<std::string> names;
    for (const FleetTarget& t : fleet.targets) {
        if (!names.insert(t.name).second) {
            throw Error(ErrorKind::input, fmt::format("[{}] lists target '{}' twice", path, t.name), where,
                        "give each target its own name = \"...\" or remove the duplicate");
        }
    }
    if (fleet.environment.empty() &&
        std::any_of(fleet.waves.begin(), fleet.waves.end(), [](const WaveSpec& w) { return w.then == "approval"; })) {
        throw Error(ErrorKind::input, fmt::format("[{}] has a wave with then = \"approval\" but no environment", path),
                    where, "approvals count for an environment: add environment = \"...\" to the fleet");
    }
    std::set<std::string> grouped;
    for (const ReplicationGroup& g : fleet.replication) {
        std::vector<std::string> members = g.subscribers;
        members.push_back(g.publisher);
        for (const std::string& m : members) {
            if (!grouped.insert(m).second) {
                throw Error(ErrorKind::input,
                            fmt::format("[{}] puts target '{}' in replication twice", path, m), where,
                            "pgmig orders one publication per target: a target is the publisher or a subscriber of one "
                            "group; deploy chained or two-way replication by hand, one database at a time");
            }
        }
    }
    std::set<std::string> waves;
    for (const WaveSpec& w : fleet.waves) {
        if (!waves.insert(w.name).second) {
            throw Error(ErrorKind::input, fmt::format("[{}] has two waves named '{}'", path, w.name), where,
                        "name each wave once");
        }
    }
    return fleet;
}

const Fleet& find_fleet(const ProjectConfig& config, const std::string& name) {
    const auto it = config.fleets.find(name);
    if (it != config.fleets.end()) return it->second;
    std::vector<std::string> known;
    for (const auto& [n, f] : config.fleets) known.push_back(n);
    std::error_code ec;
    const std::string path = std::filesystem::absolute(kConfigFile, ec).string();
    throw Error(ErrorKind::input, fmt::format("no fleet '{}' in {}", name, path), "for --fleet",
                known.empty() ? fmt::format("add a [fleets.{}] section (see docs/fleet.md)", name)
                              : fmt::format("use one of: {} (or add a [fleets.{}] section)", fmt::join(known, ", "), name));
}

}  // namespace pgmig::client::fleet
