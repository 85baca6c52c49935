// DDL that pgmig's event triggers do not see, audited by the utility hook before it runs: statements
// PostgreSQL fires no event trigger for (shared objects, event triggers, CLUSTER, REINDEX before 17, VACUUM FULL,
// ALTER SYSTEM, EXPLAIN ANALYZE CREATE TABLE AS), and any DDL while pgmig's own triggers will not fire
// (disabled, or filtered out by session_replication_role, or single-user mode), decided the way
// PostgreSQL decides it (EventTriggerCommonSetup in commands/event_trigger.c: the event trigger cache,
// then the enabled state against session_replication_role, then the command tag).
extern "C" {
#include "postgres.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/evtcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <fmt/format.h>

#include <string>

#include "audit.hpp"
#include "audit_capture.hpp"
#include "pg/boundary.hpp"
#include "redact.hpp"
#include "script.hpp"
#include "pg/compat.hpp"
#include "touched_objects.hpp"

namespace pgmig::audit {
namespace {

bool has_option(List* options, const char* name) {
    ListCell* cell = nullptr;
    foreach (cell, options) {
        if (strcmp(castNode(DefElem, lfirst(cell))->defname, name) == 0) return true;
    }
    return false;
}

// The option's boolean value (raises on a value that is not one, as the statement itself would).
bool option_on(List* options, const char* name) {
    ListCell* cell = nullptr;
    bool on = false;
    foreach (cell, options) {
        auto* option = castNode(DefElem, lfirst(cell));
        if (strcmp(option->defname, name) == 0) on = defGetBoolean(option);
    }
    return on;
}

// EXPLAIN ANALYZE of CREATE TABLE AS / CREATE MATERIALIZED VIEW creates the relation through the
// executor, without event triggers. The statement it explains, or null.
const CreateTableAsStmt* explained_create_table_as(const Node* stmt) {
    if (!IsA(stmt, ExplainStmt)) return nullptr;
    const Node* query = castNode(ExplainStmt, const_cast<Node*>(stmt))->query;
    if (query == nullptr || !IsA(query, Query)) return nullptr;
    const Node* inner = castNode(Query, const_cast<Node*>(query))->utilityStmt;
    return inner != nullptr && IsA(inner, CreateTableAsStmt) ? castNode(CreateTableAsStmt, const_cast<Node*>(inner))
                                                             : nullptr;
}

// Statements PostgreSQL dispatches by object type: event triggers fire only for the types they
// support (not databases, tablespaces, roles, parameters, event triggers).
const char* unsupported_type(ObjectType type) {
    if (EventTriggerSupportsObjectType(type)) return nullptr;
    switch (type) {
        case OBJECT_DATABASE:
            return "database";
        case OBJECT_TABLESPACE:
            return "tablespace";
        case OBJECT_ROLE:
            return "role";
        case OBJECT_EVENT_TRIGGER:
            return "event trigger";
        case OBJECT_PARAMETER_ACL:
            return "parameter";
        default:
            return "object";
    }
}

// The object type recorded for DDL that fires no event trigger (on this server's version); null for statements
// that fire them (or are not DDL). May raise (an option that is not a boolean).
const char* never_fires_type(Node* stmt) {
    if (const char* shared = shared_object_type(stmt)) return shared;
    switch (nodeTag(stmt)) {
        case T_ReassignOwnedStmt:
            return "role";
        case T_CreateEventTrigStmt:
        case T_AlterEventTrigStmt:
            return "event trigger";
        case T_GrantStmt:
            return unsupported_type(castNode(GrantStmt, stmt)->objtype);
        case T_DropStmt:
            return unsupported_type(castNode(DropStmt, stmt)->removeType);
        case T_RenameStmt:
            return unsupported_type(castNode(RenameStmt, stmt)->renameType);
        case T_AlterOwnerStmt:
            return unsupported_type(castNode(AlterOwnerStmt, stmt)->objectType);
        case T_CommentStmt:
            return unsupported_type(castNode(CommentStmt, stmt)->objtype);
        case T_SecLabelStmt:
            return unsupported_type(castNode(SecLabelStmt, stmt)->objtype);
        case T_AlterObjectDependsStmt:
            return unsupported_type(castNode(AlterObjectDependsStmt, stmt)->objectType);
        case T_AlterObjectSchemaStmt:
            return unsupported_type(castNode(AlterObjectSchemaStmt, stmt)->objectType);
        case T_ClusterStmt:
            return "table";
        case T_ReindexStmt:
            if (pg::kReindexFiresEventTriggers) return nullptr;
            switch (castNode(ReindexStmt, stmt)->kind) {
                case REINDEX_OBJECT_INDEX:
                    return "index";
                case REINDEX_OBJECT_TABLE:
                    return "table";
                case REINDEX_OBJECT_SCHEMA:
                    return "schema";
                default:
                    return "database";
            }
        case T_VacuumStmt: {
            const auto* vacuum = castNode(VacuumStmt, stmt);
            return vacuum->is_vacuumcmd && option_on(vacuum->options, "full") ? "table" : nullptr;
        }
        case T_AlterSystemStmt:
            return "setting";
        case T_ExplainStmt: {
            const CreateTableAsStmt* ctas = explained_create_table_as(stmt);
            if (ctas == nullptr || !option_on(castNode(ExplainStmt, stmt)->options, "analyze")) return nullptr;
            return ctas->objtype == OBJECT_MATVIEW ? "materialized view" : "table";
        }
        default:
            return nullptr;
    }
}

std::string range_var(const RangeVar* rel) {
    if (rel == nullptr) return {};
    return rel->schemaname != nullptr ? fmt::format("{}.{}", rel->schemaname, rel->relname) : rel->relname;
}

// A name as the parser keeps it: a String, or a list of them (a qualified name). Plain reads of the
// parse tree: nothing here calls into PostgreSQL.
std::string name_of(Node* name) {
    if (name == nullptr) return {};
    if (IsA(name, String)) return strVal(name);
    if (!IsA(name, List)) return {};
    std::string out;
    ListCell* cell = nullptr;
    foreach (cell, castNode(List, name)) {
        if (!out.empty()) out += ".";
        out += name_of(static_cast<Node*>(lfirst(cell)));
    }
    return out;
}

std::string names_of(List* names) {
    std::string out;
    ListCell* cell = nullptr;
    foreach (cell, names) {
        if (!out.empty()) out += ", ";
        out += name_of(static_cast<Node*>(lfirst(cell)));
    }
    return out;
}

std::string role_spec(const RoleSpec* spec) {
    return spec != nullptr && spec->rolename != nullptr ? spec->rolename : "CURRENT_USER";
}

// The name(s) the statement is about, as written; empty when it names none (CLUSTER of every table).
// Reads the parse tree only.
std::string never_fires_identity(Node* stmt) {
    if (shared_object_type(stmt) != nullptr) return shared_object_identity(stmt);
    switch (nodeTag(stmt)) {
        case T_ReassignOwnedStmt: {
            const auto* reassign = castNode(ReassignOwnedStmt, stmt);
            std::string out;
            ListCell* cell = nullptr;
            foreach (cell, reassign->roles) {
                if (!out.empty()) out += ", ";
                out += role_spec(static_cast<RoleSpec*>(lfirst(cell)));
            }
            return out + " -> " + role_spec(reassign->newrole);
        }
        case T_CreateEventTrigStmt:
            return castNode(CreateEventTrigStmt, stmt)->trigname;
        case T_AlterEventTrigStmt:
            return castNode(AlterEventTrigStmt, stmt)->trigname;
        case T_GrantStmt:
            return names_of(castNode(GrantStmt, stmt)->objects);
        case T_DropStmt:
            return names_of(castNode(DropStmt, stmt)->objects);
        case T_RenameStmt: {
            const auto* rename = castNode(RenameStmt, stmt);
            const std::string from = rename->subname != nullptr ? rename->subname : name_of(rename->object);
            return from + " -> " + rename->newname;
        }
        case T_AlterOwnerStmt: {
            const auto* owner = castNode(AlterOwnerStmt, stmt);
            return name_of(owner->object) + " -> " + role_spec(owner->newowner);
        }
        case T_CommentStmt:
            return name_of(castNode(CommentStmt, stmt)->object);
        case T_SecLabelStmt:
            return name_of(castNode(SecLabelStmt, stmt)->object);
        case T_AlterObjectDependsStmt:
            return name_of(castNode(AlterObjectDependsStmt, stmt)->object);
        case T_AlterObjectSchemaStmt:
            return name_of(castNode(AlterObjectSchemaStmt, stmt)->object);
        case T_ClusterStmt:
            return range_var(castNode(ClusterStmt, stmt)->relation);
        case T_ReindexStmt: {
            const auto* reindex = castNode(ReindexStmt, stmt);
            if (reindex->relation != nullptr) return range_var(reindex->relation);
            return reindex->name != nullptr ? reindex->name : "";
        }
        case T_VacuumStmt: {
            std::string out;
            ListCell* cell = nullptr;
            foreach (cell, castNode(VacuumStmt, stmt)->rels) {
                if (!out.empty()) out += ", ";
                out += range_var(castNode(VacuumRelation, lfirst(cell))->relation);
            }
            return out;
        }
        case T_AlterSystemStmt: {
            const char* name = castNode(AlterSystemStmt, stmt)->setstmt->name;
            return name != nullptr ? name : "ALL";
        }
        case T_ExplainStmt:
            return range_var(explained_create_table_as(stmt)->into->rel);
        default:
            return {};
    }
}

// A setting whose value may be a secret (primary_conninfo, ssl_passphrase_command...).
bool secret_setting(const std::string& name) {
    for (const char* word : {"conninfo", "pass", "secret", "key", "token"}) {
        if (name.find(word) != std::string::npos) return true;
    }
    return false;
}

// Statements that commit transactions of their own (CREATE INDEX CONCURRENTLY and the like): what they
// did stays, whatever happens after them in the statement.
bool commits_on_its_own(const Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return castNode(IndexStmt, const_cast<Node*>(stmt))->concurrent;
        case T_DropStmt:
            return castNode(DropStmt, const_cast<Node*>(stmt))->concurrent;
        case T_ReindexStmt:
            return has_option(castNode(ReindexStmt, const_cast<Node*>(stmt))->params, "concurrently");
        default:
            return false;
    }
}

// The statement's text from the query string, secrets redacted.
std::string statement_text(Node* stmt, const char* query, int location, int length) {
    const std::string text = statement_slice(query != nullptr ? query : "", location, length);
    if (IsA(stmt, AlterSystemStmt)) {
        const VariableSetStmt* set = castNode(AlterSystemStmt, stmt)->setstmt;
        if (set->kind == VAR_SET_VALUE && set->name != nullptr && secret_setting(set->name)) {
            return fmt::format("ALTER SYSTEM SET {} = {}", set->name, kRedacted);
        }
        return text;
    }
    return kind_may_hold_secret(stmt) ? redact_statement(text) : text;
}

// Whether pgmig's event trigger function fires for `event` and `tag` now: EventTriggerCommonSetup's
// filter (PostgreSQL 15), applied to the cache items that call pgmig.audit_event().
bool fires(EventTriggerEvent event, CommandTag tag, Oid function) {
    List* items = EventCacheLookup(event);
    ListCell* cell = nullptr;
    foreach (cell, items) {
        const auto* item = static_cast<EventTriggerCacheItem*>(lfirst(cell));
        if (item->fnoid != function) continue;
        if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA) {
            if (item->enabled == TRIGGER_FIRES_ON_ORIGIN) continue;
        } else if (item->enabled == TRIGGER_FIRES_ON_REPLICA) {
            continue;
        }
        if (!bms_is_empty(item->tagset) && !bms_is_member(static_cast<int>(tag), item->tagset)) continue;
        return true;
    }
    return false;
}

struct Firing {
    bool installed;  // pgmig.audit_event() exists in this database
    bool start;      // pgmig's ddl_command_start trigger will fire: the policy is applied there
    bool records;    // the event that records this statement will fire (sql_drop for DROP)
};

Firing pgmig_triggers(Node* stmt, CommandTag tag) {
    Firing f{false, false, false};
    const Oid function = audit_event_function();
    if (!OidIsValid(function)) return f;
    f.installed = true;
    if (!IsUnderPostmaster) return f;  // single-user mode: PostgreSQL fires no event trigger
    f.start = fires(EVT_DDLCommandStart, tag, function);
    // pgmig records a DROP from its sql_drop rows, everything else at ddl_command_end.
    f.records = fires(IsA(stmt, DropStmt) ? EVT_SQLDrop : EVT_DDLCommandEnd, tag, function);
    return f;
}

}  // namespace

bool triggers_record(Node* stmt, int command_tag) {
    return pg::call([stmt, command_tag] { return pgmig_triggers(stmt, static_cast<CommandTag>(command_tag)).records; });
}

bool unseen_candidate(const Node* stmt, int context) {
    // A subcommand belongs to a statement the hook saw (CREATE SCHEMA's elements); extension scripts
    // are part of CREATE/ALTER EXTENSION.
    if (stmt == nullptr || context == PROCESS_UTILITY_SUBCOMMAND || creating_extension) return false;
    switch (nodeTag(stmt)) {
        case T_TransactionStmt:
        case T_VariableSetStmt:
        case T_VariableShowStmt:
        case T_DiscardStmt:
        case T_DeclareCursorStmt:
        case T_ClosePortalStmt:
        case T_FetchStmt:
        case T_PrepareStmt:
        case T_ExecuteStmt:
        case T_DeallocateStmt:
        case T_NotifyStmt:
        case T_ListenStmt:
        case T_UnlistenStmt:
        case T_LoadStmt:
        case T_CallStmt:
        case T_DoStmt:
        case T_CopyStmt:
        case T_TruncateStmt:
        case T_LockStmt:
        case T_ConstraintsSetStmt:
        case T_CheckPointStmt:
            return false;
        case T_VacuumStmt:
            return has_option(castNode(VacuumStmt, const_cast<Node*>(stmt))->options, "full");
        case T_ExplainStmt:
            return explained_create_table_as(stmt) != nullptr;
        default:
            return true;
    }
}

void audit_unseen(Node* stmt, const char* query, int location, int length) {
    if (drops_pgmig(stmt)) return;
    const char* type = pg::call([stmt] { return never_fires_type(stmt); });
    const CommandTag tag = pg::call([stmt] { return CreateCommandTag(stmt); });
    if (type == nullptr) {
        if (!command_tag_event_trigger_ok(tag)) return;  // not DDL (plain VACUUM, EXPLAIN without ANALYZE)
        const Firing f = pg::call([stmt, tag] { return pgmig_triggers(stmt, tag); });
        if (!f.installed || (f.start && f.records) || !auditing_here()) return;
        if (!f.start) ddl_start_checks(stmt, static_cast<int>(tag));
        if (!f.records) {
            if (commits_on_its_own(stmt)) {
                // Its work would be committed before its rows could be written: recorded before it runs.
                touched::note_unseen(GetCommandTagName(tag));
                record_utility(static_cast<int>(tag), statement_text(stmt, query, location, length), nullptr, nullptr);
            } else {
                const std::optional<std::string> text =
                    captured_statement(stmt, static_cast<int>(tag), query, location, length);
                capture::begin(stmt, static_cast<int>(tag), text ? text->c_str() : nullptr);
            }
        }
        return;
    }
    if (!auditing_here()) return;
    ddl_start_checks(stmt, static_cast<int>(tag));
    touched::note_unseen(GetCommandTagName(tag));
    const std::string identity = never_fires_identity(stmt);
    record_utility(static_cast<int>(tag), statement_text(stmt, query, location, length), type,
                   identity.empty() ? nullptr : identity.c_str());
}

}  // namespace pgmig::audit
