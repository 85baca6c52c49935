// pgmig audit verify: checks the database's audit hash chain and anchors its head outside the
// database, so that a chain recomputed by someone with superuser rights is caught next time.
#include "client/cli/commands/commands.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"
#include "client/diff/schema_diff.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

namespace pgmig::client {

namespace {

struct Anchor {
    long long position = 0;
    std::string head;
    std::string at;
};

// The last anchor recorded for `database` in the anchor file (JSON lines), if any.
std::optional<Anchor> last_anchor(const std::string& path, const std::string& database) {
    std::ifstream in(path);
    std::optional<Anchor> last;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("database") || !j.contains("position") ||
            !j.contains("head")) {
            throw Error(ErrorKind::input, "unreadable anchor line", fmt::format("in {} line {}", path, number),
                        "restore the anchor file from its backup; pgmig only ever appends to it");
        }
        if (j["database"] != database) continue;
        last = Anchor{j["position"].get<long long>(), j["head"].get<std::string>(), j.value("at", "")};
    }
    return last;
}

// The breaks recorded by pgmig audit reseal: never hidden, one line each.
void print_resealed(const std::optional<std::string>& resealed) {
    if (!resealed) return;
    const nlohmann::json list = nlohmann::json::parse(*resealed, nullptr, false);
    if (!list.is_array()) return;
    for (const auto& r : list) {
        const auto text = [&r](const char* key) {
            return r.contains(key) && !r[key].is_null()
                       ? schema_diff::comment_text(r[key].is_string() ? r[key].get<std::string>() : r[key].dump())
                       : std::string("?");
        };
        fmt::print(
            "resealed segment: the chain broke at row {} ({}; {} broken link(s)); resealed by {} at {} "
            "(audit row {}): {}\n",
            text("first_broken_id"), text("problem"), text("broken_links"), text("resealed_by"), text("resealed_at"),
            text("reseal_id"), text("reason"));
    }
}

}  // namespace

int run_audit_reseal(const GlobalOptions& global, const AuditResealOptions& options) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    Result res = conn.exec_params(
        "SELECT reseal_id, broken_links, first_broken_id, problem, head_position FROM migrate_audit_reseal($1)",
        {options.reason});
    if (!res.ok()) {
        const ServerError e = res.error();
        if (e.sqlstate == "42501") {  // EXECUTE is revoked from everyone but superusers (and the function's owner)
            throw Error(ErrorKind::audit_reseal_refused,
                        fmt::format("only a superuser may reseal the audit chain ({})", e.message),
                        fmt::format("resealing the audit chain of {}", conn.target()),
                        "nothing was changed; ask a superuser to run pgmig audit reseal --reason \"...\"");
        }
        throw_server_error(e, fmt::format("resealing the audit chain of {}", conn.target()), "nothing was changed");
    }
    fmt::print(
        "audit chain resealed: {} broken link(s) recorded, the first at row {} ({}); audit row {} starts a new "
        "sealed segment at position {}. The broken rows are kept; pgmig audit verify reports the break as "
        "resealed\n",
        res.get(0, 1), res.get(0, 2), schema_diff::comment_text(res.get(0, 3)), res.get(0, 0), res.get(0, 4));
    return kExitOk;
}

int run_audit_verify(const GlobalOptions& global, const AuditVerifyOptions& options) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    // A database is named by its cluster's system identifier and its own name, never by a
    // connection string (which may hold a password).
    Result who = conn.exec_params(
        "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database()", {});
    if (!who.ok()) throw_server_error(who.error(), fmt::format("identifying {}", conn.target()), "nothing was checked");
    const std::string database = who.get(0, 0);

    // Without --whole, the form every release of the extension has.
    Result res = conn.exec_params(
        options.whole ? "SELECT checked, sealed, first_broken_id, problem, chain_head, head_position, resealed::text "
                        "FROM migrate_audit_verify(true)"
                      : "SELECT checked, sealed, first_broken_id, problem, chain_head, head_position, resealed::text "
                        "FROM migrate_audit_verify()",
        {});
    if (!res.ok())
        throw_server_error(res.error(), fmt::format("verifying the audit chain of {}", conn.target()),
                           "nothing was anchored");
    const std::string where = fmt::format("audit chain of {}", conn.target());
    if (!res.is_null(0, 2)) {
        throw Error(ErrorKind::audit_broken,
                    fmt::format("the audit chain is broken at row {}: {}", res.get(0, 2), res.get(0, 3)), where,
                    "find out who changed pgmig.ddl_audit (superusers can); the rows before it are intact. Once "
                    "investigated, a superuser records the break and starts a new sealed segment with pgmig audit "
                    "reseal --reason \"...\" (docs/operations.md)");
    }
    print_resealed(res.get_opt(0, 6));

    const std::optional<Anchor> anchor = last_anchor(options.anchor, database);
    if (anchor) {
        Result link = conn.exec_params("SELECT row_hash FROM pgmig.ddl_audit WHERE chain_seq = $1::bigint",
                                       {std::to_string(anchor->position)});
        if (!link.ok()) throw_server_error(link.error(), where, "nothing was anchored");
        const std::optional<std::string> now = link.rows() == 0 ? std::nullopt : link.get_opt(0, 0);
        if (now != anchor->head) {
            throw Error(ErrorKind::audit_broken,
                        fmt::format("the audit chain was rewritten: position {} anchored {} as {} is now {}",
                                    anchor->position, anchor->at.empty() ? "earlier" : "at " + anchor->at,
                                    anchor->head.substr(0, 16), now ? now->substr(0, 16) : std::string("gone")),
                        where + " against " + options.anchor,
                        "the chain inside the database was recomputed after an edit: compare pgmig.ddl_audit "
                        "with a backup; the anchor file says what it was");
        }
    }

    const long long checked = std::stoll(res.get(0, 0));
    const long long sealed = std::stoll(res.get(0, 1));
    if (res.is_null(0, 4)) {
        fmt::print("audit chain of {} is empty: nothing to anchor\n", conn.target());
        return kExitOk;
    }
    const long long position = std::stoll(res.get(0, 5));
    if (!anchor || anchor->position != position) {
        const std::filesystem::path path(options.anchor);
        if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
        std::ofstream out(options.anchor, std::ios::app);
        const nlohmann::json line = {{"database", database},
                                     {"position", position},
                                     {"head", res.get(0, 4)},
                                     {"at", utc_now("%Y-%m-%dT%H:%M:%SZ")}};
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        if (!out) {
            throw Error(ErrorKind::input, "cannot append to the anchor file", options.anchor,
                        "check the folder's permissions, or pass --anchor FILE");
        }
    }
    fmt::print("audit chain intact: {} rows checked, {} sealed now; head at position {} anchored in {}\n", checked,
               sealed, position, options.anchor);
    return kExitOk;
}

}  // namespace pgmig::client
