// Two migrate_snapshot() documents compared object by object, and the statements of a down script that drop
// something: what pgmig baseline reports when the database is not what the migrations build, and what the
// rollback of a baseline migration names before it runs. Pure C++ (no libpq), unit-tested.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pgmig::client {

// One object on which two snapshots disagree, from the point of view of `expected`.
struct ObjectDifference {
    enum class Change {
        missing,  // in expected only
        extra,    // in actual only
        changed,  // in both, described differently
    };
    Change change = Change::changed;
    std::string key;                  // the snapshot's key: "table public.orders", "index public.orders_pkey"
    std::vector<std::string> fields;  // changed: what differs ("column id: default", "column phone: missing",
                                      // "constraint orders_total_check", "comment", "definition"...)
};

// Every object the snapshots disagree on, in key order.
std::vector<ObjectDifference> compare_snapshots(const nlohmann::json& expected, const nlohmann::json& actual);

// "table public.orders (column id: default; comment)": one line; names from the database are escaped
// (control characters cannot fake lines of output).
std::string describe_difference(const ObjectDifference& difference);

// The statements of a script that drop or remove something (DROP ..., ALTER ... DROP ..., TRUNCATE, DELETE),
// each as one line: leading comments skipped, whitespace collapsed, cut after 160 characters, escaped.
std::vector<std::string> dropping_statements(const std::vector<std::string>& statements);

}  // namespace pgmig::client
