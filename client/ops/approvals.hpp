// Four-eyes approvals as the client sees them: which migrations a deploy to an environment would run that
// lack approvals (migrate_approval_check, the same rule migrate_apply() enforces: approvals of the current
// checksum by distinct roles other than the migration's registrant), and why, in words that say what to
// run. Used by `pgmig approvals` and by `pgmig deploy` (refuse unless check_approvals(...).ok()).
#pragma once

#include "client/core/db.hpp"
#include "client/ledger/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

// One migration a deploy would run, and its approval state for an environment.
struct ApprovalItem {
    std::optional<std::string> version;  // nullopt for a repeatable migration
    std::string name;
    std::string checksum;  // the up script's checksum that must be approved (the file's, when files are given)
    std::string status;    // approved | insufficient | missing | self_approved | checksum_changed
    std::vector<std::string> approvers;  // roles other than the registrant who approved this checksum
    std::string detail;                  // the server's sentence about it
    std::string registrant;              // who registered (or, for a new or changed file, will register) this script
    int required = 1;                    // approvals needed
    bool ledger_only = false;            // registered, but no file holds it (pgmig apply and deploy refuse it)
    bool approved() const { return status == "approved"; }
    std::string label() const { return version ? "migration " + *version : "repeatable migration"; }
    // What to pass to pgmig approve: the version, or R__NAME.
    std::string spec() const { return version ? *version : "R__" + name; }
};

struct ApprovalCheck {
    std::string environment;
    std::string deployer;             // who registers new and changed files (the connecting role unless given)
    std::vector<ApprovalItem> items;  // every migration the deploy would run, in version order

    // True when every migration is approved by enough roles other than its registrant.
    bool ok() const;
    std::vector<ApprovalItem> missing() const;
    // "" when ok(); else one sentence per unapproved migration (version, name, why) and what to run,
    // e.g. "migration 3 "orders": no approval for production; run `pgmig approve 3 --env production`
    // as a member of pgmig_approver other than alice, who registered it".
    std::string describe() const;
    nlohmann::json to_json() const;
};

// migrate_approval_check(environment, deployer, files) on conn; deployer "" = the connection's current user.
// With files, the check is of what a deploy of them would run (their checksums; new and changed files are
// registered by the deployer); without, of the ledger's pending migrations. Reads only; throws Error
// (extension missing, no privilege) naming the target.
ApprovalCheck check_approvals(const Connection& conn, const std::string& environment, const std::string& deployer = {},
                              const std::vector<MigrationFile>* files = nullptr);

}  // namespace pgmig::client
