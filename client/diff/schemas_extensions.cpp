// Schemas and extensions.
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

void Engine::diff_schemas_extensions() {
    const std::set<std::string> keys = keys_of_kinds(from_, to_, {"schema ", "extension "});
    for (const auto& key : keys) {
        const json* a = from_.get(key);
        const json* b = to_.get(key);
        if (a != nullptr && b != nullptr && *a == *b) continue;
        const auto key_parts = split_key(key);
        const std::string& type = key_parts.first;
        const std::string& ident = key_parts.second;
        if (type == "schema") {
            if (a == nullptr || b == nullptr) {
                Step s;
                s.bucket = b_schema;
                s.subject = key;
                s.up.push_back("CREATE SCHEMA " + ident + ";");
                s.down.push_back("DROP SCHEMA " + ident + ";");
                if (a == nullptr) {
                    add(std::move(s));
                    comment_steps("SCHEMA", ident, nullptr, b, key);
                    acl_steps("SCHEMA", ident, nullptr, b, key);
                } else {
                    if (!str(*a, "comment").empty())
                        s.up.push_back("COMMENT ON SCHEMA " + ident + " IS " + literal(str(*a, "comment")) + ";");
                    append_acl_restore(s.up, "SCHEMA", ident, *a);
                    Step m = mirror(std::move(s));
                    m.destructive = true;
                    m.allow_rule = "drop-schema";
                    m.reason = "drops the schema";
                    add(std::move(m));
                }
                continue;
            }
            comment_steps("SCHEMA", ident, a, b, key);
            acl_steps("SCHEMA", ident, a, b, key);
            continue;
        }
        // extension
        auto create = [&](const json& d) {
            const std::string schema = str(d, "schema").empty() ? "" : " SCHEMA " + qi(str(d, "schema"));
            return S("CREATE EXTENSION IF NOT EXISTS ") + ident + schema + " VERSION " + literal(str(d, "version")) +
                   ";";
        };
        Step s;
        s.bucket = b_extension;
        s.subject = key;
        if (a == nullptr) {
            s.up.push_back(create(*b));
            s.down.push_back("DROP EXTENSION " + ident + ";");
            add(std::move(s));
        } else if (b == nullptr) {
            s.up.push_back(create(*a));
            s.down.push_back("DROP EXTENSION " + ident + ";");
            s.removes = "extension";  // which types it brings is not in the snapshot: any kept column may use it
            add(mirror(std::move(s)));
        } else if (str(*a, "version") != str(*b, "version")) {
            // (its schema and comment: extension_schemas.cpp)
            s.up.push_back("ALTER EXTENSION " + ident + " UPDATE TO " + literal(str(*b, "version")) + ";");
            s.down.push_back("ALTER EXTENSION " + ident + " UPDATE TO " + literal(str(*a, "version")) + ";");
            add(std::move(s));
        }
    }
}

}  // namespace pgmig::schema_diff::detail
