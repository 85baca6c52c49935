// The schema of a relocatable extension: ALTER EXTENSION ... SET SCHEMA (its version is the engine's
// extension step, CREATE EXTENSION ... SCHEMA for a new one).
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

void diff_extension_schemas(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "extension ")) {
        const auto [a, b] = ab;
        if (a == nullptr || b == nullptr) continue;
        const std::string name = key.substr(std::string("extension ").size());
        const std::string sa = text(*a, "schema");
        const std::string sb = text(*b, "schema");
        if (sa != sb && !sa.empty() && !sb.empty()) {
            KindStep s;
            s.bucket = k_extension;
            s.sub = 1;
            s.subject = key;
            s.up.push_back("ALTER EXTENSION " + name + " SET SCHEMA " + quote_ident(sb) + ";");
            s.down.push_back("ALTER EXTENSION " + name + " SET SCHEMA " + quote_ident(sa) + ";");
            out.steps.push_back(std::move(s));
        }
        comment_step("EXTENSION", name, a, b, key, out);
    }
}

}  // namespace pgmig::schema_diff::kinds
