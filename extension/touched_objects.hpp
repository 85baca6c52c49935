// The objects DDL touches in this backend while a Collection is alive: what migrate_test() compares
// instead of the whole schema, and what the snapshot after migrate_apply() and migrate_rollback()
// describes again (pgmig.snapshot_scope() adds the objects that depend on them). Filled by pgmig's
// event trigger function (ddl_command_end, sql_drop) and by the utility hook, which sees the DDL no
// event trigger reports: after such DDL the collection can no longer say what changed.
#pragma once

#include <compare>
#include <set>
#include <string>
#include <vector>

struct EventTriggerData;  // commands/event_trigger.h
struct Node;              // nodes/nodes.h

namespace pgmig::touched {

struct Address {
    unsigned int classid;
    unsigned int objid;
    auto operator<=>(const Address&) const = default;
};

// The innermost alive one collects.
class Collection {
  public:
    Collection();
    ~Collection();
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;

    // Every object reported so far, without repeats.
    const std::set<Address>& addresses() const { return addresses_; }
    // "<type> <identity>" of every object reported so far (but TOAST tables, named after OIDs): the same
    // DDL run twice reports the same keys, though the objects it creates get new OIDs.
    const std::set<std::string>& keys() const { return keys_; }
    // Empty while the addresses account for every change DDL made; else why they do not (the first reason).
    const std::string& underivable() const { return underivable_; }

    void add(Address address, std::string key);  // key "": an address only
    void give_up(const std::string& why);

  private:
    Collection* outer_;
    std::set<Address> addresses_;
    std::set<std::string> keys_;
    std::string underivable_;
};

// The addresses as two SQL array literals, '{classid,...}' and '{objid,...}', in the same order (the
// arguments of pgmig.snapshot_scope() and pgmig.expect_changes()).
struct OidArrays {
    std::string classids;
    std::string objids;
};
OidArrays oid_arrays(const std::set<Address>& addresses);

bool collecting();
// From pgmig.audit_event() at ddl_command_end and sql_drop, while collecting.
void note_event(EventTriggerData* trig);
// From the utility hook, for DDL that pgmig's event triggers will not report (audit_unseen.cpp).
void note_unseen(const char* command_tag);

// One object a command reported, as pg_event_trigger_ddl_commands() and pg_event_trigger_dropped_objects()
// give it; classid 0: the command names no object (GRANT on functions, ALTER DEFAULT PRIVILEGES).
struct Object {
    unsigned int classid;
    unsigned int objid;
    const char* type;      // may be null
    const char* schema;    // may be null
    const char* identity;  // may be null
};
// The objects of a statement captured by pgmig's hooks (audit_capture.cpp): what note_event() reads from
// the triggers' functions, every dropped object included.
void note_objects(int command_tag, const Node* stmt, const Object* objects, int count);

}  // namespace pgmig::touched
