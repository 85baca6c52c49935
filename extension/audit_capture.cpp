// The DDL audit captured by the hooks (see audit_capture.hpp). PostgreSQL collects a command for every
// utility statement that is a complete query or one of its subcommands (ProcessUtilitySlow in
// tcop/utility.c), naming the object its Define or Alter function returned; the capture names the same
// object from what the object access hook reports while that statement runs: the first object of the
// statement's own kind it created, else the first object it altered, else the object the statement
// names. Dropped objects are named when the hook reports them, before they go, and kept when nothing
// else dropped with them owns them (PostgreSQL keeps those it reached as the original or through a
// normal dependency). A rewrite is the file swap of ALTER TABLE (cluster.c swap_relation_files: the
// table, then the new heap it created, each reported as altered).
extern "C" {
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_conversion.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_publication_namespace.h"
#include "catalog/pg_publication_rel.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_transform.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_ts_dict.h"
#include "catalog/pg_ts_parser.h"
#include "catalog/pg_ts_template.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
}

#include "audit.hpp"
#include "audit_capture.hpp"
#include "audit_writer.hpp"
#include "pg/boundary.hpp"
#include "pg/compat.hpp"
#include "touched_objects.hpp"

namespace pgmig::audit::capture {
namespace {

// A row named at the end of a (sub)command: its object's identity is read when the capture is written,
// as pg_event_trigger_ddl_commands() reads it at ddl_command_end (an object gone by then is skipped).
// An object as a row names it: object_type, schema_name, object_identity (identity null: not described).
struct Description {
    const char* type;
    const char* schema;
    const char* identity;
};

struct Named {
    const char* event;        // "ddl_command_end" or "table_rewrite"
    ObjectAddress address;    // classId InvalidOid: no object (`grant_type` says what a GRANT was on)
    const char* grant_type;   // GRANT and ALTER DEFAULT PRIVILEGES on objects PostgreSQL does not name
    Description description;  // described already (a relation, from its relation cache entry), or not
};

// A dropped object, described while it still existed, and what it depends on. PostgreSQL reports it to
// sql_drop when the statement named it (nothing else it depends on went with it) or when it was reached
// through a normal dependency on an object that went too; not when it went only as part of another
// (internal, automatic, partition and extension dependencies).
struct Dependency {
    ObjectAddress on;
    bool normal;
};
struct Dropped {
    ObjectAddress address;
    char* type;
    char* schema;
    char* identity;
    Dependency* dependencies;
    int dependency_count;
    Oid owned_index;     // a key constraint's index, which goes as part of it
    bool internal_part;  // always_internal_part(): never reported, kept for a rollback test's collection
};

struct Frame {
    int level;
    int command_tag;
    const Node* stmt;
    char* statement;
    MemoryContext memory;  // the strings and arrays below; a child of TopMemoryContext, deleted with the frame
    Named* named;
    int named_count;
    int named_capacity;
    Dropped* dropped;
    int dropped_count;
    int dropped_capacity;
    int dropped_seen;  // with those not kept here (always_internal_part)
};

struct Level {
    Node* stmt;
    int frame;      // the capture this statement's objects belong to; -1: none
    Oid principal;  // the catalog of the object this statement creates; InvalidOid: it alters one
    ObjectAddress created;
    Description created_description;
    int created_position;  // the capture's row count when it was created: PostgreSQL collects a created
                           // object before the subcommands that follow (CREATE TABLE's indexes)
    ObjectAddress altered;
    Oid altered_catalog;  // the catalog of the object a RENAME returns, when it reports others as altered first
    Oid subject;  // ALTER TABLE: the relation, once an event shows it is locked (InvalidOid: not yet)
    Oid subject_lookup;  // ALTER TABLE: what its name resolves to, looked up at its first event
    Description subject_description;
    // ALTER TABLE: PostgreSQL ends the command it collects each time a subcommand runs as a statement of its
    // own (CREATE SEQUENCE for a serial column...), if it collected something, and begins another
    // (ProcessUtilityForAlterTable). Something happened since the last end; and whether one ended.
    bool altered_since;
    bool ended_before;
    Oid rewritten;               // the table whose rewrite was just seen: its next report as altered is the rewrite's
    ObjectAddress last_altered;  // internal or not: the table of a file swap, just before its new heap
    Oid internal[4];             // the last relations created internally (a rewrite's new heap, its TOAST table)
    int internal_next;
};

bool created_internally(const Level& level, Oid relation) {
    for (const Oid created : level.internal) {
        if (created == relation) return true;
    }
    return false;
}

// Backend-local stacks in TopMemoryContext, grown on demand; plain data.
Level* g_levels = nullptr;
int g_level_count = 0;
int g_level_capacity = 0;
Frame* g_frames = nullptr;
int g_frame_count = 0;
int g_frame_capacity = 0;
// Set by begin() for the statement the hook enters next.
const Node* g_pending_stmt = nullptr;
int g_pending_tag = 0;
char* g_pending_statement = nullptr;

template <typename T>
void reserve(T** items, int* capacity, int needed, MemoryContext memory) {
    if (needed <= *capacity) return;
    const int grown = Max(needed, Max(8, *capacity * 2));
    *items = static_cast<T*>(*items == nullptr ? MemoryContextAlloc(memory, sizeof(T) * grown)
                                               : repalloc(*items, sizeof(T) * grown));
    *capacity = grown;
}

// The catalog of the object a statement that creates one returns (its Define function's address);
// InvalidOid for statements that alter or drop.
Oid principal_catalog(const Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_CreateStmt:
        case T_CreateForeignTableStmt:
        case T_IndexStmt:
        case T_ViewStmt:
        case T_CreateSeqStmt:
        case T_CreateTableAsStmt:
            return RelationRelationId;
        case T_CreateFunctionStmt:
            return ProcedureRelationId;
        case T_CompositeTypeStmt:
        case T_CreateEnumStmt:
        case T_CreateRangeStmt:
        case T_CreateDomainStmt:
            return TypeRelationId;
        case T_CreateSchemaStmt:
            return NamespaceRelationId;
        case T_CreateTrigStmt:
            return TriggerRelationId;
        case T_RuleStmt:
            return RewriteRelationId;
        case T_CreatePolicyStmt:
            return PolicyRelationId;
        case T_CreateCastStmt:
            return CastRelationId;
        case T_CreateConversionStmt:
            return ConversionRelationId;
        case T_CreateOpClassStmt:
            return OperatorClassRelationId;
        case T_CreateOpFamilyStmt:
            return OperatorFamilyRelationId;
        case T_CreateStatsStmt:
            return StatisticExtRelationId;
        case T_CreatePublicationStmt:
            return PublicationRelationId;
        case T_CreateFdwStmt:
            return ForeignDataWrapperRelationId;
        case T_CreateForeignServerStmt:
            return ForeignServerRelationId;
        case T_CreateUserMappingStmt:
            return UserMappingRelationId;
        case T_CreateTransformStmt:
            return TransformRelationId;
        case T_CreatePLangStmt:
            return LanguageRelationId;
        case T_CreateAmStmt:
            return AccessMethodRelationId;
        case T_CreateExtensionStmt:
            return ExtensionRelationId;
        case T_DefineStmt:
            switch (castNode(DefineStmt, const_cast<Node*>(stmt))->kind) {
                case OBJECT_AGGREGATE:
                    return ProcedureRelationId;
                case OBJECT_OPERATOR:
                    return OperatorRelationId;
                case OBJECT_TYPE:
                    return TypeRelationId;
                case OBJECT_TSPARSER:
                    return TSParserRelationId;
                case OBJECT_TSDICTIONARY:
                    return TSDictionaryRelationId;
                case OBJECT_TSTEMPLATE:
                    return TSTemplateRelationId;
                case OBJECT_TSCONFIGURATION:
                    return TSConfigRelationId;
                case OBJECT_COLLATION:
                    return CollationRelationId;
                default:
                    return InvalidOid;
            }
        default:
            return InvalidOid;
    }
}

// RENAME CONSTRAINT renames the constraint's index first, RENAME of a composite type its relation: the
// catalog of the object the statement returns, for such renames.
Oid renamed_catalog(const Node* stmt) {
    if (!IsA(stmt, RenameStmt)) return InvalidOid;
    switch (castNode(RenameStmt, const_cast<Node*>(stmt))->renameType) {
        case OBJECT_TABCONSTRAINT:
        case OBJECT_DOMCONSTRAINT:
            return ConstraintRelationId;
        case OBJECT_TYPE:
        case OBJECT_DOMAIN:
            return TypeRelationId;
        default:
            return InvalidOid;
    }
}

const char* grant_object_type(ObjectType type, bool plural) {
    switch (type) {
        case OBJECT_COLUMN:
            return plural ? "COLUMNS" : "COLUMN";
        case OBJECT_TABLE:
            return plural ? "TABLES" : "TABLE";
        case OBJECT_SEQUENCE:
            return plural ? "SEQUENCES" : "SEQUENCE";
        case OBJECT_DATABASE:
            return plural ? "DATABASES" : "DATABASE";
        case OBJECT_DOMAIN:
            return plural ? "DOMAINS" : "DOMAIN";
        case OBJECT_FDW:
            return plural ? "FOREIGN DATA WRAPPERS" : "FOREIGN DATA WRAPPER";
        case OBJECT_FOREIGN_SERVER:
            return plural ? "FOREIGN SERVERS" : "FOREIGN SERVER";
        case OBJECT_FUNCTION:
            return plural ? "FUNCTIONS" : "FUNCTION";
        case OBJECT_LANGUAGE:
            return plural ? "LANGUAGES" : "LANGUAGE";
        case OBJECT_LARGEOBJECT:
            return plural ? "LARGE OBJECTS" : "LARGE OBJECT";
        case OBJECT_SCHEMA:
            return plural ? "SCHEMAS" : "SCHEMA";
        case OBJECT_PARAMETER_ACL:
            return "PARAMETER";
        case OBJECT_PROCEDURE:
            return plural ? "PROCEDURES" : "PROCEDURE";
        case OBJECT_ROUTINE:
            return plural ? "ROUTINES" : "ROUTINE";
        case OBJECT_TABLESPACE:
            return plural ? "TABLESPACES" : "TABLESPACE";
        case OBJECT_TYPE:
            return plural ? "TYPES" : "TYPE";
        default:
            return "???";
    }
}

// Appends a row to the capture; at `position` instead when given (0 to named_count).
void add_named(Frame* frame, const char* event, ObjectAddress address, const char* grant_type,
               Description description = {}, int position = -1) {
    reserve(&frame->named, &frame->named_capacity, frame->named_count + 1, frame->memory);
    if (position < 0 || position > frame->named_count) position = frame->named_count;
    memmove(&frame->named[position + 1], &frame->named[position], sizeof(Named) * (frame->named_count - position));
    frame->named[position] = {event, address, grant_type, description};
    ++frame->named_count;
}

// The type getObjectTypeDescription() gives a relation of this kind; null for a kind it does not name.
const char* relation_type(char relkind) {
    switch (relkind) {
        case RELKIND_RELATION:
        case RELKIND_PARTITIONED_TABLE:
            return "table";
        case RELKIND_INDEX:
        case RELKIND_PARTITIONED_INDEX:
            return "index";
        case RELKIND_SEQUENCE:
            return "sequence";
        case RELKIND_TOASTVALUE:
            return "toast table";
        case RELKIND_VIEW:
            return "view";
        case RELKIND_MATVIEW:
            return "materialized view";
        case RELKIND_COMPOSITE_TYPE:
            return "composite type";
        case RELKIND_FOREIGN_TABLE:
            return "foreign table";
        default:
            return nullptr;
    }
}

// A relation described from its relation cache entry, as getObjectIdentity() and the event triggers'
// schema_name name it, into `memory`. Right after the object access hook reports a relation created or
// altered, the entry is there and current, where its catalog rows may not be visible yet (created) or
// are no longer cached (altered: every later lookup would read them again). Not described (identity
// null) when the entry is not at hand.
Description describe_relation(Oid relid, MemoryContext memory) {
    Description description{nullptr, nullptr, nullptr};
    Relation rel = RelationIdGetRelation(relid);
    if (rel == nullptr) return description;
    const char* type = relation_type(rel->rd_rel->relkind);
    if (type != nullptr) {
        MemoryContext previous = MemoryContextSwitchTo(memory);
        char* schema = get_namespace_name_or_temp(rel->rd_rel->relnamespace);
        if (schema != nullptr) {
            description = {type, schema, quote_qualified_identifier(schema, NameStr(rel->rd_rel->relname))};
        }
        MemoryContextSwitchTo(previous);
    }
    RelationClose(rel);
    return description;
}

void add_grant_object(const ObjectAddress& address, void* arg) {
    add_named(static_cast<Frame*>(arg), "ddl_command_end", address, nullptr);
}

// The object a statement names itself, for those the object access hook reports nothing of (or nothing
// distinctive): InvalidOid class when none.
ObjectAddress named_by_statement(Node* stmt) {
    ObjectAddress none{InvalidOid, InvalidOid, 0};
    switch (nodeTag(stmt)) {
        case T_AlterTableStmt: {
            const Oid rel = RangeVarGetRelid(castNode(AlterTableStmt, stmt)->relation, NoLock, true);
            return OidIsValid(rel) ? ObjectAddress{RelationRelationId, rel, 0} : none;
        }
        case T_RefreshMatViewStmt: {
            const Oid rel = RangeVarGetRelid(castNode(RefreshMatViewStmt, stmt)->relation, NoLock, true);
            return OidIsValid(rel) ? ObjectAddress{RelationRelationId, rel, 0} : none;
        }
        case T_ViewStmt: {  // CREATE OR REPLACE VIEW of an existing view creates nothing
            const Oid rel = RangeVarGetRelid(castNode(ViewStmt, stmt)->view, NoLock, true);
            return OidIsValid(rel) ? ObjectAddress{RelationRelationId, rel, 0} : none;
        }
        case T_CommentStmt:
        case T_SecLabelStmt: {
            const bool comment = IsA(stmt, CommentStmt);
            const ObjectType type =
                comment ? castNode(CommentStmt, stmt)->objtype : castNode(SecLabelStmt, stmt)->objtype;
            Node* object = comment ? castNode(CommentStmt, stmt)->object : castNode(SecLabelStmt, stmt)->object;
            Relation rel = nullptr;
            // The statement holds a stronger lock on the object already.
            const ObjectAddress address = get_object_address(type, object, &rel, AccessShareLock, true);
            if (rel != nullptr) relation_close(rel, NoLock);
            return OidIsValid(address.classId) && OidIsValid(address.objectId) ? address : none;
        }
        case T_AlterDomainStmt: {
            const Oid domain =
                LookupTypeNameOid(nullptr, makeTypeNameFromNameList(castNode(AlterDomainStmt, stmt)->typeName), true);
            return OidIsValid(domain) ? ObjectAddress{TypeRelationId, domain, 0} : none;
        }
        case T_AlterTSConfigurationStmt: {
            const Oid config = get_ts_config_oid(castNode(AlterTSConfigurationStmt, stmt)->cfgname, true);
            return OidIsValid(config) ? ObjectAddress{TSConfigRelationId, config, 0} : none;
        }
        case T_AlterOpFamilyStmt: {
            auto* alter = castNode(AlterOpFamilyStmt, stmt);
            const Oid family = get_opfamily_oid(get_index_am_oid(alter->amname, false), alter->opfamilyname, true);
            return OidIsValid(family) ? ObjectAddress{OperatorFamilyRelationId, family, 0} : none;
        }
        case T_AlterExtensionContentsStmt: {
            const Oid extension = get_extension_oid(castNode(AlterExtensionContentsStmt, stmt)->extname, true);
            return OidIsValid(extension) ? ObjectAddress{ExtensionRelationId, extension, 0} : none;
        }
        default:
            return none;
    }
}

// The relation ALTER TABLE altered, as its command names it.
void name_altered_table(const Level& level, Frame* frame) {
    if (level.subject_description.identity != nullptr) {
        add_named(frame, "ddl_command_end", {RelationRelationId, level.subject, 0}, nullptr, level.subject_description);
        return;
    }
    const ObjectAddress address = named_by_statement(level.stmt);
    if (OidIsValid(address.classId)) add_named(frame, "ddl_command_end", address, nullptr);
}

// What PostgreSQL collects for the (sub)command of `level`, once it completed.
void name_objects(const Level& level, Frame* frame) {
    Node* stmt = level.stmt;
    switch (nodeTag(stmt)) {
        case T_DropStmt:
        case T_DropOwnedStmt:
            return;  // its objects are the dropped ones
        case T_GrantStmt: {
            if (grant_names_objects(stmt)) {
                each_grant_object(stmt, add_grant_object, frame);
            } else {
                add_named(frame, "ddl_command_end", {InvalidOid, InvalidOid, 0},
                          grant_object_type(castNode(GrantStmt, stmt)->objtype, false));
            }
            return;
        }
        case T_AlterDefaultPrivilegesStmt:
            add_named(frame, "ddl_command_end", {InvalidOid, InvalidOid, 0},
                      grant_object_type(castNode(AlterDefaultPrivilegesStmt, stmt)->action->objtype, true));
            return;
        case T_AlterTableStmt:
            if (level.ended_before && !level.altered_since) return;
            name_altered_table(level, frame);
            return;
        case T_AlterDomainStmt:
        case T_RefreshMatViewStmt:
        case T_AlterTSConfigurationStmt:
        case T_AlterOpFamilyStmt:
        case T_AlterExtensionContentsStmt:
        case T_CommentStmt:
        case T_SecLabelStmt: {
            const ObjectAddress address = named_by_statement(stmt);
            if (OidIsValid(address.classId)) add_named(frame, "ddl_command_end", address, nullptr);
            return;
        }
        case T_AlterPublicationStmt: {
            // The tables and schemas it added were named as they were added; else the publication.
            bool added = false;
            for (int i = 0; i < frame->named_count; ++i) {
                const Oid named = frame->named[i].address.classId;
                if (named == PublicationRelRelationId || named == PublicationNamespaceRelationId) added = true;
            }
            if (!added && OidIsValid(level.altered.classId))
                add_named(frame, "ddl_command_end", level.altered, nullptr);
            return;
        }
        default:
            break;
    }
    if (IsA(stmt, ViewStmt) && !OidIsValid(level.created.classId)) {
        // CREATE OR REPLACE VIEW of an existing view: the view, and the ALTER TABLE that replaced its
        // options (and added its new columns) is a command of its own (DefineVirtualRelation).
        const ObjectAddress view = named_by_statement(stmt);
        if (OidIsValid(view.classId)) {
            add_named(frame, "ddl_command_end", view, nullptr);
            add_named(frame, "ddl_command_end", view, nullptr);
        }
        return;
    }
    if (OidIsValid(level.created.classId)) {
        add_named(frame, "ddl_command_end", level.created, nullptr, level.created_description, level.created_position);
    } else if (OidIsValid(level.altered.classId)) {
        add_named(frame, "ddl_command_end", level.altered, nullptr);
    } else {
        const ObjectAddress address = named_by_statement(stmt);
        if (OidIsValid(address.classId)) add_named(frame, "ddl_command_end", address, nullptr);
    }
}

// Whether PostgreSQL collects the dropped object for sql_drop (EventTriggerSQLDropAddObject).
bool collects_dropped(const ObjectAddress& address) {
    if (!pg::event_trigger_supports_object(address)) return false;
    // Temporary schemas of other sessions are not reported.
    return !(address.classId == NamespaceRelationId && isAnyTempNamespace(address.objectId) &&
             !isTempNamespace(address.objectId));
}

const char* schema_of(const ObjectAddress& address) {
    Oid schema = InvalidOid;
    if (address.classId == RelationRelationId) {
        schema = get_rel_namespace(address.objectId);
    } else if (address.objectSubId == 0 && is_objectclass_supported(address.classId) &&
               get_object_attnum_namespace(address.classId) != InvalidAttrNumber) {
        schema = get_object_namespace(&address);
    }
    return OidIsValid(schema) ? get_namespace_name_or_temp(schema) : nullptr;
}

// What the dropped object depends on (pg_depend, before the drop deletes its rows).
void read_dependencies(Dropped* dropped, MemoryContext memory) {
    Relation depend = table_open(DependRelationId, AccessShareLock);
    ScanKeyData keys[3];
    ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(dropped->address.classId));
    ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(dropped->address.objectId));
    ScanKeyInit(&keys[2], Anum_pg_depend_objsubid, BTEqualStrategyNumber, F_INT4EQ,
                Int32GetDatum(dropped->address.objectSubId));
    SysScanDesc scan = systable_beginscan(depend, DependDependerIndexId, true, nullptr, 3, keys);
    int capacity = 0;
    HeapTuple tuple = nullptr;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
        const auto* dep = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
        reserve(&dropped->dependencies, &capacity, dropped->dependency_count + 1, memory);
        dropped->dependencies[dropped->dependency_count++] = {{dep->refclassid, dep->refobjid, dep->refobjsubid},
                                                              dep->deptype == DEPENDENCY_NORMAL};
    }
    systable_endscan(scan);
    table_close(depend, AccessShareLock);
}

// The schema sql_drop reports for a dropped object: a column default's, a trigger's and a policy's are
// their table's (EventTriggerSQLDropAddObject).
const char* dropped_schema_of(const ObjectAddress& address) {
    Oid table = InvalidOid;
    if (address.classId == AttrDefaultRelationId) {
        table = GetAttrDefaultColumnAddress(address.objectId).objectId;
    } else if (address.classId == TriggerRelationId || address.classId == PolicyRelationId) {
        const bool trigger = address.classId == TriggerRelationId;
        Relation catalog = table_open(address.classId, AccessShareLock);
        ScanKeyData key;
        ScanKeyInit(&key, trigger ? Anum_pg_trigger_oid : Anum_pg_policy_oid, BTEqualStrategyNumber, F_OIDEQ,
                    ObjectIdGetDatum(address.objectId));
        SysScanDesc scan =
            systable_beginscan(catalog, trigger ? TriggerOidIndexId : PolicyOidIndexId, true, nullptr, 1, &key);
        const HeapTuple tuple = systable_getnext(scan);
        if (HeapTupleIsValid(tuple)) {
            table = trigger ? reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple))->tgrelid
                            : reinterpret_cast<Form_pg_policy>(GETSTRUCT(tuple))->polrelid;
        }
        systable_endscan(scan);
        table_close(catalog, AccessShareLock);
    } else {
        return schema_of(address);
    }
    return OidIsValid(table) ? schema_of({RelationRelationId, table, 0}) : nullptr;
}

// Objects that only ever go as an internal part of another that goes with them, and that PostgreSQL
// therefore never reports: TOAST tables and their indexes, a relation's row type, implicit array types,
// multirange types. Told from cached catalog rows, without reading their dependencies.
bool always_internal_part(const ObjectAddress& address) {
    if (address.classId == RelationRelationId) {
        return address.objectSubId == 0 && get_rel_namespace(address.objectId) == PG_TOAST_NAMESPACE;
    }
    if (address.classId != TypeRelationId) return false;
    HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(address.objectId));
    if (!HeapTupleIsValid(tuple)) return false;
    const auto* type = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple));
    const bool part = (OidIsValid(type->typrelid) && get_rel_relkind(type->typrelid) != RELKIND_COMPOSITE_TYPE) ||
                      (type->typcategory == TYPCATEGORY_ARRAY && OidIsValid(type->typelem)) ||
                      type->typtype == TYPTYPE_MULTIRANGE;
    ReleaseSysCache(tuple);
    return part;
}

void add_dependency(Dropped* dropped, int* capacity, MemoryContext memory, ObjectAddress on, bool normal) {
    reserve(&dropped->dependencies, capacity, dropped->dependency_count + 1, memory);
    dropped->dependencies[dropped->dependency_count++] = {on, normal};
}

// What an index without expressions or predicate, or a primary key or unique constraint, depends on,
// told from its cached catalog row: automatic dependencies on the columns it covers (and a constraint's
// index is part of it: `owned_index`). Other indexes and constraints can depend on more (functions, types,
// other tables): false, read pg_depend.
bool part_of_table(Dropped* dropped, MemoryContext memory) {
    int capacity = 0;
    if (dropped->address.classId == RelationRelationId && dropped->address.objectSubId == 0) {
        // A table, view, materialized view or foreign table is part of nothing else, unless it is a partition
        // (or an extension's, which only DROP EXTENSION drops): what it depends on can only make it reached
        // through a normal dependency, and it is reported either way.
        const char kind = get_rel_relkind(dropped->address.objectId);
        if ((kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE || kind == RELKIND_VIEW ||
             kind == RELKIND_MATVIEW || kind == RELKIND_FOREIGN_TABLE) &&
            !get_rel_relispartition(dropped->address.objectId)) {
            return true;
        }
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(dropped->address.objectId));
        if (!HeapTupleIsValid(tuple)) return false;
        const auto* index = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
        bool plain = heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr) &&
                     heap_attisnull(tuple, Anum_pg_index_indpred, nullptr);
        for (int i = 0; plain && i < index->indnatts; ++i) {
            if (index->indkey.values[i] == 0) plain = false;
            add_dependency(dropped, &capacity, memory, {RelationRelationId, index->indrelid, index->indkey.values[i]},
                           false);
        }
        ReleaseSysCache(tuple);
        return plain;
    }
    if (dropped->address.classId != ConstraintRelationId) return false;
    HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(dropped->address.objectId));
    if (!HeapTupleIsValid(tuple)) return false;
    const auto* constraint = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple));
    bool key = (constraint->contype == CONSTRAINT_PRIMARY || constraint->contype == CONSTRAINT_UNIQUE) &&
               OidIsValid(constraint->conrelid);
    if (key) {
        bool isnull = true;
        const Datum columns = SysCacheGetAttr(CONSTROID, tuple, Anum_pg_constraint_conkey, &isnull);
        key = !isnull;
        if (key) {
            ArrayType* array = DatumGetArrayTypeP(columns);
            const auto* attnums = reinterpret_cast<const int16*>(ARR_DATA_PTR(array));
            for (int i = 0; i < ARR_DIMS(array)[0]; ++i) {
                add_dependency(dropped, &capacity, memory, {RelationRelationId, constraint->conrelid, attnums[i]},
                               false);
            }
            dropped->owned_index = constraint->conindid;
        }
    }
    ReleaseSysCache(tuple);
    return key;
}

void note_dropped(Frame* frame, const ObjectAddress& address) {
    if (!collects_dropped(address)) return;
    ++frame->dropped_seen;
    // Described only for a rollback test's collection, which counts every dropped object.
    const bool internal = always_internal_part(address);
    if (internal && !touched::collecting()) return;
    MemoryContext previous = MemoryContextSwitchTo(frame->memory);
    reserve(&frame->dropped, &frame->dropped_capacity, frame->dropped_count + 1, frame->memory);
    Dropped* dropped = &frame->dropped[frame->dropped_count++];
    *dropped = {address, nullptr, nullptr, nullptr, nullptr, 0, InvalidOid, internal};
    dropped->type = getObjectTypeDescription(&address, true);
    dropped->identity = getObjectIdentity(&address, true);
    dropped->schema = const_cast<char*>(dropped_schema_of(address));
    if (internal) {
        MemoryContextSwitchTo(previous);
        return;
    }
    const bool extension_drop = IsA(frame->stmt, DropStmt) &&
                                castNode(DropStmt, const_cast<Node*>(frame->stmt))->removeType == OBJECT_EXTENSION;
    if (extension_drop || !part_of_table(dropped, frame->memory)) {
        dropped->dependency_count = 0;  // what it had found is read again, whole
        read_dependencies(dropped, frame->memory);
    }
    MemoryContextSwitchTo(previous);
}

bool same_object(const ObjectAddress& whole, const ObjectAddress& part) {
    return whole.classId == part.classId && whole.objectId == part.objectId &&
           (whole.objectSubId == 0 || whole.objectSubId == part.objectSubId);
}

bool dropped_in(const Frame& frame, const ObjectAddress& object) {
    for (int d = 0; d < frame.dropped_count; ++d) {
        if (same_object(frame.dropped[d].address, object)) return true;
    }
    return false;
}

// Whether PostgreSQL keeps the dropped object for sql_drop: named by the statement, or reached through
// a normal dependency.
bool reported(const Frame& frame, const Dropped& dropped) {
    if (dropped.internal_part) return false;
    if (dropped.address.classId == RelationRelationId) {
        for (int d = 0; d < frame.dropped_count; ++d) {
            if (frame.dropped[d].owned_index == dropped.address.objectId) return false;
        }
    }
    bool reached = false;
    for (int i = 0; i < dropped.dependency_count; ++i) {
        const Dependency& dependency = dropped.dependencies[i];
        if (!dropped_in(frame, dependency.on)) continue;
        if (dependency.normal) return true;
        reached = true;
    }
    return !reached;
}

// Forgets levels from `level` up, and the captures they began.
void pop_to(int level) {
    while (g_frame_count > 0 && g_frames[g_frame_count - 1].level >= level) {
        MemoryContextDelete(g_frames[g_frame_count - 1].memory);
        --g_frame_count;
    }
    if (g_level_count > level) g_level_count = level;
}

// The rows of the capture of `frame`, described now, into `rows` (room for every named and dropped object
// and two more), in the order the event triggers would have written them: table_rewrite, sql_drop,
// ddl_command_end. Returns how many.
int describe(Frame* frame, CapturedRow* rows) {
    int count = 0;
    for (int i = 0; i < frame->named_count; ++i) {
        const Named& n = frame->named[i];
        if (strcmp(n.event, "table_rewrite") != 0) continue;
        rows[count++] = {"table_rewrite", getObjectTypeDescription(&n.address, true), schema_of(n.address),
                         getObjectIdentity(&n.address, true), true};
    }
    const int before_drops = count;
    // Newest first, as pg_event_trigger_dropped_objects() lists them: the named objects, then what went with them.
    for (int d = frame->dropped_count - 1; d >= 0; --d) {
        const Dropped& dropped = frame->dropped[d];
        if (!reported(*frame, dropped)) continue;
        rows[count++] = {"sql_drop", dropped.type, dropped.schema, dropped.identity, false};
    }
    // The sql_drop event writes a row for the command when it keeps none of the objects it collected.
    if (frame->dropped_seen > 0 && count == before_drops)
        rows[count++] = {"sql_drop", nullptr, nullptr, nullptr, false};
    // A DROP's objects are its sql_drop rows: its ddl_command_end writes none.
    if (IsA(frame->stmt, DropStmt) || IsA(frame->stmt, DropOwnedStmt)) return count;
    const int before_end = count;
    for (int i = 0; i < frame->named_count; ++i) {
        const Named& n = frame->named[i];
        if (strcmp(n.event, "ddl_command_end") != 0) continue;
        if (!OidIsValid(n.address.classId)) {
            rows[count++] = {"ddl_command_end", n.grant_type, nullptr, nullptr, false};
            continue;
        }
        if (dropped_in(*frame, n.address)) continue;  // dropped later in the same statement
        if (n.description.identity != nullptr) {
            rows[count++] = {"ddl_command_end", n.description.type, n.description.schema, n.description.identity,
                             false};
            continue;
        }
        const char* identity = getObjectIdentity(&n.address, true);
        if (identity == nullptr) continue;  // gone by now
        rows[count++] = {"ddl_command_end", getObjectTypeDescription(&n.address, true), schema_of(n.address), identity,
                         false};
    }
    if (count == before_end) rows[count++] = {"ddl_command_end", nullptr, nullptr, nullptr, false};
    return count;
}

void write(Frame* frame) {
    struct Described {
        CapturedRow* rows;
        int count;
    };
    const Described described = pg::call([frame] {
        MemoryContext previous = MemoryContextSwitchTo(frame->memory);
        auto* rows =
            static_cast<CapturedRow*>(palloc(sizeof(CapturedRow) * (frame->named_count + frame->dropped_count + 2)));
        const int count = describe(frame, rows);
        MemoryContextSwitchTo(previous);
        return Described{rows, count};
    });
    if (described.count > 0) write_captured(frame->command_tag, frame->statement, described.rows, described.count);
}

// What a rollback test collects of the captured statement (touched_objects.hpp): every object its commands
// named, every object it dropped. Into `objects` (room for all); returns how many.
int touched_objects(Frame* frame, touched::Object* objects) {
    int count = 0;
    for (int i = 0; i < frame->named_count; ++i) {
        const Named& n = frame->named[i];
        if (strcmp(n.event, "ddl_command_end") != 0) continue;
        if (!OidIsValid(n.address.classId)) {
            objects[count++] = {InvalidOid, InvalidOid, n.grant_type, nullptr, nullptr};
            continue;
        }
        if (dropped_in(*frame, n.address)) continue;
        Description d = n.description;
        if (d.identity == nullptr) {
            d = {getObjectTypeDescription(&n.address, true), schema_of(n.address), getObjectIdentity(&n.address, true)};
            if (d.identity == nullptr) continue;
        }
        objects[count++] = {n.address.classId, n.address.objectId, d.type, d.schema, d.identity};
    }
    for (int i = 0; i < frame->dropped_count; ++i) {
        const Dropped& dropped = frame->dropped[i];
        objects[count++] = {dropped.address.classId, dropped.address.objectId, dropped.type, dropped.schema,
                            dropped.identity};
    }
    return count;
}

// The (sub)command of `level` completed: what it did is named, and written when it began the capture.
void complete(void* arg) {
    const int level = *static_cast<int*>(arg);
    const Level current = g_levels[level];
    Frame* frame = &g_frames[current.frame];
    pg::call([&current, frame] { name_objects(current, frame); });
    if (frame->level != level) return;
    if (touched::collecting()) {
        struct Collected {
            touched::Object* objects;
            int count;
        };
        const Collected collected = pg::call([frame] {
            auto* objects = static_cast<touched::Object*>(MemoryContextAlloc(
                frame->memory, sizeof(touched::Object) * (frame->named_count + frame->dropped_count + 1)));
            return Collected{objects, touched_objects(frame, objects)};
        });
        touched::note_objects(frame->command_tag, frame->stmt, collected.objects, collected.count);
    }
    write(frame);
}

}  // namespace

void begin(const Node* stmt, int command_tag, const char* statement) {
    const char* text = statement;
    pg::call([stmt, command_tag, text] {
        if (g_pending_statement != nullptr) pfree(g_pending_statement);
        g_pending_statement = text != nullptr ? MemoryContextStrdup(TopMemoryContext, text) : nullptr;
        g_pending_stmt = stmt;
        g_pending_tag = command_tag;
    });
}

int enter(Node* stmt, int context) {
    const int parent = g_level_count - 1;
    reserve(&g_levels, &g_level_capacity, g_level_count + 1, TopMemoryContext);
    Level level{};
    level.stmt = stmt;
    level.frame = -1;
    const bool captured = g_pending_stmt != nullptr && g_pending_stmt == stmt;
    g_pending_stmt = nullptr;  // begin() is for the statement entered next: never for a later one
    if (captured) {
        reserve(&g_frames, &g_frame_capacity, g_frame_count + 1, TopMemoryContext);
        MemoryContext memory = AllocSetContextCreate(TopMemoryContext, "pgmig audit capture", ALLOCSET_SMALL_SIZES);
        char* statement = g_pending_statement != nullptr ? MemoryContextStrdup(memory, g_pending_statement) : nullptr;
        g_frames[g_frame_count] = {
            g_level_count, g_pending_tag, stmt, statement, memory, nullptr, 0, 0, nullptr, 0, 0, 0};
        level.frame = g_frame_count++;
        if (g_pending_statement != nullptr) pfree(g_pending_statement);
        g_pending_statement = nullptr;
    } else if (context == PROCESS_UTILITY_SUBCOMMAND && parent >= 0) {
        level.frame = g_levels[parent].frame;  // PostgreSQL collects a subcommand with its statement
        Level* outer = &g_levels[parent];
        if (level.frame >= 0 && IsA(outer->stmt, AlterTableStmt) && outer->altered_since) {
            name_altered_table(*outer, &g_frames[level.frame]);
            outer->altered_since = false;
            outer->ended_before = true;
        }
    }
    if (level.frame >= 0) {
        level.principal = principal_catalog(stmt);
        level.altered_catalog = renamed_catalog(stmt);
    }
    g_levels[g_level_count] = level;
    return g_level_count++;
}

void abandon(int level) { pop_to(level); }

bool hook_active() { return g_level_count > 0; }

void finish(void* arg) {
    const int level = *static_cast<int*>(arg);
    try {
        if (level < g_level_count && g_levels[level].frame >= 0) {
            int at = level;
            under_audit_failure(g_frames[g_levels[level].frame].command_tag, complete, &at);
        }
    } catch (...) {
        pop_to(level);
        throw;
    }
    pop_to(level);
}

void object_access(int access, unsigned int class_id, unsigned int object_id, int sub_id, void* arg) {
    if (g_frame_count == 0 || g_level_count == 0) return;
    Level* level = &g_levels[g_level_count - 1];
    if (level->frame < 0) return;
    const ObjectAddress address{class_id, object_id, sub_id};
    if (class_id == RelationRelationId && IsA(level->stmt, AlterTableStmt) && !OidIsValid(level->subject) &&
        access != OAT_DROP) {
        // The first event of ALTER TABLE on a relation comes with it locked: the relation it alters,
        // described while its cache entry is current.
        // Looked up once: an ALTER TABLE reports other relations too (its indexes, a rewrite's new heap).
        if (!OidIsValid(level->subject_lookup)) {
            level->subject_lookup = RangeVarGetRelid(castNode(AlterTableStmt, level->stmt)->relation, NoLock, true);
        }
        if (level->subject_lookup == object_id) {
            level->subject = object_id;
            level->subject_description = describe_relation(object_id, g_frames[level->frame].memory);
        }
    }
    switch (static_cast<ObjectAccessType>(access)) {
        case OAT_POST_CREATE: {
            const bool internal = arg != nullptr && static_cast<ObjectAccessPostCreate*>(arg)->is_internal;
            if (!internal && IsA(level->stmt, AlterTableStmt)) level->altered_since = true;
            if (internal) {
                if (class_id == RelationRelationId && sub_id == 0) {
                    level->internal[level->internal_next] = object_id;
                    level->internal_next = (level->internal_next + 1) % static_cast<int>(lengthof(level->internal));
                }
            } else if ((class_id == PublicationRelRelationId || class_id == PublicationNamespaceRelationId) &&
                       IsA(level->stmt, AlterPublicationStmt)) {
                // Each table or schema ALTER PUBLICATION adds is a command of its own (publicationcmds.c).
                add_named(&g_frames[level->frame], "ddl_command_end", address, nullptr);
            } else if (sub_id == 0 && class_id == level->principal && !OidIsValid(level->created.classId)) {
                level->created = address;
                level->created_position = g_frames[level->frame].named_count;
                if (class_id == RelationRelationId) {
                    level->created_description = describe_relation(object_id, g_frames[level->frame].memory);
                }
            }
            break;
        }
        case OAT_POST_ALTER: {
            const bool internal = arg != nullptr && static_cast<ObjectAccessPostAlter*>(arg)->is_internal;
            // ALTER TABLE swapping a table's files with the new heap it built: a rewrite of the table (its
            // TOAST table's swap with the new heap's follows, and is not one).
            if (IsA(level->stmt, AlterTableStmt) && class_id == RelationRelationId && sub_id == 0 &&
                level->last_altered.classId == RelationRelationId && level->last_altered.objectSubId == 0 &&
                created_internally(*level, object_id) && !created_internally(*level, level->last_altered.objectId) &&
                get_rel_relkind(level->last_altered.objectId) != RELKIND_TOASTVALUE) {
                add_named(&g_frames[level->frame], "table_rewrite", level->last_altered, nullptr);
                level->rewritten = level->last_altered.objectId;
            }
            // A subcommand of ALTER TABLE did something; not the report that ends a rewrite.
            if (!internal && IsA(level->stmt, AlterTableStmt)) {
                if (class_id == RelationRelationId && sub_id == 0 && object_id == level->rewritten) {
                    level->rewritten = InvalidOid;
                } else {
                    level->altered_since = true;
                }
            }
            level->last_altered = address;
            if (!internal && (!OidIsValid(level->altered.classId) ||
                              (class_id == level->altered_catalog && level->altered.classId != class_id))) {
                level->altered = address;
            }
            break;
        }
        case OAT_DROP: {
            const auto* drop = static_cast<ObjectAccessDrop*>(arg);
            if (drop != nullptr && (drop->dropflags & PERFORM_DELETION_INTERNAL) != 0) break;
            if (IsA(level->stmt, AlterTableStmt)) level->altered_since = true;
            note_dropped(&g_frames[level->frame], address);
            break;
        }
        default:
            break;
    }
}

}  // namespace pgmig::audit::capture
