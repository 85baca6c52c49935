// Trust and approvals (see trust.hpp): a registered script runs with the caller's rights only when a
// role with at least those rights vouched for it, and only with the approvals policy requires.
// Before PostgreSQL's headers, whose port.h redefines snprintf as a macro nlohmann-json trips over.
#include <nlohmann/json.hpp>

#include "trust.hpp"

extern "C" {
#include "postgres.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "common/version.hpp"
#include "pg/boundary.hpp"
#include "pg/values.hpp"
#include "settings.hpp"

namespace pgmig::trust {
namespace {

SPIPlanPtr g_plans[2] = {};

// A role whose rights a registered script would run with.
struct CallerRole {
    Oid oid;
    std::string name;
    const char* as;  // how the script gets them, for messages
};

std::string role_name(Oid role) {
    const char* name = pg::call([role] { return GetUserNameFromId(role, false); });
    return name;
}

// The current user, and, unless the call runs where SET ROLE is refused (inside a SECURITY DEFINER
// function or a security-restricted operation), the session's user and the role that logged in:
// a script can RESET ROLE or SET SESSION AUTHORIZATION to them.
std::vector<CallerRole> caller_roles() {
    std::vector<CallerRole> out{{GetUserId(), role_name(GetUserId()), "the role running it"}};
    if (InLocalUserIdChange() || InSecurityRestrictedOperation()) return out;
    const auto add = [&out](Oid role, const char* as) {
        if (std::none_of(out.begin(), out.end(), [role](const CallerRole& r) { return r.oid == role; })) {
            out.push_back({role, role_name(role), as});
        }
    };
    add(GetSessionUserId(), "the session's user, which its SQL could RESET ROLE to");
    add(GetAuthenticatedUserId(), "the role that logged in, which its SQL could SET SESSION AUTHORIZATION to");
    return out;
}

Oid role_oid(const std::string& name) {
    const char* n = name.c_str();
    return pg::call([n] { return get_role_oid(n, true); });
}

// Whether `role` has every right `caller` has: a superuser covers everyone; otherwise the caller is no
// superuser, `role` has the privileges of `caller` (membership that inherits), and every role attribute
// of the caller that membership does not pass on (CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS).
bool covers(Oid role, Oid caller) {
    if (!OidIsValid(role)) return false;  // a dropped role vouches for nothing
    return pg::call([role, caller] {
        if (superuser_arg(role)) return true;
        if (superuser_arg(caller)) return false;
        if (!has_privs_of_role(role, caller)) return false;
        HeapTuple r = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
        HeapTuple c = SearchSysCache1(AUTHOID, ObjectIdGetDatum(caller));
        bool ok = HeapTupleIsValid(r) && HeapTupleIsValid(c);
        if (ok) {
            const auto* a = reinterpret_cast<Form_pg_authid>(GETSTRUCT(r));
            const auto* b = reinterpret_cast<Form_pg_authid>(GETSTRUCT(c));
            ok = (!b->rolcreaterole || a->rolcreaterole) && (!b->rolcreatedb || a->rolcreatedb) &&
                 (!b->rolreplication || a->rolreplication) && (!b->rolbypassrls || a->rolbypassrls);
        }
        if (HeapTupleIsValid(r)) ReleaseSysCache(r);
        if (HeapTupleIsValid(c)) ReleaseSysCache(c);
        return ok;
    });
}

bool covers_all(const std::string& role, const std::vector<CallerRole>& callers) {
    const Oid oid = role_oid(role);
    return std::all_of(callers.begin(), callers.end(), [oid](const CallerRole& c) { return covers(oid, c.oid); });
}

std::vector<std::string> json_names(const std::optional<std::string>& text) {
    std::vector<std::string> out;
    for (const auto& n : nlohmann::json::parse(text.value_or("[]"))) out.push_back(n);
    return out;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// Who approved m's current checksum, for any environment (roles vouching for its up script).
std::vector<std::string> approvers_any_environment(LedgerStore& store, const Migration& m) {
    AsLedgerOwner owner(store.owner());
    const pg::Rows rows = store.spi().query_prepared(
        g_plans[0],
        "SELECT pg_catalog.array_to_json(pg_catalog.array_agg(DISTINCT a.approved_by))::pg_catalog.text FROM "
        "pgmig.approvals a "
        "WHERE a.version_key OPERATOR(pg_catalog.=) $1 AND a.checksum OPERATOR(pg_catalog.=) $2",
        {{BYTEAOID, m.key}, {TEXTOID, m.checksum}}, SPI_OK_SELECT);
    return json_names(rows.rows.at(0).at(0));
}

// The approvals that count for m under the four-eyes rule: pgmig.approvers, shared with
// migrate_approval_check so that the client's view and this check are one rule.
std::vector<std::string> approvers_for(LedgerStore& store, const Migration& m, const std::string& environment) {
    AsLedgerOwner owner(store.owner());
    const pg::Rows rows = store.spi().query_prepared(
        g_plans[1], "SELECT pg_catalog.array_to_json(pgmig.approvers($1, $2, $3, $4))::pg_catalog.text",
        {{TEXTOID, environment}, {BYTEAOID, m.key}, {TEXTOID, m.checksum}, {NAMEOID, m.registered_by}}, SPI_OK_SELECT);
    return json_names(rows.rows.at(0).at(0));
}

// How to look at a migration's registered text, for hints.
std::string ledger_row(const Migration& m) {
    const auto quote = [](const std::string& s) {
        std::string out = "'";
        for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
        return out + "'";
    };
    return m.version ? fmt::format("SELECT * FROM pgmig.migrations WHERE version = {}", quote(*m.version))
                     : fmt::format("SELECT * FROM pgmig.migrations WHERE version IS NULL AND name = {}", quote(m.name));
}

std::string approve_call(const Migration& m, const std::string& environment) {
    return m.version ? fmt::format("pgmig approve {} --env {}", *m.version, environment)
                     : fmt::format("pgmig approve R__{} --env {}", m.name, environment);
}

}  // namespace

Policy policy(FunctionCallInfo fcinfo, int trust_arg, int required_arg, int environment_arg, const char* function) {
    const auto given = [fcinfo](int n) { return n >= 0 && n < PG_NARGS() && !PG_ARGISNULL(n); };
    Policy p;
    p.trust = given(trust_arg) && PG_GETARG_BOOL(trust_arg);
    const int asked = given(required_arg) ? PG_GETARG_INT32(required_arg) : 0;
    if (asked < 0) {
        throw Error(sqlstate::invalid_argument, fmt::format("require_approvals must be 0 or more, not {}", asked), {},
                    "pass how many approvals each migration needs, e.g. 1; 0 adds no requirement");
    }
    std::optional<std::string> named;
    if (given(environment_arg)) named = pg::text_arg(fcinfo, environment_arg);
    if (named && named->empty()) {
        throw Error(sqlstate::invalid_argument, "environment must not be empty", {},
                    "name the environment whose approvals count, e.g. production, or pass NULL");
    }
    const std::string database = settings::environment();
    if (named && !database.empty() && *named != database) {
        throw Error(sqlstate::environment_mismatch,
                    fmt::format("{}() was called for environment {}, but this database is {} (pgmig.environment)",
                                function, *named, database),
                    "approvals are per environment: those for another environment never count here",
                    fmt::format("check which database the connection of {} points at (pgmig.toml); if it is right, "
                                "a superuser changes pgmig.environment",
                                *named));
    }
    p.environment = database.empty() ? named.value_or("") : database;
    const int setting = settings::require_approval();
    p.required = std::max(setting, asked);
    if (p.required > 0) {
        p.required_by = setting >= asked ? fmt::format("pgmig.require_approval = {}", setting)
                                         : fmt::format("require_approvals => {}", asked);
    }
    if (p.required > 0 && p.environment.empty()) {
        throw Error(sqlstate::environment_mismatch,
                    fmt::format("{}() needs {} approvals of each migration ({}), but no environment says whose count",
                                function, p.required, p.required_by),
                    "approvals are recorded per environment",
                    "a superuser names this database's environment: ALTER DATABASE ... SET pgmig.environment = "
                    "'production' (or pass environment => 'production')");
    }
    return p;
}

void require_trusted(LedgerStore& store, const std::vector<Migration>& migrations, Scripts scripts,
                     const Policy& policy, const char* function) {
    if (policy.trust || migrations.empty()) return;
    const std::vector<CallerRole> callers = caller_roles();
    for (const Migration& m : migrations) {
        std::vector<std::string> vouchers = m.vouched_by;
        if (vouchers.empty()) vouchers.push_back(m.registered_by);
        if (std::any_of(vouchers.begin(), vouchers.end(),
                        [&callers](const std::string& v) { return covers_all(v, callers); })) {
            continue;
        }
        std::vector<std::string> approvers;
        if (scripts == Scripts::up) {
            approvers = approvers_any_environment(store, m);
            if (std::any_of(approvers.begin(), approvers.end(),
                            [&callers](const std::string& a) { return covers_all(a, callers); })) {
                continue;
            }
        }
        // The first caller role that no voucher covers, for the message.
        const CallerRole* uncovered = &callers.front();
        for (const CallerRole& c : callers) {
            const Oid oid = c.oid;
            if (std::none_of(vouchers.begin(), vouchers.end(),
                             [oid](const std::string& v) { return covers(role_oid(v), oid); })) {
                uncovered = &c;
                break;
            }
        }
        const char* what = scripts == Scripts::down          ? "the down script of "
                           : scripts == Scripts::up_and_down ? "the up and down scripts of "
                                                             : "";
        throw Error(
            sqlstate::registrant_untrusted,
            fmt::format("{}() refuses to run {}{}: it was registered by {}, who {} not have every right of {}, {}",
                        function, what, m.label(), joined(vouchers), vouchers.size() == 1 ? "does" : "do",
                        uncovered->name, uncovered->as),
            fmt::format("its SQL would run with the rights of {}, so a role without them could use it to gain them; "
                        "no role with those rights registered this exact definition{}",
                        uncovered->name,
                        scripts != Scripts::up ? std::string()
                        : approvers.empty()
                            ? std::string(" or approved its checksum")
                            : fmt::format(" or approved its checksum (approved by {} only)", joined(approvers))),
            fmt::format("review it ({}); then register the same definition yourself (pgmig apply registers the files "
                        "it reads){}, or pass trust => true to run it anyway",
                        ledger_row(m),
                        scripts == Scripts::up ? ", have a role with your rights approve it (migrate_approve)" : ""));
    }
}

void require_approvals(LedgerStore& store, const std::vector<Migration>& migrations, const Policy& policy,
                       const char* function) {
    if (policy.required <= 0) return;
    std::string others;  // the other migrations that lack approvals, for the detail
    const Migration* first = nullptr;
    std::vector<std::string> first_approvers;
    for (const Migration& m : migrations) {
        const std::vector<std::string> approvers = approvers_for(store, m, policy.environment);
        if (static_cast<int>(approvers.size()) >= policy.required) continue;
        if (first == nullptr) {
            first = &m;
            first_approvers = approvers;
        } else {
            others += fmt::format("{}{} ({} of {})", others.empty() ? "" : ", ", m.label(), approvers.size(),
                                  policy.required);
        }
    }
    if (first == nullptr) return;
    const Migration& m = *first;
    throw Error(
        sqlstate::approval_required,
        fmt::format("{}() refuses {}: it has {} of the {} approval{} for {} that {} requires", function, m.label(),
                    first_approvers.size(), policy.required, policy.required == 1 ? "" : "s", policy.environment,
                    policy.required_by),
        fmt::format("approvals count when they are of its current checksum ({}), for {}, by distinct roles other "
                    "than its registrant {}{}{}",
                    m.checksum.substr(0, 12), policy.environment, m.registered_by,
                    first_approvers.empty() ? std::string() : "; approved by " + joined(first_approvers),
                    others.empty() ? std::string() : fmt::format("; also short of approvals: {}", others)),
        fmt::format("nothing was applied; have it reviewed and approved ({}, or SELECT migrate_approve(...)) by a "
                    "member of pgmig_approver other than {}",
                    approve_call(m, policy.environment), m.registered_by));
}

void check_before_running(LedgerStore& store, const Migration& m, bool up, const Policy& policy, const char* function) {
    require_trusted(store, {m}, up ? Scripts::up : Scripts::down, policy, function);
    if (up) require_approvals(store, {m}, policy, function);
}

}  // namespace pgmig::trust

using namespace pgmig;

// pgmig.migration_key(version, name) -> the ledger's key of a migration (bytea): what approvals are keyed by.
PGMIG_FUNCTION_ANY_SQL(pgmig_migration_key) {
    const std::optional<std::string> version = pg::text_arg(fcinfo, 0);
    const std::optional<std::string> name = pg::text_arg(fcinfo, 1);
    std::string bytes;
    if (version) {
        check_version(*version);
        bytes = common::version_sort_key(*version);
    } else if (name) {
        bytes = "\xff" + *name;
    } else {
        PG_RETURN_NULL();
    }
    return pg::bytea_datum(bytes);
}
