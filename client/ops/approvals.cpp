// Four-eyes approvals: the check a deploy makes and the sentence that says what is missing.
#include "client/ops/approvals.hpp"

#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"

#include "common/checksum.hpp"

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
    std::string out =
        fmt::format("{} of {} migration{} to deploy {} not approved for {}:", unapproved.size(), items.size(),
                    items.size() == 1 ? "" : "s", unapproved.size() == 1 ? "is" : "are", environment);
    for (const auto& item : unapproved) {
        const std::string why =
            item.status == "self_approved"      ? std::string("approved only by its registrant")
            : item.status == "checksum_changed" ? std::string("its script changed after it was approved")
            : item.status == "insufficient"
                ? fmt::format("{} of the {} approvals required", item.approvers.size(), item.required)
                : std::string("no approval");
        out += fmt::format(
            "\n  {} \"{}\" (checksum {}): {}; run `pgmig approve {} --env {}` as a member of "
            "pgmig_approver other than {}, who registers it",
            item.label(), item.name, item.checksum.substr(0, 12), why, item.spec(), environment, item.registrant);
    }
    return out;
}

nlohmann::json ApprovalCheck::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : items) {
        list.push_back({{"version", item.version ? nlohmann::json(*item.version) : nlohmann::json(nullptr)},
                        {"name", item.name},
                        {"checksum", item.checksum},
                        {"status", item.status},
                        {"approvers", item.approvers},
                        {"required", item.required},
                        {"registrant", item.registrant},
                        {"ledger_only", item.ledger_only},
                        {"detail", item.detail}});
    }
    return {{"environment", environment}, {"deployer", deployer}, {"approved", ok()}, {"migrations", list}};
}

ApprovalCheck check_approvals(const Connection& conn, const std::string& environment, const std::string& deployer,
                              const std::vector<MigrationFile>* files) {
    const std::string where = fmt::format("checking the approvals for {} in {}", environment, conn.target());
    Result who = conn.exec_params("SELECT coalesce(nullif($1, ''), current_user::text)", {deployer});
    if (!who.ok()) throw_server_error(who.error(), where, "nothing was changed");
    ApprovalCheck check;
    check.environment = environment;
    check.deployer = who.get(0, 0);
    std::optional<std::string> files_json;
    if (files != nullptr) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& f : *files) {
            list.push_back({{"version", f.repeatable() ? nlohmann::json(nullptr) : nlohmann::json(f.version)},
                            {"name", f.name},
                            {"checksum", common::script_checksum(f.up_sql)}});
        }
        files_json = list.dump();
    }
    Result res = conn.exec_params(
        "SELECT version, name, checksum, status, array_to_json(approvers)::text, detail, registrant, "
        "       required_approvals, ledger_only "
        "  FROM migrate_approval_check($1, $2::name, files => $3::jsonb)",
        {environment, check.deployer, files_json});
    if (!res.ok()) {
        throw_server_error(res.error(), where,
                           "the role needs pgmig_reader (or pgmig_admin/pgmig_approver) to read approvals");
    }
    for (int i = 0; i < res.rows(); ++i) {
        ApprovalItem item;
        item.version = res.get_opt(i, 0);
        item.name = res.get(i, 1);
        item.checksum = res.get(i, 2);
        item.status = res.get(i, 3);
        item.approvers = nlohmann::json::parse(res.get(i, 4)).get<std::vector<std::string>>();
        item.detail = res.get(i, 5);
        item.registrant = res.get(i, 6);
        item.required = std::stoi(res.get(i, 7));
        item.ledger_only = res.get(i, 8) == "t";
        check.items.push_back(std::move(item));
    }
    return check;
}

}  // namespace pgmig::client
