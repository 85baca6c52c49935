// Ordering: steps sorted by bucket into phases, destructive steps withheld, down in reverse.
#include "client/diff/engine.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace pgmig::schema_diff::detail {

// Views, CHECK constraints, indexes, triggers and policies that use an enum value this diff adds: PostgreSQL
// refuses the value in the transaction that added it (55P04), so they go to the post part, which runs after
// that transaction committed; so do the views over them and what is on them.
void Engine::move_new_enum_users_to_post() {
    if (new_enum_literals_.empty()) return;
    const std::set<int> movable = {b_view, b_view + 2, b_constraint, b_index, b_trigger, b_policy};
    std::set<std::string> moved;  // subjects (object keys) now in the post part
    auto uses = [&](const Step& s) {
        return std::any_of(s.up.begin(), s.up.end(), [&](const std::string& q) { return uses_new_enum_value(q); });
    };
    for (auto& s : steps_)
        if (s.phase == Phase::main && movable.count(s.bucket) != 0 && uses(s)) {
            s.phase = Phase::post;
            moved.insert(s.subject);
        }
    // what reads a moved view: views (depends_on), indexes and triggers on it, its comments and grants
    auto reads_moved = [&](const Step& s) {
        if (moved.count(s.subject) != 0) return true;
        const json* d = to_.get(s.subject);
        if (d != nullptr && field(*d, "depends_on").is_array())
            for (const auto& dep : field(*d, "depends_on"))
                if (dep.is_string() && moved.count(dep.get<std::string>()) != 0) return true;
        if (d != nullptr && s.subject.rfind("index ", 0) == 0 &&
            moved.count(relation_key(to_, index_table(str(*d, "definition")))) != 0)
            return true;
        if (s.subject.rfind("trigger ", 0) == 0 || s.subject.rfind("policy ", 0) == 0)
            return moved.count(relation_key(to_, split_on(split_key(s.subject).second).second)) != 0;
        return false;
    };
    for (bool again = true; again;) {
        again = false;
        for (auto& s : steps_)
            if (s.phase == Phase::main && s.bucket >= b_view && reads_moved(s)) {
                s.phase = Phase::post;
                again = moved.insert(s.subject).second || again;
            }
    }
}

void Engine::finish() {
    move_new_enum_users_to_post();
    std::stable_sort(steps_.begin(), steps_.end(), [](const Step& x, const Step& y) {
        if (x.bucket != y.bucket) return x.bucket < y.bucket;
        return x.sub < y.sub;
    });
    // what withheld drops keep: their columns' types and defaults
    std::vector<std::string> kept_uses;
    for (const auto& s : steps_)
        if (s.destructive && (s.withhold_always || !options_.allow_destructive))
            for (const auto& u : s.uses)
                if (!u.empty()) kept_uses.push_back(u);
    std::set<std::string> still_used;  // subjects whose removal waits for the withheld drops
    for (const auto& s : steps_) {
        if (s.removes.empty() || kept_uses.empty()) continue;
        bool used = s.removes == "extension" ||
                    std::any_of(kept_uses.begin(), kept_uses.end(),
                                [&](const std::string& u) { return u.find(s.removes) != std::string::npos; });
        if (used) still_used.insert(s.subject);
    }
    // column-order rebuilds that would undo a withheld step of their table or race a post one (column_order.cpp)
    std::vector<const Step*> held;
    std::vector<const Step*> post;
    for (const auto& s : steps_) {
        if (s.destructive && (s.withhold_always || !options_.allow_destructive))
            held.push_back(&s);
        else if (s.phase == Phase::post)
            post.push_back(&s);
    }
    const std::set<std::string> refused_rebuilds = rebuilds_to_refuse(held, post);
    std::set<std::string> reported;
    std::vector<const Step*> emitted;
    for (const auto& s : steps_) {
        if (s.up.empty() && s.down.empty()) continue;
        if (!s.rebuilds.empty() && refused_rebuilds.count(s.rebuilds) != 0) continue;
        if (!s.removes.empty() && still_used.count(s.subject) != 0) {
            if (reported.insert(s.subject).second) {
                std::string sql;
                for (const auto& u : s.up) sql += (sql.empty() ? "" : "\n") + u;
                result_.withheld.push_back(
                    {s.subject, "still used by a column or table whose drop is withheld; it goes with them", sql});
            }
            continue;
        }
        if (s.needs_value || (s.destructive && (s.withhold_always || !options_.allow_destructive))) {
            std::string sql;
            for (const auto& u : s.up) sql += (sql.empty() ? "" : "\n") + u;
            result_.withheld.push_back({s.subject, s.reason, sql, s.needs_value});
            continue;
        }
        emitted.push_back(&s);
    }
    bool functions = false;
    for (const Step* s : emitted) {
        Migration& m = s->phase == Phase::main ? result_.main : result_.post;
        for (size_t i = 0; i < s->up.size(); ++i) {
            std::string sql = s->up[i];
            if (i == 0 && s->destructive && !s->allow_rule.empty())
                sql = S("-- pgmig diff: ") + comment_text(s->reason) + "\n-- pgmig:allow " + s->allow_rule + "\n" + sql;
            if (s->phase == Phase::main && sql.find("CREATE OR REPLACE FUNCTION") != std::string::npos)
                functions = true;
            if (s->phase == Phase::main && sql.find("CREATE OR REPLACE PROCEDURE") != std::string::npos)
                functions = true;
            m.up.push_back({sql, s->subject, s->phase, s->destructive});
        }
    }
    for (auto it = emitted.rbegin(); it != emitted.rend(); ++it) {
        const Step* s = *it;
        Migration& m = s->phase == Phase::main ? result_.main : result_.post;
        for (const auto& d : s->down) {
            if (s->phase == Phase::main && d.find("CREATE OR REPLACE FUNCTION") != std::string::npos) functions = true;
            if (s->phase == Phase::main && d.find("CREATE OR REPLACE PROCEDURE") != std::string::npos) functions = true;
            m.down.push_back({d, s->subject, s->phase, false});
        }
    }
    if (functions) {
        // like pg_dump: function bodies are checked when they run, so their order against tables is free
        Statement guc{"SET LOCAL check_function_bodies = off;", "setting check_function_bodies", Phase::main, false};
        if (!result_.main.up.empty()) result_.main.up.insert(result_.main.up.begin(), guc);
        if (!result_.main.down.empty()) result_.main.down.insert(result_.main.down.begin(), guc);
    }
}

}  // namespace pgmig::schema_diff::detail
