// The preview and the consent of pgmig rollback (see the header).
#include "client/ledger/rollback_preview.hpp"

#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"
#include "client/diff/schema_diff.hpp"

#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <regex>

namespace pgmig::client {

namespace {

bool on_terminal() { return isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

// One line: whitespace collapsed, control characters escaped, cut after 200 characters.
std::string one_line(const std::string& statement) {
    std::string out;
    bool space = false;
    for (const char c : statement) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    if (out.size() > 200) out.replace(197, std::string::npos, "...");
    return schema_diff::comment_text(out);
}

// For a down script that cannot be rehearsed (non-transactional): the statements that drop a table, a
// materialized view, a schema or a column, found in its text; their rows are unknown.
std::vector<RollbackDrop> drops_in_text(const std::vector<std::string>& statements) {
    static const std::regex drop_relation(R"(^\s*DROP\s+(TABLE|SCHEMA|MATERIALIZED\s+VIEW)\b)", std::regex::icase);
    static const std::regex drop_column(
        R"(^\s*ALTER\s+TABLE\b.*\bDROP\s+(?!(CONSTRAINT|DEFAULT|NOT\s+NULL|IDENTITY|EXPRESSION)\b))",
        std::regex::icase);
    std::vector<RollbackDrop> out;
    for (const std::string& s : statements) {
        std::smatch m;
        if (std::regex_search(s, m, drop_relation)) {
            std::string kind = m[1].str();
            std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
            out.push_back(
                {kind.rfind("materialized", 0) == 0 ? "materialized view" : kind, s, std::nullopt, false, true});
        } else if (std::regex_search(s, drop_column)) {
            out.push_back({"column", s, std::nullopt, false, true});
        }
    }
    return out;
}

}  // namespace

bool RollbackDrop::holds_data() const {
    if (type != "table" && type != "column" && type != "schema") return false;
    return !rows || *rows > 0;
}

std::string RollbackDrop::describe() const {
    if (from_statement) return fmt::format("a {} (rows unknown: not rehearsed), by: {}", type, identity);
    std::string count;
    if (!rows) {
        count = "rows unknown";
    } else if (exact) {
        count = fmt::format("{} row{}", *rows, *rows == 1 ? "" : "s");
    } else {
        count = fmt::format("about {} rows, estimated from pg_class.reltuples", *rows);
    }
    return fmt::format("{} {} ({})", type, schema_diff::comment_text(identity), count);
}

std::vector<std::string> RollbackPreview::data_losses() const {
    std::vector<std::string> out;
    for (const RollbackStep& step : steps) {
        if (step.baseline) continue;
        for (const RollbackDrop& d : step.dropped) {
            if (d.holds_data())
                out.push_back(fmt::format("{}: {}", schema_diff::comment_text(step.label()), d.describe()));
        }
    }
    return out;
}

RollbackPreview preview_rollback(const Connection& conn, int count, bool trust,
                                 const std::vector<std::string>& baselines,
                                 const std::function<ServerError(const ServerError&)>& locate) {
    RollbackPreview preview;
    if (count < 1) return preview;
    const std::string where = fmt::format("rehearsing the rollback, in {}", conn.target());
    Transaction tx(conn);  // rolled back: the rehearsal leaves nothing, and neither does this
    Result res = conn.exec_params(
        "SELECT version, name, report::text FROM migrate_rollback($1::int, trust => $2::boolean, dry_run => true)",
        {std::to_string(count), trust ? "true" : "false"});
    if (!res.ok()) {
        const ServerError e = res.error();
        tx.rollback();
        throw_server_error(locate ? locate(e) : e, where, "nothing was rolled back");
    }
    for (int i = 0; i < res.rows(); ++i) {
        RollbackStep step;
        step.version = res.get(i, 0);
        step.name = res.get(i, 1);
        step.baseline = std::find(baselines.begin(), baselines.end(), step.version) != baselines.end();
        const nlohmann::json report = nlohmann::json::parse(res.get(i, 2), nullptr, false);
        if (report.is_discarded() || !report.is_object()) {
            throw Error(ErrorKind::internal, "unreadable rehearsal report", where, "nothing was rolled back");
        }
        step.outcome = report.value("outcome", "");
        if (report.contains("reason") && report["reason"].is_string()) step.reason = report["reason"];
        if (report.contains("duration") && report["duration"].is_string()) step.duration = report["duration"];
        if (report.contains("locks") && report["locks"].is_array()) {
            for (const auto& l : report["locks"]) {
                step.locks.push_back(
                    fmt::format("{} ({})", schema_diff::comment_text(l.value("relation", "?")), l.value("mode", "?")));
            }
        }
        if (report.contains("rows") && report["rows"].is_object())
            step.rows_deleted = report["rows"].value("deleted", 0LL);
        if (report.contains("dropped") && report["dropped"].is_array()) {
            for (const auto& d : report["dropped"]) {
                RollbackDrop drop{d.value("type", ""), d.value("identity", ""), std::nullopt,
                                  d.value("rows_exact", false)};
                if (d.contains("rows") && d["rows"].is_number_integer()) drop.rows = d["rows"].get<long long>();
                step.dropped.push_back(std::move(drop));
            }
        }
        Result stmts = conn.exec_params(
            "SELECT pgmig.redact(s.statement) FROM pgmig.migrations m, pgmig.split_statements(m.down_sql) s "
            " WHERE m.version = $1 ORDER BY s.n",
            {step.version});
        if (!stmts.ok()) {
            const ServerError e = stmts.error();
            tx.rollback();
            throw_server_error(e, fmt::format("reading the down script of {}, in {}", step.version, conn.target()),
                               "nothing was rolled back");
        }
        for (int k = 0; k < stmts.rows(); ++k) step.statements.push_back(one_line(stmts.get(k, 0)));
        if (step.outcome != "ok") step.dropped = drops_in_text(step.statements);
        preview.steps.push_back(std::move(step));
    }
    tx.rollback();
    return preview;
}

void print_rollback_preview(std::FILE* out, const RollbackPreview& preview) {
    fmt::print(out, "rollback plan ({} migration{}, newest first):\n", preview.steps.size(),
               preview.steps.size() == 1 ? "" : "s");
    for (const RollbackStep& step : preview.steps) {
        fmt::print(out, "  {}{}: {} statement{}{}\n", schema_diff::comment_text(step.label()),
                   step.baseline ? " (baseline migration, --force)" : "", step.statements.size(),
                   step.statements.size() == 1 ? "" : "s",
                   step.outcome == "ok" ? fmt::format(", rehearsed in {}", step.duration)
                                        : fmt::format(", not rehearsed: {}", schema_diff::comment_text(step.reason)));
        for (const std::string& s : step.statements) fmt::print(out, "      {}\n", s);
        if (step.dropped.empty()) {
            fmt::print(out, "    drops: no table, column or schema\n");
        } else {
            for (const RollbackDrop& d : step.dropped) {
                fmt::print(out, "    drops: {}\n", d.describe());
            }
        }
        if (!step.locks.empty()) {
            std::string list;
            for (const auto& l : step.locks) list += (list.empty() ? "" : ", ") + l;
            fmt::print(out, "    locks: {}\n", list);
        }
        if (step.rows_deleted > 0) fmt::print(out, "    rows deleted: {}\n", step.rows_deleted);
    }
    std::fflush(out);
}

void require_rollback_consent(const RollbackPreview& preview, bool yes, bool asked_already, const std::string& target) {
    if (preview.steps.empty()) return;
    const std::vector<std::string> losses = preview.data_losses();
    if (on_terminal()) {
        print_rollback_preview(stderr, preview);
        if (yes || asked_already) return;
        std::fprintf(stderr, "pgmig: roll back %zu migration%s%s? [y/N] ", preview.steps.size(),
                     preview.steps.size() == 1 ? "" : "s",
                     losses.empty()
                         ? ""
                         : fmt::format(", dropping {} object{} with data", losses.size(), losses.size() == 1 ? "" : "s")
                               .c_str());
        std::fflush(stderr);
        std::string answer;
        if (!std::getline(std::cin, answer)) answer.clear();
        while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
        if (answer == "y" || answer == "Y" || answer == "yes" || answer == "YES") return;
        throw Error(ErrorKind::rollback_not_confirmed, "rollback not confirmed", fmt::format("in {}", target),
                    "nothing was rolled back");
    }
    if (yes || losses.empty()) return;
    std::string list;
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < losses.size() && i < kShown; ++i) list += "\n  " + losses[i];
    if (losses.size() > kShown) list += fmt::format("\n  ... and {} more", losses.size() - kShown);
    throw Error(ErrorKind::rollback_not_confirmed,
                fmt::format("refused to roll back without --yes: the down scripts drop data:{}", list),
                fmt::format("in {}", target),
                "nothing was rolled back; review it with pgmig rollback --dry-run, take a backup (pgmig backup), "
                "then run the same pgmig rollback with --yes");
}

}  // namespace pgmig::client
