// Finding a fleet's targets (targets.hpp).
#include "client/ops/fleet/targets.hpp"

#include "client/core/config_reader.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ops/fleet/fleet_config_reader.hpp"
#include "client/ledger/project.hpp"

#include <fmt/core.h>
#include <libpq-fe.h>

namespace pgmig::client::fleet {

namespace {

std::string quote_value(const std::string& value) {
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::vector<FleetTarget> server_targets(const Fleet& fleet, const ServerSource& server) {
    // pg_database is the same in every database of the server: read it where the conninfo points, else in
    // "postgres".
    const Connection conn = Connection::open(server.conninfo);
    const std::string where = fmt::format("listing the databases of fleet '{}' on {}", fleet.name, conn.target());
    Result res = conn.exec_params(
        "SELECT d.datname FROM pg_catalog.pg_database d "
        " WHERE d.datallowconn AND NOT d.datistemplate AND d.datname OPERATOR(pg_catalog.~~) $1 "
        " ORDER BY d.datname COLLATE \"C\"",
        {server.databases});
    if (!res.ok()) throw_server_error(res.error(), where, "check the server's databases pattern; nothing was deployed");
    std::vector<FleetTarget> out;
    for (int i = 0; i < res.rows(); ++i) {
        FleetTarget t;
        t.conninfo = with_dbname(server.conninfo, res.get(i, 0));
        t.name = name_from_conninfo(t.conninfo);
        t.labels = server.labels;
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<FleetTarget> directory_targets(const Fleet& fleet, const DirectorySource& dir) {
    const Connection conn = Connection::open(dir.conninfo);
    const std::string where = fmt::format("in the directory query of fleet '{}' on {}", fleet.name, conn.target());
    // Read only: the query finds targets, it never changes the directory.
    Transaction tx(conn, Transaction::Mode::read_only);
    Result res = conn.exec(dir.query);
    if (!res.ok()) throw_server_error(res.error(), where, "fix the query in pgmig.toml; nothing was deployed");
    const int conninfo_col = PQfnumber(res.raw(), "conninfo");
    const int name_col = PQfnumber(res.raw(), "name");
    if (conninfo_col < 0) {
        throw Error(ErrorKind::input, "the directory query returns no column named conninfo", where,
                    "return each target's connection string as conninfo (and a name column to name it)");
    }
    std::vector<FleetTarget> out;
    for (int i = 0; i < res.rows(); ++i) {
        const std::string row = fmt::format("{} row {}", where, i + 1);
        FleetTarget t;
        t.conninfo = res.get(i, conninfo_col);
        if (t.conninfo.empty()) {
            throw Error(ErrorKind::input, "the directory query returned an empty conninfo", row,
                        "return a connection string for every target (filter the others out in the query)");
        }
        if (const std::string secret = toml_reader::inline_secret(t.conninfo); !secret.empty()) {
            throw Error(ErrorKind::inline_password, fmt::format("the directory query returned a conninfo holding {}", secret),
                        row, "keep passwords out of the directory (the value is not shown)",
                        "libpq finds the password in ~/.pgpass, PGPASSFILE or a service file");
        }
        t.name = name_col >= 0 && !res.is_null(i, name_col) ? res.get(i, name_col) : name_from_conninfo(t.conninfo);
        for (int c = 0; c < PQnfields(res.raw()); ++c) {
            if (c == conninfo_col || c == name_col || res.is_null(i, c)) continue;
            t.labels.emplace(PQfname(res.raw(), c), res.get(i, c));
        }
        out.push_back(std::move(t));
    }
    tx.rollback();
    return out;
}

}  // namespace

std::string with_dbname(const std::string& conninfo, const std::string& dbname) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        if (error != nullptr) PQfreemem(error);
        return "dbname=" + quote_value(dbname);
    }
    std::string out;
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
        out += fmt::format("{}={} ", o->keyword, quote_value(o->val));
    }
    PQconninfoFree(options);
    return out + "dbname=" + quote_value(dbname);
}

std::vector<FleetTarget> resolve_targets(const Fleet& fleet, std::vector<std::string>* unreadable) {
    std::vector<FleetTarget> out = fleet.targets;
    const auto add = [&](const auto& source, auto&& read) {
        try {
            for (FleetTarget& t : read(fleet, source)) out.push_back(std::move(t));
        } catch (const Error& e) {
            if (unreadable == nullptr || (e.kind() != ErrorKind::connect && e.kind() != ErrorKind::migration_failed)) throw;
            unreadable->push_back(e.line());
        }
    };
    for (const ServerSource& server : fleet.servers) add(server, server_targets);
    if (fleet.directory) add(*fleet.directory, directory_targets);
    return out;
}

}  // namespace pgmig::client::fleet
