// Four-eyes approvals as the client sees them: which pending migrations a deployer may not deploy to an
// environment yet (migrate_approval_check), and why, in words that say what to run. Used by
// `pgmig approvals` and by `pgmig deploy` (production: refuse unless check_approvals(...).ok()).
#pragma once

#include "client/db.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pgmig::client {

// One pending migration and its approval state for an environment.
struct ApprovalItem {
    std::string version;
    std::string name;
    std::string checksum;                // the registered up script's checksum (what must be approved)
    std::string status;                  // approved | missing | self_approved | checksum_changed
    std::vector<std::string> approvers;  // roles other than the deployer who approved this checksum
    std::string detail;                  // the server's sentence about it
    bool approved() const { return status == "approved"; }
};

struct ApprovalCheck {
    std::string environment;
    std::string deployer;             // the role the check was made for (session_user unless given)
    std::vector<ApprovalItem> items;  // every pending versioned migration, in version order

    // True when every pending migration is approved by a role other than the deployer.
    bool ok() const;
    std::vector<ApprovalItem> missing() const;
    // "" when ok(); else one sentence per unapproved migration (version, name, why) and what to run,
    // e.g. "migration 3 "orders": no approval for production; run `pgmig approve 3 --env production`
    // as a role other than alice (a member of pgmig_approver)".
    std::string describe() const;
    nlohmann::json to_json() const;
};

// migrate_approval_check(environment, deployer) on conn; deployer "" = the connection's session_user.
// Reads only; throws Error (extension missing, no privilege) naming the target.
ApprovalCheck check_approvals(const Connection& conn, const std::string& environment,
                              const std::string& deployer = {});

}  // namespace pgmig::client
