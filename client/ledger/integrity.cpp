// migrate_check_integrity() from the client: reading its findings, and what changed between two reports.
#include "client/ledger/integrity.hpp"

#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace pgmig::client {

std::vector<IntegrityFinding> read_integrity(const Connection& conn, const std::string& where) {
    Result res = conn.exec("SELECT problem, severity, object, detail, count, sample FROM migrate_check_integrity()");
    if (!res.ok()) {
        throw_server_error(res.error(), where,
                           "run it as a role that can read the tables (the tables' owner, with pgmig_reader)");
    }
    std::vector<IntegrityFinding> out;
    out.reserve(static_cast<std::size_t>(res.rows()));
    for (int i = 0; i < res.rows(); ++i) {
        IntegrityFinding f{res.get(i, 0), res.get(i, 1), res.get(i, 2), res.get(i, 3), std::nullopt,
                           res.get_opt(i, 5)};
        if (!res.is_null(i, 4)) f.count = std::stoll(res.get(i, 4));
        out.push_back(std::move(f));
    }
    return out;
}

IntegrityDiff diff_integrity(const std::vector<IntegrityFinding>& before, const std::vector<IntegrityFinding>& after) {
    IntegrityDiff diff;
    for (const auto& a : after) {
        auto old = std::find_if(before.begin(), before.end(), [&](const IntegrityFinding& b) { return b.same_problem(a); });
        if (old == before.end()) {
            diff.added.push_back(a);
        } else if (old->severity != a.severity || old->count != a.count) {
            diff.changed.emplace_back(*old, a);
        }
    }
    for (const auto& b : before) {
        if (std::none_of(after.begin(), after.end(), [&](const IntegrityFinding& a) { return a.same_problem(b); }))
            diff.resolved.push_back(b);
    }
    return diff;
}

bool has_integrity_errors(const std::vector<IntegrityFinding>& findings) {
    return std::any_of(findings.begin(), findings.end(), [](const IntegrityFinding& f) { return f.severity == "error"; });
}

nlohmann::json integrity_json(const IntegrityFinding& f) {
    return {{"problem", f.problem},
            {"severity", f.severity},
            {"object", f.object},
            {"detail", f.detail},
            {"count", f.count ? nlohmann::json(*f.count) : nlohmann::json(nullptr)},
            {"sample", f.sample ? nlohmann::json(*f.sample) : nlohmann::json(nullptr)}};
}

std::string integrity_line(const IntegrityFinding& f) {
    return fmt::format("{} {}: {}", f.problem, f.object, one_line(f.detail));
}

}  // namespace pgmig::client
