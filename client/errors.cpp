// The error table's helpers and the one-line error format.
#include "client/errors.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace pgmig::client {

int exit_code(ErrorKind kind) {
    for (const auto& info : kErrorKinds) {
        if (info.kind == kind) return info.exit_code;
    }
    return 1;
}

std::string_view kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::internal: return "internal";
        case ErrorKind::usage: return "usage";
        case ErrorKind::input: return "input";
        case ErrorKind::connect: return "connect";
        case ErrorKind::migration_failed: return "migration_failed";
        case ErrorKind::ledger_conflict: return "ledger_conflict";
        case ErrorKind::local_cluster: return "local_cluster";
        case ErrorKind::extension: return "extension";
        case ErrorKind::validation: return "validation";
        case ErrorKind::ledger_tampered: return "ledger_tampered";
        case ErrorKind::out_of_order: return "out_of_order";
        case ErrorKind::rollback_refused: return "rollback_refused";
        case ErrorKind::audit_broken: return "audit_broken";
        case ErrorKind::lint_failed: return "lint_failed";
        case ErrorKind::rehearsal_failed: return "rehearsal_failed";
        case ErrorKind::scratch_database: return "scratch_database";
        case ErrorKind::integrity: return "integrity";
        case ErrorKind::integrity_regressed: return "integrity_regressed";
        case ErrorKind::backup_failed: return "backup_failed";
        case ErrorKind::backup_wrong_key: return "backup_wrong_key";
        case ErrorKind::backup_corrupted: return "backup_corrupted";
        case ErrorKind::backup_truncated: return "backup_truncated";
        case ErrorKind::backup_manifest: return "backup_manifest";
        case ErrorKind::restore_mismatch: return "restore_mismatch";
        case ErrorKind::alert_failed: return "alert_failed";
        case ErrorKind::health_failed: return "health_failed";
        case ErrorKind::health_warnings: return "health_warnings";
        case ErrorKind::approval_missing: return "approval_missing";
        case ErrorKind::approval_refused: return "approval_refused";
        case ErrorKind::postflight_failed: return "postflight_failed";
        case ErrorKind::diff_found: return "diff_found";
        case ErrorKind::destructive_withheld: return "destructive_withheld";
        case ErrorKind::rename_unresolved: return "rename_unresolved";
        case ErrorKind::schema_load_failed: return "schema_load_failed";
        case ErrorKind::sync_refused: return "sync_refused";
        case ErrorKind::diff_unsupported: return "diff_unsupported";
        case ErrorKind::not_null_withheld:
            return "not_null_withheld";
        case ErrorKind::ledger_only: return "ledger_only";
        case ErrorKind::registrant_untrusted: return "registrant_untrusted";
        case ErrorKind::environment_mismatch: return "environment_mismatch";
        case ErrorKind::nontx_refused: return "nontx_refused";
        case ErrorKind::bad_bytes: return "bad_bytes";
        case ErrorKind::unsafe_search_path: return "unsafe_search_path";
        case ErrorKind::inline_password: return "inline_password";
        case ErrorKind::baseline_refused: return "baseline_refused";
        case ErrorKind::baseline_rollback_refused: return "baseline_rollback_refused";
        case ErrorKind::adopt_not_confirmed: return "adopt_not_confirmed";
        case ErrorKind::adopt_refused: return "adopt_refused";
        case ErrorKind::adopt_ledger_differs: return "adopt_ledger_differs";
        case ErrorKind::bad_conninfo:
            return "bad_conninfo";
        case ErrorKind::rollback_not_confirmed:
            return "rollback_not_confirmed";
        case ErrorKind::audit_reseal_refused:
            return "audit_reseal_refused";
        case ErrorKind::applied_edited:
            return "applied_edited";
        case ErrorKind::permission_denied:
            return "permission_denied";
        case ErrorKind::impact_unknown:
            return "impact_unknown";
        case ErrorKind::orm_schema_failed:
            return "orm_schema_failed";
        case ErrorKind::sql_version_mismatch:
            return "sql_version_mismatch";
        case ErrorKind::fleet_incomplete:
            return "fleet_incomplete";
        case ErrorKind::fleet_paused:
            return "fleet_paused";
        case ErrorKind::replication_unordered:
            return "replication_unordered";
    }
    return "internal";
}

ErrorKind kind_for_sqlstate(std::string_view sqlstate) {
    if (sqlstate == "PM001" || sqlstate == "PM005" || sqlstate == "PM006" || sqlstate == "PM007" || sqlstate == "PM010")
        return ErrorKind::input;
    if (sqlstate == "PM002" || sqlstate == "PM003") return ErrorKind::ledger_conflict;
    if (sqlstate == "PM008") return ErrorKind::ledger_tampered;
    if (sqlstate == "PM009") return ErrorKind::out_of_order;
    if (sqlstate == "PM011") return ErrorKind::rollback_refused;
    if (sqlstate == "PM016") return ErrorKind::input;  // unknown lint rule in a waiver
    if (sqlstate == "PM017") return ErrorKind::lint_failed;
    if (sqlstate == "PM019" || sqlstate == "PM020" || sqlstate == "PM021") return ErrorKind::rehearsal_failed;
    if (sqlstate == "PM024") return ErrorKind::input;  // approval of an unknown version
    if (sqlstate == "PM025" || sqlstate == "PM026" || sqlstate == "PM031") return ErrorKind::approval_refused;
    if (sqlstate == "PM030") return ErrorKind::registrant_untrusted;
    if (sqlstate == "PM032") return ErrorKind::approval_missing;
    if (sqlstate == "PM033") return ErrorKind::environment_mismatch;
    if (sqlstate == "PM035" || sqlstate == "PM036" || sqlstate == "PM037") return ErrorKind::nontx_refused;
    if (sqlstate == "PM062") return ErrorKind::adopt_refused;
    if (sqlstate == "PM063") return ErrorKind::adopt_ledger_differs;
    if (sqlstate == "PM064" || sqlstate == "PM065") return ErrorKind::audit_reseal_refused;
    if (sqlstate == "PM066") return ErrorKind::sql_version_mismatch;
    // PM004 (isolation level) and PM012 (session lock) cannot happen with the client's own calls: a bug.
    if (sqlstate == "PM004" || sqlstate == "PM012") return ErrorKind::internal;
    return ErrorKind::migration_failed;
}

std::string exit_codes_help() {
    std::string out = "Exit codes:\n";
    out += fmt::format("  {}  success\n", kExitOk);
    for (const auto& info : kErrorKinds) out += fmt::format("  {}  {}\n", info.exit_code, info.meaning);
    return out;
}

std::string one_line(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = !out.empty();
        } else {
            if (space) out.push_back(' ');
            space = false;
            out.push_back(c);
        }
    }
    return out;
}

std::string Error::format_line() const {
    std::string out = one_line(what_failed_);
    if (!where_.empty()) out += ", " + one_line(where_);
    if (!next_step_.empty()) out += "; " + one_line(next_step_);
    return out;
}

int report(const Error& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "pgmig: error: %s\n", error.line().c_str());
    if (!error.hint().empty()) std::fprintf(stderr, "hint: %s\n", one_line(error.hint()).c_str());
    return error.exit_code();
}

}  // namespace pgmig::client
