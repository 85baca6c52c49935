// The DDL audit trail: event triggers written in C++ (policy at ddl_command_start; one row per
// affected object at ddl_command_end, sql_drop and table_rewrite), the guard that keeps audit rows
// immutable, and the hash chain that seals them after commit.
extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type_d.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/portal.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "audit.hpp"
#include "audit_capture.hpp"
#include "audit_chain.hpp"
#include "audit_in_flight.hpp"
#include "audit_writer.hpp"
#include "ledger_store.hpp"
#include "lint.hpp"
#include "pg/boundary.hpp"
#include "pg/interrupts.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"
#include "redact.hpp"
#include "script.hpp"
#include "settings.hpp"
#include "touched_objects.hpp"

namespace pgmig::audit {
namespace {

// Backend-local state: plain pointers and a char array, so nothing runs at library load.
const char* g_version = nullptr;
const char* g_statement = nullptr;
int g_statement_kind = 0;
// Set by the ProcessUtility hook for the statement being executed (see UtilitySpan).
UtilitySpan g_utility = {nullptr, nullptr, 0, 0};
char g_nontx_version[256] = "";
bool g_rehearsal = false;  // set while a dry run or a rollback test runs (see Rehearsal)

const char* current_migration() {
    if (g_version != nullptr) return g_version;
    return g_nontx_version[0] != '\0' ? g_nontx_version : nullptr;
}

bool is_pgmig_extension_drop(Node* parsetree) {
    if (parsetree == nullptr || !IsA(parsetree, DropStmt)) return false;
    const auto* drop = castNode(DropStmt, parsetree);
    if (drop->removeType != OBJECT_EXTENSION) return false;
    ListCell* cell = nullptr;
    foreach (cell, drop->objects) {
        if (strcmp(strVal(lfirst(cell)), "pgmig") == 0) return true;
    }
    return false;
}

// Temporary objects are the session's own business: never blocked, whatever the policy.
bool creates_or_drops_temporary(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_CreateStmt:
            return castNode(CreateStmt, stmt)->relation->relpersistence == RELPERSISTENCE_TEMP;
        case T_ViewStmt:
            return castNode(ViewStmt, stmt)->view->relpersistence == RELPERSISTENCE_TEMP;
        case T_CreateSeqStmt:
            return castNode(CreateSeqStmt, stmt)->sequence->relpersistence == RELPERSISTENCE_TEMP;
        case T_CreateTableAsStmt:
            return castNode(CreateTableAsStmt, stmt)->into->rel->relpersistence == RELPERSISTENCE_TEMP;
        case T_DropStmt: {
            const auto* drop = castNode(DropStmt, stmt);
            if (drop->removeType != OBJECT_TABLE && drop->removeType != OBJECT_VIEW &&
                drop->removeType != OBJECT_SEQUENCE && drop->removeType != OBJECT_INDEX) {
                return false;
            }
            ListCell* cell = nullptr;
            foreach (cell, drop->objects) {
                const Oid rel = RangeVarGetRelid(makeRangeVarFromNameList(castNode(List, lfirst(cell))), NoLock, true);
                if (!OidIsValid(rel) || get_rel_persistence(rel) != RELPERSISTENCE_TEMP) return false;
            }
            return true;
        }
        default:
            return false;
    }
}

// The text of the statement that fired the trigger, redacted; none when it cannot be isolated
// (DDL inside a function or DO block: the client's query string holds the outer statement).
std::optional<std::string> isolate_statement(const EventTriggerData* trig) {
    if (g_statement != nullptr) {
        if (trig->parsetree != nullptr && static_cast<int>(nodeTag(trig->parsetree)) == g_statement_kind) {
            return kind_may_hold_secret(trig->parsetree) ? redact_statement(g_statement) : std::string(g_statement);
        }
        // DDL nested in the migration's statement (a DO block, a function it calls): the text is the
        // outer statement, whose secrets the parse tree cannot locate.
        const std::string text = g_statement;
        return mentions_secret(text) ? std::string(kRedacted) : text;
    }
    if (trig->parsetree != nullptr && trig->parsetree == g_utility.stmt && g_utility.query != nullptr) {
        // The hook saw this very statement: its span in its query string is exact, no parse needed.
        const std::string text = statement_slice(g_utility.query, g_utility.location, g_utility.length);
        return kind_may_hold_secret(trig->parsetree) ? redact_statement(text) : text;
    }
    if (ActivePortal != nullptr && ActivePortal->sourceText != nullptr) {
        // The portal running the client's statement knows its span in the query string: no parse, and
        // no pass over the whole string per event (a string of 50,000 statements fires 50,000 events).
        // A cached plan's tree reaches the trigger as a copy (readOnlyTree): then equal() or, as before, the
        // tag of the portal's only utility statement. DDL nested in that statement (a DO block, a function
        // it calls) cannot be isolated.
        Node* fired = trig->parsetree;
        const CommandTag tag = trig->tag;
        const PlannedStmt* by_tag = nullptr;
        int utilities = 0;
        ListCell* cell = nullptr;
        foreach (cell, ActivePortal->stmts) {
            const auto* planned = lfirst_node(PlannedStmt, cell);
            if (planned->commandType != CMD_UTILITY) continue;
            ++utilities;
            Node* node = planned->utilityStmt;
            const bool same =
                node == fired || pg::call([node, fired] { return fired != nullptr && equal(node, fired); });
            if (same) {
                by_tag = planned;
                utilities = 1;
                break;
            }
            if (pg::call([node] { return CreateCommandTag(node); }) == tag) by_tag = planned;
        }
        if (by_tag == nullptr || utilities != 1) return std::nullopt;
        const std::string text = statement_slice(ActivePortal->sourceText, by_tag->stmt_location, by_tag->stmt_len);
        return kind_may_hold_secret(by_tag->utilityStmt) ? redact_statement(text) : text;
    }
    if (debug_query_string == nullptr) return std::nullopt;
    const std::string query = debug_query_string;
    std::vector<Node*> nodes;
    std::vector<Statement> statements;
    try {
        statements = split_script(query, &nodes);
    } catch (const pg::PgError& e) {
        if (pg::is_interrupt(e)) throw;
        return std::nullopt;  // split_script rolled its parse's subtransaction back
    }
    Node* fired = trig->parsetree;
    const CommandTag tag = trig->tag;
    std::optional<size_t> by_tag;
    int tag_matches = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
        Node* node = nodes[i];
        if (pg::call([node, fired] { return fired != nullptr && equal(node, fired); })) {
            return kind_may_hold_secret(node) ? redact_statement(statements[i].text) : statements[i].text;
        }
        if (pg::call([node] { return CreateCommandTag(node); }) == tag) {
            by_tag = i;
            ++tag_matches;
        }
    }
    if (tag_matches == 1) {
        return kind_may_hold_secret(nodes[*by_tag]) ? redact_statement(statements[*by_tag].text)
                                                    : statements[*by_tag].text;
    }
    return std::nullopt;
}

// The policy in force for this session, saying when it overrides the configured one (an
// emergency escape such as SET pgmig.out_of_band = log is recorded with every statement it lets by).
bool caller_is_admin() {
    return pg::call([] {
        if (superuser()) return true;
        const Oid admin = get_role_oid("pgmig_admin", true);
        return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
    });
}

// Replication applies changes that were vetted where they were made: session_replication_role =
// replica (which only superusers, or roles granted SET on it, can choose) is exempt from the policy.
// It is never exempt from the audit trail.
bool replicating() { return SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA; }

std::string policy_text() {
    const settings::OutOfBand policy = settings::out_of_band();
    std::string text = settings::out_of_band_name(policy);
    const char* reset = pg::call([] { return GetConfigOptionResetString("pgmig.out_of_band"); });
    if (reset != nullptr && text != reset) text += fmt::format(" (overrides {})", reset);
    if (policy != settings::OutOfBand::log && replicating())
        return text + " (not applied: session_replication_role = replica)";
    if (policy == settings::OutOfBand::block && caller_is_admin()) text += " (pgmig_admin)";
    return text;
}

const char* hint_ship_as_migration =
    "ship the change as a migration: pgmig new NAME, write it, then pgmig apply (or "
    "SELECT migrate_register(...); SELECT * FROM migrate_apply();)";

void check_out_of_band(Node* stmt, CommandTag command_tag) {
    if (current_migration() != nullptr) return;
    const settings::OutOfBand policy = settings::out_of_band();
    if (policy == settings::OutOfBand::log || replicating()) return;
    if (pg::call([stmt] { return creates_or_drops_temporary(stmt); })) return;
    const char* tag = GetCommandTagName(command_tag);
    // Only under warn/block: the same lint rules as migrations (never on the default log path).
    const std::vector<lint::Finding> findings = lint::lint_statement(stmt, debug_query_string);
    std::string lint_detail;
    std::string lint_errors;  // what the migration will have to fix (or waive) too
    for (const lint::Finding& f : findings) {
        if (f.waived || f.severity == lint::Severity::advice) continue;
        lint_detail += "\nlint: " + lint::describe_out_of_band(f);
        if (f.severity == lint::Severity::error) lint_errors += "\nlint: " + lint::describe_out_of_band(f);
    }
    const bool lint_error = !lint_errors.empty();
    if (policy == settings::OutOfBand::block && !caller_is_admin()) {
        throw Error(
            sqlstate::out_of_band_blocked, fmt::format("{} outside a migration is blocked in this database", tag),
            "pgmig.out_of_band = block: schema changes go through migrations" + lint_errors, hint_ship_as_migration);
    }
    if (policy == settings::OutOfBand::block && lint_error) {
        throw Error(
            sqlstate::lint_out_of_band,
            fmt::format("{} outside a migration has lint errors and is refused (pgmig.out_of_band = block)", tag),
            lint_detail.substr(1),
            "do it the safe way each finding says; or, once reviewed, waive it with a comment "
            "-- pgmig:allow RULE in the same query, or ship it as a migration");
    }
    for (const lint::Finding& f : findings) {
        if (f.waived || f.severity == lint::Severity::advice) continue;
        const std::string message = fmt::format("{} outside a migration: {}", tag, lint::describe_out_of_band(f));
        const char* text = message.c_str();
        pg::call([text] {
            ereport(WARNING, (errmsg_internal("%s", text),
                              errhint("waive a reviewed finding with a comment -- pgmig:allow RULE in the query")));
        });
    }
    const std::string message =
        fmt::format("{} outside a migration: recorded in pgmig.ddl_audit as out-of-band DDL", tag);
    const char* text = message.c_str();
    pg::call([text] { ereport(WARNING, (errmsg_internal("%s", text), errhint("%s", hint_ship_as_migration))); });
}

// Audit rows are written without the executor (audit_writer), which cannot compute index
// expressions or predicates: such an index on pgmig.ddl_audit is refused before it exists.
void check_audit_index(Node* stmt) {
    if (stmt == nullptr || !IsA(stmt, IndexStmt)) return;
    const auto* index = castNode(IndexStmt, stmt);
    bool plain = index->whereClause == nullptr && index->excludeOpNames == NIL;
    ListCell* cell = nullptr;
    foreach (cell, index->indexParams) {
        if (castNode(IndexElem, lfirst(cell))->expr != nullptr) plain = false;
    }
    if (plain) return;
    const bool on_audit = pg::call([index] {
        const Oid schema = get_namespace_oid("pgmig", true);
        const Oid audit = OidIsValid(schema) ? get_relname_relid("ddl_audit", schema) : InvalidOid;
        return OidIsValid(audit) && RangeVarGetRelid(index->relation, NoLock, true) == audit;
    });
    if (!on_audit) return;
    throw Error(sqlstate::audit_index_unsupported, "pgmig.ddl_audit can only have plain column indexes",
                "pgmig writes audit rows straight into the table and its indexes, without the executor that "
                "computes index expressions and predicates",
                "index plain columns of pgmig.ddl_audit (e.g. CREATE INDEX ON pgmig.ddl_audit (at))");
}

// Who ran a statement and under which policy: what every audit row of it shares.
struct Origin {
    const char* migration;  // nullptr: out of band
    std::string policy;
    Caller caller;
};

Origin statement_origin() {
    const char* migration = current_migration();
    // In a migration nothing about the policy matters: no role lookup on that path.
    return {migration, migration != nullptr ? "migration" : policy_text(), current_caller()};
}

EventObjects event_objects(const char* event) {
    if (strcmp(event, "ddl_command_end") == 0) return EventObjects::ddl_commands;
    return strcmp(event, "sql_drop") == 0 ? EventObjects::dropped_objects : EventObjects::rewritten_table;
}

// Drift is announced when it happens, for out-of-band DDL: the first object and how many.
// The payload is one JSON object, keys in this order, no spaces, written with PostgreSQL's escape_json:
// a JSON library's document and dump cost about 17,000 instructions per statement (bench/audit-instructions.sh).
void announce_drift(const Appended& appended, const char* tag, const std::string& user) {
    const char* name = user.c_str();
    pg::call([&appended, tag, name] {
        StringInfoData payload;
        initStringInfo(&payload);
        appendStringInfo(&payload, "{\"audit_id\":" INT64_FORMAT ",\"command\":", static_cast<int64>(appended.first_id));
        escape_json(&payload, tag);
        appendStringInfoString(&payload, ",\"object\":");
        escape_json(&payload, appended.first_identity);
        appendStringInfo(&payload, ",\"objects\":" UINT64_FORMAT ",\"user\":", static_cast<uint64>(appended.count));
        escape_json(&payload, name);
        appendStringInfoChar(&payload, '}');
        notify_drift(payload.data);
        pfree(payload.data);
    });
}

void record(EventTriggerData* trig) {
    // A rehearsal is always rolled back: its rows would vanish, but their ids would leave gaps.
    if (g_rehearsal && g_version != nullptr) return;
    // A DROP's objects are the sql_drop rows; its ddl_command_end reports none of its own.
    if (strcmp(trig->event, "ddl_command_end") == 0 && trig->parsetree != nullptr && IsA(trig->parsetree, DropStmt)) {
        return;
    }
    const std::optional<std::string> statement = isolate_statement(trig);
    const Origin origin = statement_origin();
    const char* tag = GetCommandTagName(trig->tag);
    const RowValues row = {trig->event,
                           tag,
                           statement ? statement->c_str() : nullptr,
                           origin.migration,
                           origin.caller.current_user.c_str(),
                           origin.policy.c_str()};
    const EventObjects objects = event_objects(trig->event);
    Node* parsetree = trig->parsetree;
    const bool grant = objects == EventObjects::ddl_commands && grant_names_objects(parsetree);
    const Appended appended = pg::call([&row, objects, grant, parsetree] {
        return grant ? append_grant_rows(row, parsetree) : append_event_rows(row, objects);
    });
    note_rows_written(appended.table);
    if (origin.migration == nullptr && settings::notify_drift()) {
        announce_drift(appended, tag, origin.caller.current_user);
    }
}

}  // namespace

InMigration::InMigration(const char* version, const char* statement, int kind)
    : saved_version_(g_version), saved_statement_(g_statement), saved_kind_(g_statement_kind) {
    g_version = version;
    g_statement = statement;
    g_statement_kind = kind;
}

InMigration::~InMigration() {
    g_version = saved_version_;
    g_statement = saved_statement_;
    g_statement_kind = saved_kind_;
}

Rehearsal::Rehearsal() : saved_(g_rehearsal) { g_rehearsal = true; }

Rehearsal::~Rehearsal() { g_rehearsal = saved_; }

UtilitySpan enter_utility(const UtilitySpan& current) noexcept {
    const UtilitySpan saved = g_utility;
    g_utility = current;
    return saved;
}

void leave_utility(const UtilitySpan& saved) noexcept { g_utility = saved; }

void set_nontx_migration(const char* version) {
    if (version == nullptr) {
        g_nontx_version[0] = '\0';
    } else {
        strlcpy(g_nontx_version, version, sizeof(g_nontx_version));
    }
}

const char* shared_object_type(const Node* stmt) {
    if (stmt == nullptr) return nullptr;
    switch (nodeTag(stmt)) {
        case T_CreateRoleStmt:
        case T_AlterRoleStmt:
        case T_AlterRoleSetStmt:
        case T_DropRoleStmt:
        case T_GrantRoleStmt:
            return "role";
        case T_CreatedbStmt:
        case T_AlterDatabaseStmt:
        case T_AlterDatabaseSetStmt:
        case T_AlterDatabaseRefreshCollStmt:
        case T_DropdbStmt:
            return "database";
        case T_CreateTableSpaceStmt:
        case T_DropTableSpaceStmt:
        case T_AlterTableSpaceOptionsStmt:
            return "tablespace";
        case T_RenameStmt: {
            const ObjectType type = castNode(RenameStmt, const_cast<Node*>(stmt))->renameType;
            if (type == OBJECT_ROLE) return "role";
            if (type == OBJECT_DATABASE) return "database";
            return type == OBJECT_TABLESPACE ? "tablespace" : nullptr;
        }
        default:
            return nullptr;
    }
}

namespace {

std::string role_name(const RoleSpec* spec) {
    return spec != nullptr && spec->rolename != nullptr ? spec->rolename : "CURRENT_USER";
}

std::string role_names(List* roles) {
    std::string out;
    ListCell* cell = nullptr;
    foreach (cell, roles) {
        if (!out.empty()) out += ", ";
        out += role_name(static_cast<RoleSpec*>(lfirst(cell)));
    }
    return out;
}

}  // namespace

std::string shared_object_identity(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_CreateRoleStmt:
            return castNode(CreateRoleStmt, stmt)->role;
        case T_AlterRoleStmt:
            return role_name(castNode(AlterRoleStmt, stmt)->role);
        case T_AlterRoleSetStmt:
            return castNode(AlterRoleSetStmt, stmt)->role != nullptr ? role_name(castNode(AlterRoleSetStmt, stmt)->role)
                                                                     : "ALL";
        case T_DropRoleStmt:
            return role_names(castNode(DropRoleStmt, stmt)->roles);
        case T_GrantRoleStmt: {
            std::string out;
            ListCell* cell = nullptr;
            foreach (cell, castNode(GrantRoleStmt, stmt)->granted_roles) {
                if (!out.empty()) out += ", ";
                out += castNode(AccessPriv, lfirst(cell))->priv_name;
            }
            return out;
        }
        case T_CreatedbStmt:
            return castNode(CreatedbStmt, stmt)->dbname;
        case T_AlterDatabaseStmt:
            return castNode(AlterDatabaseStmt, stmt)->dbname;
        case T_AlterDatabaseSetStmt:
            return castNode(AlterDatabaseSetStmt, stmt)->dbname;
        case T_AlterDatabaseRefreshCollStmt:
            return castNode(AlterDatabaseRefreshCollStmt, stmt)->dbname;
        case T_DropdbStmt:
            return castNode(DropdbStmt, stmt)->dbname;
        case T_CreateTableSpaceStmt:
            return castNode(CreateTableSpaceStmt, stmt)->tablespacename;
        case T_DropTableSpaceStmt:
            return castNode(DropTableSpaceStmt, stmt)->tablespacename;
        case T_AlterTableSpaceOptionsStmt:
            return castNode(AlterTableSpaceOptionsStmt, stmt)->tablespacename;
        case T_RenameStmt:
            return std::string(castNode(RenameStmt, stmt)->subname) + " -> " + castNode(RenameStmt, stmt)->newname;
        default:
            return {};
    }
}

namespace {

// Cancels and timeouts (class 57: query_canceled, i.e. a cancel request or statement_timeout;
// 55P03: lock_timeout) and transaction rollbacks (class 40: deadlock, serialization failure) are
// the session's business, not pgmig's: they always reach the statement as they are.
bool cancel_or_timeout(int code) {
    const int error_class = code & 0xFFF;  // the first two characters (make_sqlstate packs them low)
    return error_class == (make_sqlstate("57000") & 0xFFF) || error_class == (make_sqlstate("40000") & 0xFFF) ||
           code == make_sqlstate("55P03");
}

// Runs record(). The audit fails closed: a cancel or timeout reaches the statement as it is, and any
// other failure refuses it (PM038) unless a superuser set pgmig.audit_failure = warn, which turns it
// into a WARNING and lets the statement run unaudited.
// Under the default (error) the rows are written in the statement's own transaction, with no
// subtransaction: a failure aborts it anyway, and a subtransaction per statement would cost one
// transaction id each and overflow the backend's subtransaction cache (64) in a long migration, which
// slows every snapshot in the cluster. Only warn, which must survive the failure, needs one.
template <typename Fn>
void record_or_fail(int command_tag, Fn&& record) {
    std::optional<Error> failure;
    try {
        if (settings::audit_failure() == settings::AuditFailure::error) {
            // A PostgreSQL error here is only ever re-raised (as itself or as PM038): the transaction
            // it leaves in need of abort is aborted by that error.
            record();
        } else {
            pg::Subtransaction sub;
            record();
            sub.commit();
        }
    } catch (const Error& e) {
        failure = e;
    } catch (const std::exception& e) {
        failure = Error(sqlstate::internal_error, e.what());
    }
    if (!failure) return;
    if (cancel_or_timeout(failure->sqlstate())) throw *failure;
    const char* tag = GetCommandTagName(static_cast<CommandTag>(command_tag));
    const std::string cause = failure->message();
    if (settings::audit_failure() == settings::AuditFailure::error) {
        throw Error(sqlstate::audit_write_failed,
                    fmt::format("{} refused: pgmig could not record it in pgmig.ddl_audit: {}", tag, cause),
                    "pgmig.audit_failure = error: DDL that cannot be audited does not run",
                    failure->hint().empty() ? "fix what stops the audit write and run the statement again"
                                            : failure->hint() + "; then run the statement again");
    }
    const std::string message =
        fmt::format("pgmig could not record {} in pgmig.ddl_audit: {}; it ran unaudited", tag, cause);
    const std::string hint = failure->hint().empty()
                                 ? "pgmig.audit_failure = warn let it through; fix what stops the audit write"
                                 : "pgmig.audit_failure = warn let it through; " + failure->hint();
    const char* text = message.c_str();
    const char* hint_text = hint.c_str();
    pg::call([text, hint_text] { ereport(WARNING, (errmsg_internal("%s", text), errhint("%s", hint_text))); });
}

}  // namespace

namespace {

// Whether pgmig is installed in this database, as last looked up. PostgreSQL 15 has no catalog cache for
// pg_extension: the lookup by name is an index scan, about 15,000 instructions, and the utility hook asks
// before every statement it records. CREATE EXTENSION pgmig and DROP EXTENSION pgmig create and drop
// pgmig's event triggers in the same transaction, and every change of pg_event_trigger reaches every
// session as a catalog cache invalidation, processed where the lookup's own catalog snapshot would have
// been renewed (the session's own changes at once, a rolled-back CREATE EXTENSION at its abort, other
// sessions' once committed); a reset of all caches forgets the answer too.
// The same holds for pgmig.audit_event(), the event trigger function the triggers call.
enum class Installed : char { unknown, no, yes };
Installed g_installed = Installed::unknown;
Oid g_event_function = InvalidOid;
bool g_event_function_known = false;

void forget_installed(Datum /*arg*/, int /*cacheid*/, uint32 /*hashvalue*/) {
    g_installed = Installed::unknown;
    g_event_function_known = false;
}

}  // namespace

void install_extension_cache() {
    CacheRegisterSyscacheCallback(EVENTTRIGGEROID, forget_installed, static_cast<Datum>(0));
}

Oid audit_event_function() {
    if (!g_event_function_known) {
        const Oid function = pg::call([] {
            const Oid schema = get_namespace_oid("pgmig", true);
            if (!OidIsValid(schema)) return InvalidOid;
            oidvector* no_args = buildoidvector(nullptr, 0);
            return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum("audit_event"),
                                   PointerGetDatum(no_args), ObjectIdGetDatum(schema));
        });
        g_event_function = function;
        g_event_function_known = true;
    }
    return g_event_function;
}

// pgmig is installed in this database, and this is not an extension script (pgmig's own creates
// its roles).
bool auditing_here() {
    if (creating_extension) return false;
    if (g_installed == Installed::unknown) {
        const bool found = pg::call([] { return OidIsValid(get_extension_oid("pgmig", true)); });
        g_installed = found ? Installed::yes : Installed::no;
    }
    return g_installed == Installed::yes;
}

bool drops_pgmig(Node* stmt) { return is_pgmig_extension_drop(stmt); }

// At ddl_command_start, in a session whose utility hook did not see the statement begin (pgmig was loaded
// by this very trigger): refuses it when pgmig's triggers will not record it either, since then only the
// hooks would have (audit_capture.hpp).
void require_recorder(Node* stmt, int command_tag) {
    if (capture::hook_active() || triggers_record(stmt, command_tag)) return;
    const char* tag = GetCommandTagName(static_cast<CommandTag>(command_tag));
    throw Error(
        sqlstate::audit_hook_not_loaded,
        fmt::format("{} refused: pgmig records DDL in this database with its hooks, and this session loaded "
                    "pgmig only as the statement began",
                    tag),
        "pgmig's ddl_command_end (or sql_drop) trigger does not fire here, so its utility hook records DDL; the "
        "hook was not in place when this statement began, and nothing would record it",
        "preload pgmig for every session (shared_preload_libraries = 'pgmig', or ALTER DATABASE ... SET "
        "session_preload_libraries = 'pgmig'), or let pgmig's triggers record again (a superuser: SELECT "
        "migrate_audit_recorder('triggers')); the statement runs in a session that has loaded pgmig");
}

void ddl_start_checks(Node* stmt, int command_tag) {
    check_audit_index(stmt);
    check_out_of_band(stmt, static_cast<CommandTag>(command_tag));
    pg::call([stmt] { protect_in_flight_rows(stmt); });  // last: only a statement that will run waits
}

void record_utility(int command_tag, const std::string& statement, const char* object_type,
                    const char* object_identity) {
    record_or_fail(command_tag, [&] {
        // A rehearsal is always rolled back: its rows would vanish, but their ids would leave gaps.
        if (g_rehearsal && g_version != nullptr) return;
        const Origin origin = statement_origin();
        const char* tag = GetCommandTagName(static_cast<CommandTag>(command_tag));
        const RowValues row = {"utility",
                               tag,
                               statement.c_str(),
                               origin.migration,
                               origin.caller.current_user.c_str(),
                               origin.policy.c_str()};
        const Appended appended = pg::call(
            [&row, object_type, object_identity] { return append_shared_row(row, object_type, object_identity); });
        note_rows_written(appended.table);
        if (origin.migration == nullptr && settings::notify_drift()) {
            announce_drift(appended, tag, origin.caller.current_user);
        }
    });
}

std::optional<std::string> captured_statement(Node* stmt, int command_tag, const char* query, int location,
                                              int length) {
    // The text the event triggers would record for this very statement: the hook's span of it.
    const UtilitySpan saved = enter_utility({stmt, query, location, length});
    EventTriggerData trig{};
    trig.type = T_EventTriggerData;
    trig.event = "ddl_command_end";
    trig.parsetree = stmt;
    trig.tag = static_cast<CommandTag>(command_tag);
    std::optional<std::string> text;
    try {
        text = isolate_statement(&trig);
    } catch (...) {
        leave_utility(saved);
        throw;
    }
    leave_utility(saved);
    return text;
}

void under_audit_failure(int command_tag, void (*fn)(void*), void* arg) {
    record_or_fail(command_tag, [fn, arg] { fn(arg); });
}

void write_captured(int command_tag, const char* statement, const CapturedRow* rows, int count) {
    // A rehearsal is always rolled back: its rows would vanish, but their ids would leave gaps.
    if (g_rehearsal && g_version != nullptr) return;
    const Origin origin = statement_origin();
    const char* tag = GetCommandTagName(static_cast<CommandTag>(command_tag));
    const RowValues row = {"ddl_command_end",    tag, statement, origin.migration, origin.caller.current_user.c_str(),
                           origin.policy.c_str()};
    const Appended appended = pg::call([&row, rows, count] { return append_captured_rows(row, rows, count); });
    note_rows_written(appended.table);
    if (origin.migration == nullptr && settings::notify_drift()) {
        announce_drift(appended, tag, origin.caller.current_user);
    }
}

}  // namespace pgmig::audit

using namespace pgmig;

// pgmig.audit_event(): the event trigger function for every event pgmig listens to.
PGMIG_FUNCTION_ANY_SQL(pgmig_audit_event) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo)) {
        throw Error(sqlstate::invalid_argument, "pgmig.audit_event() is an event trigger function",
                    "it is called by PostgreSQL for DDL, not from SQL");
    }
    auto* trig = reinterpret_cast<EventTriggerData*>(fcinfo->context);
    // An extension script that alters pgmig.ddl_audit (an upgrade) waits for rows in progress too.
    if (creating_extension && strcmp(trig->event, "ddl_command_start") == 0) {
        Node* stmt = trig->parsetree;
        pg::call([stmt] { audit::protect_in_flight_rows(stmt); });
    }
    // Extension scripts (pgmig's own included) and DROP EXTENSION pgmig are not audited: the
    // first are part of CREATE/ALTER EXTENSION, which is audited itself; the second removes the trail.
    if (creating_extension || audit::is_pgmig_extension_drop(trig->parsetree)) return static_cast<Datum>(0);
    if (strcmp(trig->event, "ddl_command_start") == 0) {
        audit::require_recorder(trig->parsetree, static_cast<int>(trig->tag));
        audit::ddl_start_checks(trig->parsetree, static_cast<int>(trig->tag));  // may refuse the statement
        return static_cast<Datum>(0);
    }
    touched::note_event(trig);  // while a rollback test collects the objects its migration touches
    // A failure to record refuses the statement (pgmig.audit_failure).
    audit::record_or_fail(static_cast<int>(trig->tag), [trig] { audit::record(trig); });
    return static_cast<Datum>(0);
}
