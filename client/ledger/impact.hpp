// The impact of a pending migration: what its dry run touches, what depends on those objects in the live
// catalog (pg_depend), and which tracked bugs of the project's bugs file relate to it. Shared by pgmig impact,
// the summaries of validate and deploy, and the approval request.
#pragma once

#include "client/core/db.hpp"
#include "client/ledger/migration_files.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// The dry run of the pending migrations of `files` up to `target` (nullopt: all), as pgmig plan runs it:
// registered and rehearsed by migrate_plan() in one transaction that is always rolled back. One JSON object per
// migration, as pgmig plan --json prints them. Defined in commands/plan.cpp.
nlohmann::json rehearse_pending(const Connection& conn, const std::vector<MigrationFile>& files,
                                const std::optional<std::string>& target, const std::string& dir);

// One entry of a bugs file: a heading `## BUG-12: orders total is wrong` and the text under it.
struct Bug {
    std::string id;     // "BUG-12", as written
    std::string title;  // "orders total is wrong"
    std::string text;   // the heading's title and the lines under it, up to the next heading of its level or above
    int line = 0;       // line of the heading in the file
};

// Parses a bugs file's content (Markdown): every heading whose text starts with an id followed by ':'.
std::vector<Bug> parse_bugs(std::string_view content);

// The bugs file of ./pgmig.toml (`bugs = "bugs.md"`), read and parsed; nullopt when the key is not set.
// Error(input) naming the file when it is set but cannot be read.
struct BugsFile {
    std::string path;
    std::vector<Bug> bugs;
};
std::optional<BugsFile> load_bugs_file();

// The names an object identity is looked up by: "public.orders" gives "public.orders" and "orders"; a
// function's arguments are dropped; "trg on public.t" gives the trigger's and the table's names.
std::vector<std::string> lookup_names(std::string_view identity);

// Whether `name` occurs in `text` as a word (case-insensitive; identifier characters do not continue it on
// either side). A bare name preceded by '.' is another schema's object and does not count.
bool names_word(std::string_view text, std::string_view name);

// The bugs related to a migration: those whose id is among `refs` (its -- pgmig:refs), and those whose
// text names one of `identities` (schema-qualified or bare). JSON array of {id, title, line, reasons[]}.
nlohmann::json related_bugs(const std::vector<Bug>& bugs, const std::vector<std::string>& refs,
                            const std::vector<std::string>& identities);

// The -- pgmig:refs ids of a migration file.
std::vector<std::string> refs_of(const MigrationFile& file);

// What depends, in the live catalog (pg_depend), on the relations and functions named (identities as the
// dry run reports them): views and materialized views (also views of those views), functions, triggers,
// foreign keys of other tables and policies. JSON array of {type, identity, on}. Search-path safe.
nlohmann::json dependents_of(const Connection& conn, const std::vector<std::string>& relations,
                             const std::vector<std::string>& functions);

// The impact of the migrations a dry run reported (migrate_plan rows as pgmig plan --json writes them):
// each gets "dependents" and, when a bugs file is set, "bugs". `files` supplies the refs.
struct ImpactInput {
    nlohmann::json plan;  // one migrate_plan row as JSON: version, name, outcome, reason, rewritten, catalog_diff...
    const MigrationFile* file = nullptr;
};
nlohmann::json impact_report(const Connection& conn, const ImpactInput& input, const std::optional<BugsFile>& bugs);

// The touched object identities of a plan row: added, removed and changed objects and rewritten tables.
std::vector<std::string> touched_identities(const nlohmann::json& plan);

// A few lines (each starting with `indent`) summing up an impact report: touched, dependents, related bugs.
std::string impact_summary(const nlohmann::json& report, const std::string& indent);

// The impact of every pending migration of `files`, rehearsed once (for validate and deploy). Never throws for
// what stops the rehearsal (a changed applied file, a lock, a permission): status says why it was skipped.
struct PendingImpact {
    std::string status;                                   // "checked", or "skipped (...)"
    nlohmann::json migrations = nlohmann::json::array();  // impact_report() of each pending migration
};
PendingImpact pending_impact(const Connection& conn, const std::vector<MigrationFile>& files, const std::string& dir);

// The last pending_impact() of this run (deploy reads what its validate step computed); empty before any.
const PendingImpact& last_pending_impact();

// The related bugs of a pending impact, once each: "BUG-7 (invoices round half down; 2_orders)", ...
std::vector<std::string> related_bug_lines(const PendingImpact& impact);

}  // namespace pgmig::client
