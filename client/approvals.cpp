// Four-eyes approvals: the check a deploy makes and the sentence that says what is missing.
#include "client/approvals.hpp"

#include "client/errors.hpp"
#include "client/project.hpp"

#include <fmt/core.h>

namespace pgmig::client {

bool ApprovalCheck::ok() const {
    for (const auto& item : items) {
        if (!item.approved()) return false;
    }
    return true;
}

std::vector<ApprovalItem> ApprovalCheck::missing() const {
    std::vector<ApprovalItem> out;
    for (const auto& item : items) {
        if (!item.approved()) out.push_back(item);
    }
    return out;
}

std::string ApprovalCheck::describe() const {
    const std::vector<ApprovalItem> unapproved = missing();
    if (unapproved.empty()) return {};
    std::string out = fmt::format("{} of {} pending migration{} not approved for {} (deployer {}):", unapproved.size(),
                                  items.size(), items.size() == 1 ? " is" : "s are", environment, deployer);
    for (const auto& item : unapproved) {
        const char* why = item.status == "self_approved"      ? "approved only by the deployer"
                          : item.status == "checksum_changed" ? "its script changed after it was approved"
                                                              : "no approval";
        out += fmt::format("\n  migration {} \"{}\" (checksum {}): {}; run `pgmig approve {} --env {}` as a role "
                           "other than {} (a member of pgmig_approver)",
                           item.version, item.name, item.checksum.substr(0, 12), why, item.version, environment,
                           deployer);
    }
    return out;
}

nlohmann::json ApprovalCheck::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : items) {
        list.push_back({{"version", item.version},
                        {"name", item.name},
                        {"checksum", item.checksum},
                        {"status", item.status},
                        {"approvers", item.approvers},
                        {"detail", item.detail}});
    }
    return {{"environment", environment}, {"deployer", deployer}, {"approved", ok()}, {"migrations", list}};
}

ApprovalCheck check_approvals(const Connection& conn, const std::string& environment, const std::string& deployer) {
    const std::string where = fmt::format("checking the approvals for {} in {}", environment, conn.target());
    Result who = conn.exec_params("SELECT coalesce(nullif($1, ''), session_user::text)", {deployer});
    if (!who.ok()) throw_server_error(who.error(), where, "nothing was changed");
    ApprovalCheck check;
    check.environment = environment;
    check.deployer = who.get(0, 0);
    Result res = conn.exec_params(
        "SELECT version, name, checksum, status, array_to_json(approvers)::text, detail FROM migrate_approval_check($1, $2::name)",
        {environment, check.deployer});
    if (!res.ok()) {
        throw_server_error(res.error(), where,
                           "the role needs pgmig_reader (or pgmig_admin/pgmig_approver) to read approvals");
    }
    for (int i = 0; i < res.rows(); ++i) {
        ApprovalItem item;
        item.version = res.get(i, 0);
        item.name = res.get(i, 1);
        item.checksum = res.get(i, 2);
        item.status = res.get(i, 3);
        item.approvers = nlohmann::json::parse(res.get(i, 4)).get<std::vector<std::string>>();
        item.detail = res.get(i, 5);
        check.items.push_back(std::move(item));
    }
    return check;
}

}  // namespace pgmig::client
