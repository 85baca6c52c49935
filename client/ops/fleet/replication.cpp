// Ordering a replication group's targets (replication.hpp).
#include "client/ops/fleet/replication.hpp"

#include "client/core/errors.hpp"
#include "client/ledger/project.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace pgmig::client::fleet {

namespace {

// The statement without leading comments and blanks, upper-cased, cut to `limit` characters.
std::string head_of(const std::string& statement, std::size_t limit) {
    std::size_t i = 0;
    while (i < statement.size()) {
        if (std::isspace(static_cast<unsigned char>(statement[i])) != 0) {
            ++i;
        } else if (statement.compare(i, 2, "--") == 0) {
            i = statement.find('\n', i);
            if (i == std::string::npos) return {};
        } else if (statement.compare(i, 2, "/*") == 0) {
            i = statement.find("*/", i);
            if (i == std::string::npos) return {};
            i += 2;
        } else {
            break;
        }
    }
    std::string out;
    for (; i < statement.size() && out.size() < limit; ++i) {
        const char c = statement[i];
        out += std::isspace(static_cast<unsigned char>(c)) != 0 ? ' '
                                                                 : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string first_word(const std::string& head) { return head.substr(0, head.find(' ')); }

}  // namespace

const char* order_name(ReplicationOrder order) {
    return order == ReplicationOrder::subscribers_first ? "subscribers first" : "publisher first";
}

MigrationEffect classify(const std::vector<std::string>& statements, const std::vector<std::string>& lint_rules) {
    MigrationEffect effect;
    for (const std::string& statement : statements) {
        const std::string head = head_of(statement, 200);
        const std::string word = first_word(head);
        const std::string shown = head.substr(0, 60);
        if (word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "MERGE" || word == "COPY" ||
            word == "TRUNCATE") {
            effect.refused.push_back(fmt::format("changes rows ({}...): rows reach the subscribers by replication, so it "
                                                 "would run twice there",
                                                 shown));
        } else if (word == "CREATE") {
            effect.adds.push_back(shown);
        } else if (word == "DROP") {
            effect.removes.push_back(shown);
        } else if (word == "ALTER" && (head.find(" ADD ") != std::string::npos)) {
            effect.adds.push_back(shown);
        }
    }
    for (const std::string& rule : lint_rules) {
        if (rule == "drop-column" || rule == "drop-table" || rule == "drop-schema" || rule == "set-not-null") {
            effect.removes.push_back(rule);
        } else if (rule == "drop-not-null") {
            effect.adds.push_back(rule);
        } else if (rule == "rename-column" || rule == "rename-table") {
            effect.refused.push_back(fmt::format("{}: subscribers match columns and tables by name, so neither order "
                                                 "keeps replication running (add the new name, copy, then drop the old "
                                                 "one, in separate migrations)",
                                                 rule));
        } else if (rule == "alter-column-type") {
            effect.refused.push_back(
                "alter-column-type: a wider type must reach the subscribers first and a narrower one the publisher "
                "first, which pgmig cannot tell (add a column of the new type, backfill, then drop the old one)");
        }
    }
    return effect;
}

GroupOrder order_group(const Connection& publisher, const ReplicationGroup& group,
                       const std::vector<MigrationFile>& files) {
    const std::string where = fmt::format("ordering publication {} (publisher {}, in {})", group.publication,
                                          group.publisher, publisher.target());
    Result applied = publisher.exec(
        "SELECT m.version FROM pgmig.migrations m WHERE m.version IS NOT NULL AND m.applied_at IS NOT NULL");
    if (!applied.ok()) throw_server_error(applied.error(), where, "nothing was deployed");
    std::set<std::string> done;
    for (int i = 0; i < applied.rows(); ++i) done.insert(applied.get(i, 0));
    GroupOrder out;
    std::vector<std::string> adding, removing;
    for (const MigrationFile& f : files) {
        if (!f.repeatable() && done.contains(f.version)) continue;
        Result statements = publisher.exec_params("SELECT s.statement FROM pgmig.split_statements($1) s ORDER BY s.n", {f.up_sql});
        Result lint = publisher.exec_params("SELECT l.rule FROM migrate_lint($1) l WHERE NOT l.waived", {f.up_sql});
        if (!statements.ok()) throw_server_error(statements.error(), where + ", reading " + f.label(), "nothing was deployed");
        if (!lint.ok()) throw_server_error(lint.error(), where + ", linting " + f.label(), "nothing was deployed");
        std::vector<std::string> texts, rules;
        for (int i = 0; i < statements.rows(); ++i) texts.push_back(statements.get(i, 0));
        for (int i = 0; i < lint.rows(); ++i) rules.push_back(lint.get(i, 0));
        const MigrationEffect effect = classify(texts, rules);
        const std::string next = "nothing was deployed; change the migration as the message says, or deploy this "
                                 "publication's databases by hand (pgmig apply, one at a time, in the order it needs)";
        if (!effect.refused.empty()) {
            throw Error(ErrorKind::replication_unordered,
                        fmt::format("migration {} cannot be ordered for publication {}: {}", f.label(),
                                    group.publication, effect.refused.front()),
                        where + ", file " + f.path.string(), next);
        }
        if (!effect.adds.empty() && !effect.removes.empty()) {
            throw Error(ErrorKind::replication_unordered,
                        fmt::format("migration {} both adds ({}) and removes ({}): additions must reach the "
                                    "subscribers of publication {} first and removals its publisher first",
                                    f.label(), effect.adds.front(), effect.removes.front(), group.publication),
                        where + ", file " + f.path.string(), "split it into two migrations; " + next);
        }
        if (!effect.adds.empty()) adding.push_back(f.label());
        if (!effect.removes.empty()) removing.push_back(f.label());
    }
    if (!adding.empty() && !removing.empty()) {
        throw Error(ErrorKind::replication_unordered,
                    fmt::format("the pending migrations of publication {} add ({}) and remove ({}): no order of "
                                "its databases fits both",
                                group.publication, fmt::join(adding, ", "), fmt::join(removing, ", ")),
                    where, "deploy the additions first (pgmig deploy --fleet with the files up to them), then the rest");
    }
    if (!removing.empty()) {
        out.order = ReplicationOrder::publisher_first;
        out.why = fmt::format("{} remove{}", fmt::join(removing, ", "), removing.size() == 1 ? "s" : "");
    } else {
        out.why = adding.empty() ? std::string("nothing adds or removes")
                                 : fmt::format("{} add{}", fmt::join(adding, ", "), adding.size() == 1 ? "s" : "");
    }
    return out;
}

}  // namespace pgmig::client::fleet
