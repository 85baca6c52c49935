// Publications (logical replication): created after their tables, dropped before them; a changed one is
// written with ALTER PUBLICATION (its table list, options), so that subscriptions keep it.
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

// "TABLE t (a, b) WHERE (...)", "TABLES IN SCHEMA s" items of FOR / SET
std::string publication_objects(const nlohmann::json& d) {
    std::string items;
    const nlohmann::json& tables = get(d, "tables");
    if (tables.is_array())
        for (const auto& t : tables) {
            std::string item = "TABLE " + text(t, "table");
            const nlohmann::json& cols = get(t, "columns");
            if (cols.is_array() && !cols.empty()) {
                item += " (";
                for (size_t i = 0; i < cols.size(); ++i)
                    item += (i ? ", " : "") + quote_ident(cols[i].get<std::string>());
                item += ")";
            }
            if (!text(t, "where").empty()) item += " WHERE " + text(t, "where");
            items += (items.empty() ? "" : ", ") + item;
        }
    const nlohmann::json& schemas = get(d, "schemas");
    if (schemas.is_array())
        for (const auto& s : schemas)
            items += (items.empty() ? "" : ", ") + ("TABLES IN SCHEMA " + quote_ident(s.get<std::string>()));
    return items;
}

std::string publication_options(const nlohmann::json& d) {
    std::string publish;
    const nlohmann::json& p = get(d, "publish");
    if (p.is_array())
        for (const auto& x : p) publish += (publish.empty() ? "" : ", ") + x.get<std::string>();
    const nlohmann::json& root = get(d, "via_root");
    return "publish = " + quote_literal(publish) +
           ", publish_via_partition_root = " + (root.is_boolean() && root.get<bool>() ? "true" : "false");
}

std::vector<std::string> create_publication(const std::string& name, const nlohmann::json& d) {
    std::string sql = "CREATE PUBLICATION " + name;
    const nlohmann::json& all = get(d, "all_tables");
    if (all.is_boolean() && all.get<bool>()) {
        sql += " FOR ALL TABLES";
    } else if (!publication_objects(d).empty()) {
        sql += " FOR " + publication_objects(d);
    }
    std::vector<std::string> out{sql + " WITH (" + publication_options(d) + ");"};
    append_comment(out, "PUBLICATION", name, d);
    return out;
}

// ALTER PUBLICATION from a to b (both without FOR ALL TABLES, which cannot be altered)
std::vector<std::string> alter_publication(const std::string& name, const nlohmann::json& a, const nlohmann::json& b) {
    std::vector<std::string> out;
    if (publication_options(a) != publication_options(b))
        out.push_back("ALTER PUBLICATION " + name + " SET (" + publication_options(b) + ");");
    if (publication_objects(a) != publication_objects(b)) {
        if (publication_objects(b).empty()) {
            // SET needs at least one object: drop what a has
            std::string items = publication_objects(a);
            // (column lists and WHERE clauses are not part of DROP)
            std::string drop;
            for (const auto& t : get(a, "tables")) drop += (drop.empty() ? "" : ", ") + ("TABLE " + text(t, "table"));
            for (const auto& s : get(a, "schemas"))
                drop += (drop.empty() ? "" : ", ") + ("TABLES IN SCHEMA " + quote_ident(s.get<std::string>()));
            out.push_back("ALTER PUBLICATION " + name + " DROP " + drop + ";");
        } else {
            out.push_back("ALTER PUBLICATION " + name + " SET " + publication_objects(b) + ";");
        }
    }
    return out;
}

}  // namespace

void diff_publications(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "publication ")) {
        const auto [a, b] = ab;
        const std::string name = key.substr(std::string("publication ").size());
        if (a != nullptr && b != nullptr) {
            if (*a == *b) continue;
            auto all = [](const nlohmann::json& d) { return get(d, "all_tables").is_boolean(); };
            if (all(*a) == all(*b)) {
                KindStep s;
                s.bucket = k_publication;
                s.subject = key;
                s.up = alter_publication(name, *a, *b);
                s.down = alter_publication(name, *b, *a);
                if (!s.up.empty()) out.steps.push_back(std::move(s));
                comment_step("PUBLICATION", name, a, b, key, out);
                continue;
            }
        }
        create_drop(key, a, b, k_publication, 0, a ? create_publication(name, *a) : std::vector<std::string>{},
                    b ? create_publication(name, *b) : std::vector<std::string>{}, "DROP PUBLICATION " + name + ";",
                    out);
    }
}

}  // namespace pgmig::schema_diff::kinds
