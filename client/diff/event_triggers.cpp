// Event triggers: created after their function, with their WHEN TAG filter and enabled state; a changed
// one is dropped and created again (it holds no data).
#include "client/diff/catalog_kinds.hpp"

namespace pgmig::schema_diff::kinds {

namespace {

std::vector<std::string> create_event_trigger(const std::string& name, const nlohmann::json& d) {
    std::string sql = "CREATE EVENT TRIGGER " + name + " ON " + text(d, "event");
    const nlohmann::json& tags = get(d, "tags");
    if (tags.is_array() && !tags.empty()) {
        sql += " WHEN TAG IN (";
        for (size_t i = 0; i < tags.size(); ++i) sql += (i ? ", " : "") + quote_literal(tags[i].get<std::string>());
        sql += ")";
    }
    sql += " EXECUTE FUNCTION " + text(d, "function") + ";";
    std::vector<std::string> out{sql};
    const std::string enabled = text(d, "enabled");
    if (enabled == "D") out.push_back("ALTER EVENT TRIGGER " + name + " DISABLE;");
    if (enabled == "R") out.push_back("ALTER EVENT TRIGGER " + name + " ENABLE REPLICA;");
    if (enabled == "A") out.push_back("ALTER EVENT TRIGGER " + name + " ENABLE ALWAYS;");
    append_comment(out, "EVENT TRIGGER", name, d);
    return out;
}

}  // namespace

void diff_event_triggers(const Objects& from, const Objects& to, KindsOutput& out) {
    for (const auto& [key, ab] : pairs(from, to, "event trigger ")) {
        const auto [a, b] = ab;
        const std::string name = key.substr(std::string("event trigger ").size());
        if (a != nullptr && b != nullptr) {
            if (only_comment_changes(*a, *b)) {
                comment_step("EVENT TRIGGER", name, a, b, key, out);
                continue;
            }
        }
        create_drop(key, a, b, k_event_trigger, 0, a ? create_event_trigger(name, *a) : std::vector<std::string>{},
                    b ? create_event_trigger(name, *b) : std::vector<std::string>{}, "DROP EVENT TRIGGER " + name + ";",
                    out);
    }
}

}  // namespace pgmig::schema_diff::kinds
