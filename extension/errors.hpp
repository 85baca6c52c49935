// pgmig's own error kinds: one SQLSTATE each (listed in docs/errors.md), raised as pgmig::Error.
#pragma once

#include <exception>
#include <source_location>
#include <string>
#include <utility>

namespace pgmig {

// The same packing as PostgreSQL's MAKE_SQLSTATE, without pulling PostgreSQL headers in here.
constexpr int make_sqlstate(const char (&s)[6]) {
    int code = 0;
    for (int i = 0; i < 5; ++i) code += ((s[i] - '0') & 0x3F) << (6 * i);
    return code;
}

namespace sqlstate {
// Class PM is pgmig's. Keep this list and docs/errors.md in step.
inline constexpr int invalid_version = make_sqlstate("PM001");
inline constexpr int checksum_mismatch = make_sqlstate("PM002");
inline constexpr int version_conflict = make_sqlstate("PM003");
inline constexpr int isolation_not_supported = make_sqlstate("PM004");
inline constexpr int unknown_version = make_sqlstate("PM005");
inline constexpr int transaction_control = make_sqlstate("PM006");
inline constexpr int invalid_argument = make_sqlstate("PM007");
inline constexpr int ledger_tampered = make_sqlstate("PM008");
inline constexpr int out_of_order = make_sqlstate("PM009");
inline constexpr int needs_no_transaction = make_sqlstate("PM010");
inline constexpr int no_down_script = make_sqlstate("PM011");
inline constexpr int lock_not_held = make_sqlstate("PM012");
inline constexpr int out_of_band_blocked = make_sqlstate("PM013");
inline constexpr int audit_immutable = make_sqlstate("PM014");
inline constexpr int audit_index_unsupported = make_sqlstate("PM015");
inline constexpr int lint_invalid_waiver = make_sqlstate("PM016");     // unknown rule id, bad lint options
inline constexpr int lint_blocked = make_sqlstate("PM017");            // migrate_apply refused by pgmig.lint_block
inline constexpr int lint_out_of_band = make_sqlstate("PM018");        // out-of-band DDL refused by its lint findings
inline constexpr int test_applied = make_sqlstate("PM019");            // migrate_test of an applied migration
inline constexpr int test_no_down_script = make_sqlstate("PM020");     // migrate_test without a down script
inline constexpr int test_non_transactional = make_sqlstate("PM021");  // migrate_test cannot run it in a transaction
// Approvals (raised by migrate_approve, PL/pgSQL in the install script; listed here so the codes stay taken)
inline constexpr int approval_unknown_version = make_sqlstate("PM024");  // no migration with this version
inline constexpr int approval_already_applied = make_sqlstate("PM025");  // only pending migrations are approved
inline constexpr int approval_not_reviewed = make_sqlstate("PM026");     // no longer raised: see docs/errors.md
// Who may run whose SQL (trust.cpp), and approvals enforced by migrate_apply (PM031: migrate_approve, PL/pgSQL).
inline constexpr int registrant_untrusted = make_sqlstate("PM030");  // registrant lacks the caller's rights
inline constexpr int self_approval = make_sqlstate("PM031");         // the registrant approves its own migration
inline constexpr int approval_required = make_sqlstate("PM032");     // fewer approvals than required
inline constexpr int environment_mismatch = make_sqlstate("PM033");  // no or another environment than pgmig.environment
// The non-transactional API accepts only the registered statements, seen to run in this session.
inline constexpr int nontx_not_running = make_sqlstate("PM035");        // no begin of this migration in effect
inline constexpr int nontx_statement_not_run = make_sqlstate("PM036");  // progress/finish before the statements ran
inline constexpr int nontx_script_changed = make_sqlstate("PM037");     // registered again since begin
// The audit trail: a DDL statement refused because its audit row could not be written
// (pgmig.audit_failure = error), and the WARNING of migrate_audit_verify() when sealing was skipped.
inline constexpr int audit_write_failed = make_sqlstate("PM038");
inline constexpr int audit_seal_blocked = make_sqlstate("PM039");
// A ledger writer stopped waiting for the ledger lock: its holder waits for this transaction (ledger_wait.cpp).
inline constexpr int ledger_wait_stopped = make_sqlstate("PM058");
// pgmig adopt (migrate_adopt): the previous tool's history cannot be taken over as it stands (no or an
// unreadable history table, a failed or dirty state, a recorded migration without a file), and a ledger
// that already holds another history than the tool's table.
inline constexpr int adopt_refused = make_sqlstate("PM062");
inline constexpr int adopt_ledger_differs = make_sqlstate("PM063");
// audit reseal: only a superuser may start a new sealed segment of the audit chain
inline constexpr int audit_reseal_not_superuser = make_sqlstate("PM064");
// audit reseal: the chain has no unacknowledged break (nothing to reseal), or no reason was given
inline constexpr int audit_reseal_refused = make_sqlstate("PM065");
// The library and this database's SQL objects of pgmig are different releases (sql_version.hpp): an
// ALTER EXTENSION pgmig UPDATE is due, or the session loaded the library before an update.
inline constexpr int sql_version_mismatch = make_sqlstate("PM066");
// Standard codes used as they are.
inline constexpr int insufficient_privilege = make_sqlstate("42501");
inline constexpr int internal_error = make_sqlstate("XX000");
inline constexpr int out_of_memory = make_sqlstate("53200");
}  // namespace sqlstate

// Where an error was raised: a C++ site (std::source_location at the throw) or, for an error caught
// from PostgreSQL, the C function that called ereport. The strings are static (string literals of
// the compiler or of PostgreSQL's own ereport sites): they are reported in `LOCATION:`.
struct ErrorOrigin {
    const char* file = nullptr;
    int line = 0;
    const char* function = nullptr;      // a plain C name, as PostgreSQL's __func__
    const char* cxx_function = nullptr;  // std::source_location's signature, trimmed when reported
};

// The fields of PostgreSQL's ErrorData that name the object involved (GET STACKED DIAGNOSTICS
// SCHEMA_NAME, TABLE_NAME, COLUMN_NAME, PG_DATATYPE_NAME, CONSTRAINT_NAME), and the part of the
// detail meant only for the server log. Empty when unknown.
struct ErrorObjects {
    std::string schema;
    std::string table;
    std::string column;
    std::string datatype;
    std::string constraint;
    std::string detail_log;
};

// A user-facing error: what failed (message), the facts (detail), what to do next (hint).
// When a PostgreSQL error is the cause, its SQLSTATE is kept and its fields are carried along.
class Error : public std::exception {
  public:
    Error(int sqlstate, std::string message, std::string detail = {}, std::string hint = {},
          const std::source_location& where = std::source_location::current())
        : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint)) {
        origin_.file = where.file_name();
        origin_.line = static_cast<int>(where.line());
        origin_.cxx_function = where.function_name();
    }

    const char* what() const noexcept override { return message_.c_str(); }
    int sqlstate() const noexcept { return sqlstate_; }
    const std::string& message() const noexcept { return message_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }
    const std::string& context() const noexcept { return context_; }
    const ErrorOrigin& origin() const noexcept { return origin_; }
    const ErrorObjects& objects() const noexcept { return objects_; }
    Error& with_context(std::string context) {
        context_ = std::move(context);
        return *this;
    }
    // An error that rewords `cause` (names the migration, redacts a secret) keeps where it came
    // from and the objects it names: a constraint violation still says which constraint.
    Error& caused_by(const Error& cause) {
        origin_ = cause.origin_;
        objects_ = cause.objects_;
        return *this;
    }

  protected:
    ErrorOrigin origin_;
    ErrorObjects objects_;

  private:
    int sqlstate_;
    std::string message_;
    std::string detail_;
    std::string hint_;
    std::string context_;
};

}  // namespace pgmig
