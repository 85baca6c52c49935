// The consent pgmig rollback needs before it runs the down script of a baseline migration (see the header).
#include "client/ledger/baseline_rollback.hpp"

#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"
#include "client/ledger/schema_compare.hpp"
#include "client/diff/schema_diff.hpp"

#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace pgmig::client {

namespace {

// A text[] literal of the versions (versions are digits and dots: nothing to escape, but quoted anyway).
std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += i == 0 ? "\"" : ",\"";
        for (const char c : values[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

bool on_terminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

// The statements of the registered down script that drop something.
std::vector<std::string> what_it_drops(const Connection& conn, const std::string& version) {
    Result res = conn.exec_params(
        "SELECT s.statement FROM pgmig.migrations m, pgmig.split_statements(m.down_sql) s "
        " WHERE m.version = $1 ORDER BY s.n",
        {version});
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading the down script of {}, in {}", version, conn.target()),
                           "nothing was rolled back");
    }
    std::vector<std::string> statements;
    for (int i = 0; i < res.rows(); ++i) statements.push_back(res.get(i, 0));
    return dropping_statements(statements);
}

void list_drops(const std::string& label, const std::vector<std::string>& drops) {
    constexpr std::size_t kShown = 40;
    if (drops.empty()) {
        std::fprintf(stderr, "pgmig: %s's down script has no DROP, TRUNCATE or DELETE statement\n", label.c_str());
        return;
    }
    std::fprintf(stderr, "pgmig: %s's down script drops (%zu statement%s):\n", label.c_str(), drops.size(),
                 drops.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < drops.size() && i < kShown; ++i) std::fprintf(stderr, "  %s\n", drops[i].c_str());
    if (drops.size() > kShown) std::fprintf(stderr, "  ... and %zu more\n", drops.size() - kShown);
}

}  // namespace

std::vector<std::string> baselined_versions(const Connection& conn, const std::vector<std::string>& versions) {
    if (versions.empty()) return {};
    // Applied now through a baseline: the newest row that made it applied says 'baseline' (pgmig adopt
    // records the migrations a Flyway baseline covers so too).
    Result res = conn.exec_params(
        "SELECT v.version FROM unnest($1::text[]) WITH ORDINALITY AS v(version, n) "
        " WHERE (SELECT h.action FROM pgmig.history h "
        "         WHERE h.version = v.version AND h.action IN ('apply', 'baseline', 'adopt') "
        "         ORDER BY h.id DESC LIMIT 1) = 'baseline' "
        " ORDER BY v.n",
        {text_array(versions)});
    if (!res.ok()) {
        throw_server_error(res.error(), fmt::format("reading pgmig.history, in {}", conn.target()),
                           "nothing was rolled back");
    }
    std::vector<std::string> out;
    for (int i = 0; i < res.rows(); ++i) out.push_back(res.get(i, 0));
    return out;
}

BaselineRollbackConsent BaselineRollbackConsent::obtain(const Connection& conn,
                                                        const std::vector<RollbackCandidate>& chosen, bool force) {
    std::vector<std::string> versions;
    for (const auto& c : chosen) versions.push_back(c.version);
    const std::vector<std::string> baselines = baselined_versions(conn, versions);
    BaselineRollbackConsent consent;
    if (baselines.empty()) return consent;
    std::string labels;
    for (const auto& v : baselines) {
        const auto it =
            std::find_if(chosen.begin(), chosen.end(), [&](const RollbackCandidate& c) { return c.version == v; });
        const std::string label = schema_diff::comment_text(v + "_" + (it == chosen.end() ? std::string() : it->name));
        labels += (labels.empty() ? "" : ", ") + label;
        const std::vector<std::string> drops = what_it_drops(conn, v);
        list_drops(label, drops);
        if (!force) continue;
        if (on_terminal()) {
            std::fprintf(stderr,
                         "pgmig: %s is a baseline migration: it was marked applied without running, so its down "
                         "script never ran here and drops what was there before pgmig, with its data.\n"
                         "  Type its version (%s) to confirm: ",
                         label.c_str(), schema_diff::comment_text(v).c_str());
            std::fflush(stderr);
            std::string answer;
            if (!std::getline(std::cin, answer)) answer.clear();
            while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
            if (answer != v) {
                throw Error(ErrorKind::baseline_rollback_refused,
                            fmt::format("rollback of baseline migration {} not confirmed", label),
                            fmt::format("in {}", conn.target()),
                            "nothing was rolled back; to roll it back, run the command again and type the version");
            }
            consent.typed_ = true;
        } else {
            std::fprintf(stderr, "pgmig: rolling back baseline migration %s (--force)\n", label.c_str());
        }
        consent.consented_.push_back(v);
    }
    if (!force) {
        throw Error(
            ErrorKind::baseline_rollback_refused,
            fmt::format("refused to roll back baseline migration{} {}: {} marked applied without running "
                        "(pgmig baseline, drift --adopt or an adopted Flyway baseline), so the down script never ran "
                        "here and drops what was there before "
                        "pgmig (listed above)",
                        baselines.size() == 1 ? "" : "s", labels, baselines.size() == 1 ? "it was" : "they were"),
            fmt::format("in {}", conn.target()),
            fmt::format("nothing was rolled back; review the down script (SELECT down_sql FROM pgmig.migrations "
                        "WHERE version = '{}'), take a backup (pgmig backup), then run the same pgmig rollback "
                        "with --force (on a terminal you then type the version to confirm)",
                        schema_diff::comment_text(baselines.front())));
    }
    std::fflush(stderr);
    return consent;
}

void BaselineRollbackConsent::check(const Connection& conn, const std::vector<std::string>& versions) const {
    for (const auto& v : baselined_versions(conn, versions)) {
        if (std::find(consented_.begin(), consented_.end(), v) != consented_.end()) continue;
        throw Error(ErrorKind::baseline_rollback_refused,
                    fmt::format("refused to roll back baseline migration {}: the migrations to roll back changed while "
                                "pgmig read them, and this one was not confirmed",
                                schema_diff::comment_text(v)),
                    fmt::format("in {}", conn.target()),
                    "nothing was rolled back in this transaction; run pgmig rollback again (with --force for a "
                    "baseline migration)");
    }
}

}  // namespace pgmig::client
