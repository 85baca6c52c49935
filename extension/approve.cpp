// migrate_approve: the one writer of pgmig.approvals. Approvers (pgmig_approver) may neither read the
// scripts nor write the table; this function checks what they approve and records it as the ledger's
// owner, by session_user (the role that logged in: neither SET ROLE nor a SECURITY DEFINER function
// lets anyone approve as someone else). Approvals are enforced by migrate_apply (trust.cpp).
extern "C" {
#include "postgres.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
}

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"
#include "ledger_store.hpp"
#include "pg/boundary.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

using namespace pgmig;
using pg::text_arg;

namespace {

// The registered migration an approval is for, as far as approving needs it.
struct Registered {
    std::optional<std::string> version;
    std::string name;
    std::string checksum;
    bool applied = false;  // a versioned migration applied already
    std::optional<std::string> applied_checksum;
    std::optional<std::string> applied_by;
    std::string registered_by;
    bool script_intact = true;  // the stored up script still hashes to its checksum

    Migration as_migration() const {
        Migration m;
        m.version = version;
        m.name = name;
        return m;
    }
};

bool is_checksum(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::optional<Registered> registered(pg::Spi& spi, const std::string& key) {
    const pg::Rows rows = spi.query(
        "SELECT m.version, m.name, m.checksum, m.applied_at IS NOT NULL, m.applied_checksum, m.applied_by, "
        "m.registered_by, pgmig.script_checksum(m.up_sql) OPERATOR(pg_catalog.=) m.checksum "
        "FROM pgmig.migrations m WHERE m.version_key OPERATOR(pg_catalog.=) $1",
        {{BYTEAOID, key}}, SPI_OK_SELECT);
    if (rows.rows.empty()) return std::nullopt;
    const auto& row = rows.rows.front();
    return Registered{row[0], *row[1], *row[2], *row[3] == "t", row[4], row[5], *row[6], *row[7] == "t"};
}

}  // namespace

// migrate_approve(version, environment, expected_checksum DEFAULT NULL, name DEFAULT NULL) -> the approval:
// session_user approves the checksum of a pending (or not yet registered) migration for an environment.
// A checksum may be approved before it is registered: the approval counts once that exact script is.
PGMIG_FUNCTION(migrate_approve) {
    const std::optional<std::string> version = text_arg(fcinfo, 0);
    const std::optional<std::string> environment = text_arg(fcinfo, 1);
    const std::optional<std::string> expected = text_arg(fcinfo, 2);
    const std::optional<std::string> name = text_arg(fcinfo, 3);
    if (environment.value_or("").empty()) {
        throw Error(sqlstate::invalid_argument,
                    fmt::format("cannot approve migration {}: no environment given",
                                version ? *version : name.value_or("NULL")),
                    {}, "name the environment the approval is for, e.g. production");
    }
    if (!version && name.value_or("").empty()) {
        throw Error(sqlstate::invalid_argument,
                    "cannot approve: no version given, nor the name of a repeatable migration", {},
                    "pass the version, or version => NULL and name => the repeatable migration's name");
    }
    if (version) check_version(*version);  // PM001
    const std::string key = version ? versioned_key(*version) : repeatable_key(*name);
    std::string what =
        version ? fmt::format("migration {}", *version) : fmt::format("repeatable migration \"{}\"", *name);
    if (expected && !is_checksum(*expected)) {
        throw Error(sqlstate::invalid_argument,
                    fmt::format("cannot approve {}: expected_checksum {} is not a script checksum", what, *expected),
                    {}, "pass the SHA-256 (64 hex digits) of the reviewed up script: pgmig.script_checksum(up_sql)");
    }
    const std::string approver = pg::call([] { return GetUserNameFromId(GetSessionUserId(), false); });

    std::vector<pg::TextRow> approval;
    {
        pg::Spi spi;
        AsLedgerOwner owner(ledger_owner(spi));
        const std::optional<Registered> m = registered(spi, key);
        std::optional<std::string> approved_version = version;
        std::string approved_name = name.value_or("");
        std::optional<std::string> checksum = expected;
        if (m) {
            what = m->as_migration().label();
            if ((m->version && m->applied) ||
                (!m->version && m->applied_checksum == m->checksum && expected.value_or(m->checksum) == m->checksum)) {
                throw Error(sqlstate::approval_already_applied,
                            fmt::format("cannot approve {}: it is applied already (by {})", what,
                                        m->applied_by.value_or("NULL")),
                            {}, "only pending migrations need approval; see migrate_status()");
            }
            if (!m->script_intact) {
                throw Error(sqlstate::ledger_tampered,
                            fmt::format("cannot approve {}: its stored up script does not match its checksum", what),
                            {}, "the ledger row was edited outside pgmig: see migrate_verify()");
            }
            approved_version = m->version;
            approved_name = m->name;
            if (expected.value_or(m->checksum) == m->checksum) {
                // Four-eyes: whoever registered this script may not also approve it.
                if (m->registered_by == approver) {
                    throw Error(sqlstate::self_approval,
                                fmt::format("cannot approve {}: {} registered it, and a migration's registrant may "
                                            "not approve it",
                                            what, approver),
                                "approvals count only by roles other than the role that registered the script "
                                "(pgmig.migrations.registered_by)",
                                "ask another member of pgmig_approver to review and approve it");
                }
                checksum = m->checksum;
            } else {
                // The reviewed script is not the registered one: its checksum is approved, and the approval
                // counts once that script is registered (it never counts for another).
                const std::string text = fmt::format(
                    "{} is registered with checksum {}, not with the reviewed {}: the approval counts once the "
                    "reviewed script is registered",
                    what, m->checksum.substr(0, 12), expected->substr(0, 12));
                pg::call([&text] { ereport(NOTICE, (errmsg_internal("%s", text.c_str()))); });
            }
        } else if (!expected) {
            throw Error(sqlstate::approval_unknown_version,
                        fmt::format("cannot approve {}: it is not registered, and no checksum says which script was "
                                    "reviewed",
                                    what),
                        {},
                        "pass the checksum of the reviewed up script as expected_checksum (pgmig approve does, from "
                        "the file): the approval then counts once that script is registered");
        }
        pg::Rows rows = spi.query(
            "INSERT INTO pgmig.approvals AS a (id, version, version_key, name, checksum, environment, approved_by) "
            "OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "RETURNING a.version, a.name, a.checksum, a.environment, a.approved_by, a.approved_at",
            {{INT8OID, next_id("approvals")},
             {TEXTOID, approved_version},
             {BYTEAOID, key},
             {TEXTOID, approved_name},
             {TEXTOID, checksum},
             {TEXTOID, environment},
             {NAMEOID, approver}},
            SPI_OK_INSERT_RETURNING);
        approval = std::move(rows.rows);
    }
    pg::return_rows(fcinfo, approval);
    return static_cast<Datum>(0);
}
