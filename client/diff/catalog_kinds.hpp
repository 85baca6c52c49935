// The object kinds the diff engine writes outside tables, views, routines and types: collations,
// extended statistics, operators, event triggers, publications, foreign-data wrappers, servers and
// user mappings, aggregates, extension schemas, and the comments of constraints, triggers, policies
// and extensions. Each family file (collations.cpp, statistics.cpp, operators.cpp, event_triggers.cpp,
// publications.cpp, foreign.cpp, aggregates.cpp, comments.cpp) turns two snapshots into steps;
// the engine orders them with its own (the buckets below are the engine's).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace pgmig::schema_diff::kinds {

// The engine's buckets these kinds use (client/schema_diff.cpp, enum Bucket): creations ascend, drops are
// the mirror (100 - bucket).
enum KindBucket : int {
    k_drop_changed = 15,  // a changed object dropped to be created again: with the engine's early drops
    k_wrapper = 19,       // foreign-data wrappers, then servers (sub 1): before the foreign tables
    k_collation = 21,     // with the extensions, before the types and tables that use them
    k_extension = 21,     // an extension's schema
    k_aggregate = 28,     // after the functions they call, before the views that call them
    k_operator = 28,      // the same (sub 1)
    k_statistics = 37,    // with the indexes: after the columns they read
    k_event_trigger = 45,
    k_publication = 46,
    k_comment = 48,
};

struct KindStep {
    int bucket = 0;
    int sub = 0;
    std::vector<std::string> up;
    std::vector<std::string> down;
    std::string subject;
    bool post = false;         // the non-transactional post part
    bool destructive = false;  // withheld without --allow-destructive
    std::string allow_rule;
    std::string reason;
};

struct KindsOutput {
    std::vector<KindStep> steps;
    std::vector<std::string> unsupported;  // "<key>: why"
};

using Objects = std::map<std::string_view, const nlohmann::json*, std::less<>>;  // as Snapshot::objects

// Every family; `from`/`to` are migrate_snapshot() documents indexed by key.
void diff_collations(const Objects& from, const Objects& to, KindsOutput& out);
void diff_statistics(const Objects& from, const Objects& to, KindsOutput& out);
void diff_operators(const Objects& from, const Objects& to, KindsOutput& out);
void diff_event_triggers(const Objects& from, const Objects& to, KindsOutput& out);
void diff_publications(const Objects& from, const Objects& to, KindsOutput& out);
void diff_foreign(const Objects& from, const Objects& to, KindsOutput& out);
void diff_aggregates(const Objects& from, const Objects& to, KindsOutput& out);
void diff_extension_schemas(const Objects& from, const Objects& to, KindsOutput& out);
// Comments of constraints (tables and domains) and extensions: tables, domains and extensions whose other
// fields are equal or handled elsewhere. `recreated` holds "constraint NAME on TABLE" subjects the engine
// drops and adds again (their comment must be set again).
void diff_kind_comments(const Objects& from, const Objects& to, KindsOutput& out);

inline void diff_all(const Objects& from, const Objects& to, KindsOutput& out) {
    diff_collations(from, to, out);
    diff_statistics(from, to, out);
    diff_operators(from, to, out);
    diff_event_triggers(from, to, out);
    diff_publications(from, to, out);
    diff_foreign(from, to, out);
    diff_aggregates(from, to, out);
    diff_extension_schemas(from, to, out);
    diff_kind_comments(from, to, out);
}

// Helpers the family files share.
std::string quote_literal(const std::string& text);
std::string quote_ident(const std::string& name);  // quoted only when needed
const nlohmann::json& get(const nlohmann::json& d, const char* key);
// Two descriptions that differ only in their comment (or owner, which the engine writes: security.cpp).
bool only_comment_changes(const nlohmann::json& a, const nlohmann::json& b);
// Two descriptions that differ at most in their owner (the engine writes owners: security.cpp).
bool equal_but_owner(const nlohmann::json& a, const nlohmann::json& b);
std::string text(const nlohmann::json& d, const char* key);
// Keys of both maps starting with `prefix`, sorted; each with its two sides (nullptr where absent).
std::vector<std::pair<std::string, std::pair<const nlohmann::json*, const nlohmann::json*>>> pairs(
    const Objects& from, const Objects& to, const std::string& prefix);
// COMMENT ON <what> <name> IS ...: a step from one comment to another; nothing when they are equal.
void comment_step(const std::string& what, const std::string& name, const nlohmann::json* a, const nlohmann::json* b,
                  const std::string& subject, KindsOutput& out);
// The comment of a newly created object, appended to its creation's up.
void append_comment(std::vector<std::string>& sql, const std::string& what, const std::string& name,
                    const nlohmann::json& d);
// A plain create/drop pair: created when only `to` has it, dropped (destructive only when `destructive`)
// when only `from` has it, dropped and created again when it changes.
void create_drop(const std::string& key, const nlohmann::json* a, const nlohmann::json* b, int bucket, int sub,
                 const std::vector<std::string>& create_a, const std::vector<std::string>& create_b,
                 const std::string& drop, KindsOutput& out);

}  // namespace pgmig::schema_diff::kinds
