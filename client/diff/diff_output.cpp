// Rename arguments, next versions, generated migration files and the JSON report of a schema diff.
#include "client/diff/diff_output.hpp"

#include "client/core/errors.hpp"

#include "common/version.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace pgmig::client {

namespace {

// "a.b.c" -> {a, b, c}; a '.' inside double quotes belongs to the name ("s"."a.b").
std::vector<std::string> split_name(const std::string& text) {
    std::vector<std::string> parts(1);
    bool quoted = false;
    for (char c : text) {
        if (c == '"') quoted = !quoted;
        if (c == '.' && !quoted) {
            parts.emplace_back();
        } else {
            parts.back() += c;
        }
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
    return out;
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

schema_diff::Rename parse_rename(const std::string& argument, const nlohmann::json& from) {
    const auto eq = argument.find('=');
    auto bad = [&](const std::string& why) {
        return Error(ErrorKind::usage, fmt::format("bad --rename '{}': {}", argument, why), "on the command line",
                     "write --rename OLD=NEW with schema.table (a table) or schema.table.column (a column), e.g. "
                     "--rename public.users.name=full_name");
    };
    if (eq == std::string::npos) throw bad("no '='");
    std::vector<std::string> old_parts = split_name(argument.substr(0, eq));
    std::vector<std::string> new_parts = split_name(argument.substr(eq + 1));
    for (const auto& part : old_parts) {
        if (part.empty()) throw bad("an empty name in OLD");
    }
    for (const auto& part : new_parts) {
        if (part.empty()) throw bad("an empty name in NEW");
    }
    if (old_parts.size() > 3) throw bad("OLD has more than three parts");
    schema_diff::Rename rename;
    if (old_parts.size() == 1) {
        old_parts.insert(old_parts.begin(), "public");
        rename.kind = "table";
    } else if (old_parts.size() == 2) {
        const bool is_table = from.is_object() && from.contains("table " + join(old_parts));
        rename.kind = is_table ? "table" : "column";
        if (!is_table) old_parts.insert(old_parts.begin(), "public");
    } else {
        rename.kind = "column";
    }
    if (new_parts.size() > old_parts.size()) throw bad("NEW has more parts than OLD");
    // NEW takes its missing leading parts from OLD.
    std::vector<std::string> full(old_parts.begin(), old_parts.end() - static_cast<long>(new_parts.size()));
    full.insert(full.end(), new_parts.begin(), new_parts.end());
    if (rename.kind == "column" && !std::equal(full.begin(), full.end() - 1, old_parts.begin())) {
        throw bad("a column can only be renamed within its table");
    }
    rename.from = join(old_parts);
    rename.to = join(full);
    if (rename.from == rename.to) throw bad("OLD and NEW are the same");
    return rename;
}

std::string rename_argument(const schema_diff::ProbableRename& rename) {
    return fmt::format("--rename {}={}", rename.from, rename.to);
}

std::string version_plus_one(const std::string& version) {
    std::string out = version;
    for (auto it = out.rbegin(); it != out.rend(); ++it) {
        if (*it != '9') {
            ++*it;
            return out;
        }
        *it = '0';
    }
    return "1" + out;
}

std::string next_version(const std::vector<std::string>& versions, const std::string& now) {
    const bool small_numbers =
        !versions.empty() && std::all_of(versions.begin(), versions.end(),
                                         [&](const std::string& v) { return all_digits(v) && v.size() < now.size(); });
    std::string newest;
    for (const auto& v : versions) {
        if (newest.empty() || common::compare_versions(v, newest) > 0) newest = v;
    }
    if (small_numbers) return version_plus_one(newest);
    std::string version = now;
    if (!newest.empty() && common::compare_versions(newest, version) >= 0) {
        // A newer version exists (a clock behind, or a hand-made version): go past it.
        version = all_digits(newest) ? version_plus_one(newest) : version_plus_one(split_name(newest).front());
        while (common::compare_versions(version, newest) <= 0) version = version_plus_one(version);
    }
    return version;
}

std::string migration_file_text(const Provenance& provenance, const std::vector<schema_diff::Statement>& up,
                                const std::vector<schema_diff::Statement>& down,
                                const std::vector<schema_diff::Withheld>& withheld, bool transactional) {
    std::string out;
    if (!transactional) {
        out += "-- pgmig:no-transaction\n";
        out +=
            "-- Runs after the migration before it, statement by statement, outside a transaction\n"
            "-- (CREATE INDEX CONCURRENTLY and VALIDATE CONSTRAINT on existing tables).\n";
    }
    // Every piece of text from outside (names, paths, connection targets) goes through comment_text: none
    // can start a line of its own, which pgmig would read as a directive or a section marker.
    using schema_diff::comment_text;
    out += fmt::format("-- Generated by `{}` at {}\n", comment_text(provenance.command), comment_text(provenance.when));
    out += fmt::format("-- desired schema: {}\n", comment_text(provenance.desired));
    out += fmt::format("-- target: {}\n", comment_text(provenance.target));
    const auto listed = [&](bool needs_value, const char* heading) {
        bool any = false;
        for (const auto& w : withheld) {
            if (w.needs_value != needs_value) continue;
            if (!any) out += heading;
            any = true;
            out += fmt::format("--   {}: {}\n", comment_text(w.subject), comment_text(one_line(w.reason)));
        }
    };
    listed(false,
           "-- Withheld destructive steps (not in this file; run the command again with --allow-destructive):\n");
    listed(true,
           "-- Withheld NOT NULL (the column is added nullable; give it a default in the desired schema, backfill it,\n"
           "-- or run the command again with --backfill 'schema.table.column=EXPRESSION'):\n");
    out += "-- pgmig:up\n";
    out += schema_diff::render(up);
    if (!out.ends_with('\n')) out += '\n';
    out += "\n-- pgmig:down\n";
    if (down.empty() && !up.empty() && !transactional) {
        // Only VALIDATE CONSTRAINT steps: they have no reverse (the migration before drops the constraint).
        // A down section without a statement counts as no down script, which pgmig rollback refuses.
        out +=
            "-- VALIDATE CONSTRAINT has no reverse (the migration before this one drops the constraint in its down);\n"
            "-- this statement does nothing, so that pgmig rollback has a down script to run.\n"
            "DO $$ BEGIN END $$;\n";
    }
    out += schema_diff::render(down);
    if (!out.ends_with('\n')) out += '\n';
    return out;
}

namespace {

nlohmann::json statements_json(const std::vector<schema_diff::Statement>& statements) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : statements) {
        out.push_back({{"sql", s.sql}, {"subject", s.subject}, {"destructive", s.destructive}});
    }
    return out;
}

}  // namespace

// Tables whose column order differs: {"table", "live", "desired", "rebuilt", "refused"} (docs/diff.md, "Column order").
nlohmann::json column_order_json(const schema_diff::Result& result) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : result.column_order) {
        out.push_back({{"table", c.table},
                       {"live", c.live},
                       {"desired", c.desired},
                       {"rebuilt", c.rebuilt},
                       {"refused", c.refused.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.refused)}});
    }
    return out;
}

nlohmann::json result_json(const schema_diff::Result& result) {
    nlohmann::json withheld = nlohmann::json::array();
    for (const auto& w : result.withheld)
        withheld.push_back(
            {{"subject", w.subject}, {"reason", w.reason}, {"sql", w.sql}, {"needs_value", w.needs_value}});
    nlohmann::json renames = nlohmann::json::array();
    for (const auto& r : result.probable_renames) {
        renames.push_back(
            {{"kind", r.kind}, {"from", r.from}, {"to", r.to}, {"reason", r.reason}, {"argument", rename_argument(r)}});
    }
    return {
        {"differences", !result.empty()},
        {"main", {{"up", statements_json(result.main.up)}, {"down", statements_json(result.main.down)}}},
        {"post", {{"up", statements_json(result.post.up)}, {"down", statements_json(result.post.down)}}},
        {"withheld", withheld},
        {"probable_renames", renames},
        {"unsupported", result.unsupported},
        {"column_order", column_order_json(result)},
    };
}

std::string diff_sql_text(const schema_diff::Result& result) {
    std::string out = schema_diff::render(result.main.up);
    if (!result.post.up.empty()) {
        if (!out.empty() && !out.ends_with('\n')) out += '\n';
        if (!out.empty()) out += '\n';
        out +=
            "-- post part: a separate non-transactional migration (pgmig generate writes it as <version>_<name>_\n"
            "-- concurrently.sql) that runs after the statements above, outside a transaction:\n"
            "-- CREATE INDEX CONCURRENTLY / VALIDATE CONSTRAINT on existing tables\n";
        out += schema_diff::render(result.post.up);
    }
    if (!out.empty() && !out.ends_with('\n')) out += '\n';
    return out;
}

}  // namespace pgmig::client
