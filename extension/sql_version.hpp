// The library (pgmig.so) and the SQL objects of pgmig in a database are installed separately: a
// package upgrade replaces the library at once, ALTER EXTENSION pgmig UPDATE brings each database's
// objects along later, and a session that loaded the library before an upgrade keeps the old one.
// These checks make the library refuse to work with objects whose layout it does not know, instead
// of writing wrong rows, and say what to run (SQLSTATE PM066, docs/install.md#upgrading).
#pragma once

namespace pgmig::sql_version {

// The release of this library, as the control file's default_version names it (e.g. "0.2.0").
const char* library();

// For the SQL-callable functions (PGMIG_FUNCTION): raises PM066 unless pgmig's SQL objects in this
// database are this library's release. Inside pgmig's own CREATE or ALTER EXTENSION script, whatever
// the version, it passes. Reads pg_extension once per transaction. May raise a PostgreSQL error
// (call it under pg::call or from C code).
void require_current();

// For the audit writer: raises PM066 unless pgmig.ddl_audit has a layout this library writes, which
// holds for every release up to this one (0.1.0 and 0.2.0 share it), so that DDL stays audited in
// the window between a package upgrade and ALTER EXTENSION UPDATE. A later release's objects (a
// session that loaded this library before the upgrade) are refused. Same conditions as above.
void require_audit_layout();

// The same for the audit writer's every statement, for `table` (pgmig.ddl_audit's OID, opened and
// locked by the caller): once the layout was found writable, the check is not repeated until the
// table's relcache entry is invalidated (any ALTER of it, here or in another session, which every
// release that changes the table does; a DROP; a cache reset). A release that leaves the table as it
// is keeps a layout this library writes. Not remembered inside pgmig's own extension scripts.
void require_audit_layout(unsigned table);

// Registers the relcache callback of the above; from _PG_init only.
void install_layout_cache();

}  // namespace pgmig::sql_version
