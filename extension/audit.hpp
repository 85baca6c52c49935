// The DDL audit trail: what the event triggers record, and which migration a statement belongs to.
#pragma once

namespace pgmig::audit {

// While alive, DDL in this backend belongs to migration `version`, and `statement` is its exact
// text (the event triggers cannot see it otherwise: the client's query is SELECT migrate_apply()).
// Both strings must outlive the object.
class InMigration {
  public:
    // `kind` is the NodeTag of the statement's raw parse tree.
    InMigration(const char* version, const char* statement, int kind);
    ~InMigration();
    InMigration(const InMigration&) = delete;
    InMigration& operator=(const InMigration&) = delete;

  private:
    const char* saved_version_;
    const char* saved_statement_;
    int saved_kind_;
};

// Non-transactional migrations run top-level statements from the client: between
// migrate_nontx_begin and migrate_nontx_finish/failed, DDL of this backend belongs to `version`.
void set_nontx_migration(const char* version);  // nullptr ends it

}  // namespace pgmig::audit
