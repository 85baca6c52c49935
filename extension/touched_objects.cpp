// The objects DDL touches while a Collection is alive (see touched_objects.hpp). What is read from
// PostgreSQL is copied into palloc'd plain structs under pg::call, then into the C++ collection.
extern "C" {
#include "postgres.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_extension.h"
#include "commands/event_trigger.h"
#include "executor/tuptable.h"
#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
}

#include <fmt/format.h>

#include <string>
#include <utility>

#include "audit_writer.hpp"
#include "pg/boundary.hpp"
#include "touched_objects.hpp"

namespace pgmig::touched {
namespace {

Collection* g_active = nullptr;

// One object an event reports, in the memory context of the event trigger call.
using Reported = Object;

struct ReportedList {
    Reported* items;
    int count;
    int capacity;
};

void push(ReportedList* list, Reported item) {
    if (list->count == list->capacity) {
        list->capacity = list->capacity == 0 ? 8 : list->capacity * 2;
        list->items = list->items == nullptr
                          ? static_cast<Reported*>(palloc(sizeof(Reported) * list->capacity))
                          : static_cast<Reported*>(repalloc(list->items, sizeof(Reported) * list->capacity));
    }
    list->items[list->count++] = item;
}

// The (1-based) result columns of pg_event_trigger_ddl_commands() and pg_event_trigger_dropped_objects()
// that hold classid, objid, object_type and object_identity.
struct Columns {
    int classid;
    int objid;
    int type;
    int schema;
    int identity;
};
constexpr Columns kDdlCommands = {1, 2, 5, 6, 7};
constexpr Columns kDroppedObjects = {1, 2, 7, 8, 10};

struct ReadArgs {
    const Columns* columns;
    ReportedList* list;
};

const char* text_at(TupleTableSlot* slot, int column) {
    bool null = false;
    const Datum value = slot_getattr(slot, column, &null);
    return null ? nullptr : TextDatumGetCString(value);
}

void read_row(TupleTableSlot* slot, void* arg) {
    const auto* args = static_cast<ReadArgs*>(arg);
    bool classid_null = false;
    bool objid_null = false;
    const Datum classid = slot_getattr(slot, args->columns->classid, &classid_null);
    const Datum objid = slot_getattr(slot, args->columns->objid, &objid_null);
    push(args->list, {classid_null || objid_null ? InvalidOid : DatumGetObjectId(classid),
                      objid_null ? InvalidOid : DatumGetObjectId(objid), text_at(slot, args->columns->type),
                      text_at(slot, args->columns->schema), text_at(slot, args->columns->identity)});
}

void read_grant_object(const ObjectAddress& address, void* arg) {
    push(static_cast<ReportedList*>(arg), {address.classId, address.objectId,
                                           getObjectTypeDescription(&address, true), nullptr,
                                           getObjectIdentity(&address, true)});
}

std::string key_of(const Reported& r) {
    return fmt::format("{} {}", r.type != nullptr ? r.type : "?", r.identity != nullptr ? r.identity : "?");
}

}  // namespace

// A collection started while another is alive (migrate_test called from a script migrate_test runs) gets the
// events from then on; the outer one no longer sees them all, so it cannot decide.
Collection::Collection() : outer_(g_active) {
    if (outer_ != nullptr) outer_->give_up("objects were collected for a rollback test inside this change");
    g_active = this;
}

Collection::~Collection() { g_active = outer_; }

void Collection::add(Address address, std::string key) {
    addresses_.insert(address);
    if (!key.empty()) keys_.insert(std::move(key));
}

void Collection::give_up(const std::string& why) {
    if (underivable_.empty()) underivable_ = why;
}

OidArrays oid_arrays(const std::set<Address>& addresses) {
    OidArrays out{"{", "{"};
    for (const Address& a : addresses) {
        const char* comma = out.classids.size() > 1 ? "," : "";
        out.classids += comma + std::to_string(a.classid);
        out.objids += comma + std::to_string(a.objid);
    }
    out.classids += "}";
    out.objids += "}";
    return out;
}

bool collecting() { return g_active != nullptr; }

void note_event(EventTriggerData* trig) {
    if (g_active == nullptr) return;
    const bool dropped = strcmp(trig->event, "sql_drop") == 0;
    if (!dropped && strcmp(trig->event, "ddl_command_end") != 0) return;
    Node* parsetree = trig->parsetree;
    const ReportedList list = pg::call([dropped, parsetree] {
        ReportedList out{nullptr, 0, 0};
        ReadArgs args{dropped ? &kDroppedObjects : &kDdlCommands, &out};
        audit::each_event_row(dropped ? F_PG_EVENT_TRIGGER_DROPPED_OBJECTS : F_PG_EVENT_TRIGGER_DDL_COMMANDS,
                              read_row, &args);
        // GRANT and REVOKE are reported without their objects: read them from the statement.
        if (!dropped && audit::grant_names_objects(parsetree)) {
            audit::each_grant_object(parsetree, read_grant_object, &out);
        }
        return out;
    });
    note_objects(static_cast<int>(trig->tag), parsetree, list.items, list.count);
    if (list.items != nullptr) pfree(list.items);
}

void note_objects(int command_tag, const Node* stmt, const Object* objects, int count) {
    if (g_active == nullptr) return;
    const char* tag = GetCommandTagName(static_cast<CommandTag>(command_tag));
    for (int i = 0; i < count; ++i) {
        const Reported& r = objects[i];
        if (r.classid == InvalidOid) {
            if (!audit::grant_names_objects(stmt)) {
                g_active->give_up(fmt::format("{} names no object that pgmig can resolve", tag));
            }
            continue;
        }
        if (r.classid == ExtensionRelationId) {
            g_active->give_up(fmt::format("{} changes which objects belong to an extension", tag));
        }
        // A TOAST table is named after its table's OID, which differs from run to run: not a key.
        const bool toast = r.schema != nullptr && strcmp(r.schema, "pg_toast") == 0;
        g_active->add({r.classid, r.objid}, toast ? std::string() : key_of(r));
    }
}

void note_unseen(const char* command_tag) {
    if (g_active == nullptr) return;
    g_active->give_up(fmt::format("{} is DDL that no event trigger of pgmig reports", command_tag));
}

}  // namespace pgmig::touched
