// GitHub Actions workflow commands and SARIF 2.1.0 from pgmig's findings.
#include "client/cli/report_formats.hpp"

#include <fmt/core.h>

#include <map>

namespace pgmig::client {

namespace {

void escape_into(std::string& out, char c, bool property) {
    switch (c) {
        case '%': out += "%25"; break;
        case '\r': out += "%0D"; break;
        case '\n': out += "%0A"; break;
        case ':':
            if (property) {
                out += "%3A";
            } else {
                out.push_back(c);
            }
            break;
        case ',':
            if (property) {
                out += "%2C";
            } else {
                out.push_back(c);
            }
            break;
        default: out.push_back(c);
    }
}

std::string escape(std::string_view text, bool property) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) escape_into(out, c, property);
    return out;
}

std::string github_command(std::string_view level) {
    if (level == "error") return "error";
    if (level == "warning") return "warning";
    return "notice";
}

std::string sarif_level(std::string_view level) {
    if (level == "error" || level == "warning") return std::string(level);
    return "note";
}

}  // namespace

std::string github_escape_data(std::string_view text) { return escape(text, false); }

std::string github_escape_property(std::string_view text) { return escape(text, true); }

std::string format_github(const std::vector<ReportItem>& items) {
    std::string out;
    for (const auto& item : items) {
        std::string props;
        auto add = [&props](std::string_view key, std::string_view value) {
            if (!props.empty()) props += ',';
            props += fmt::format("{}={}", key, github_escape_property(value));
        };
        if (!item.file.empty()) {
            add("file", item.file);
            if (item.line > 0) add("line", std::to_string(item.line));
            if (item.line > 0 && item.col > 0) add("col", std::to_string(item.col));
        }
        add("title", "pgmig " + item.rule);
        out += fmt::format("::{} {}::{}\n", github_command(item.level), props, github_escape_data(item.message));
    }
    return out;
}

std::string sarif_uri(std::string_view path) {
    std::string out;
    std::string_view rest = path;
    if (!path.empty() && path.front() == '/') out = "file://";
    for (char c : rest) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (unreserved) {
            out.push_back(c);
        } else if (c == '\\') {
            out.push_back('/');
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned>(u));
        }
    }
    // "./a.sql" and "a.sql" are the same file; code scanning matches the plain form.
    while (out.rfind("./", 0) == 0) out.erase(0, 2);
    return out;
}

nlohmann::json format_sarif(const std::vector<ReportItem>& items, const std::vector<ReportRule>& rules,
                            std::string_view tool_version, std::string_view anchor) {
    using nlohmann::json;
    // Every rule a result names, in first-use order, so that ruleIndex points at it.
    std::vector<std::string> used;
    std::map<std::string, std::size_t> index;
    for (const auto& item : items) {
        if (index.emplace(item.rule, used.size()).second) used.push_back(item.rule);
    }
    json driver_rules = json::array();
    for (const auto& id : used) {
        json rule = {{"id", id}};
        std::string level;
        for (const auto& known : rules) {
            if (known.id != id) continue;
            rule["shortDescription"] = {{"text", known.description}};
            level = known.level;
        }
        if (!rule.contains("shortDescription")) rule["shortDescription"] = {{"text", id}};
        if (!level.empty()) rule["defaultConfiguration"] = {{"level", sarif_level(level)}};
        driver_rules.push_back(std::move(rule));
    }
    json results = json::array();
    for (const auto& item : items) {
        json result = {{"ruleId", item.rule},
                       {"ruleIndex", index.at(item.rule)},
                       {"level", sarif_level(item.level)},
                       {"message", {{"text", item.message}}}};
        if (item.file.empty() && !anchor.empty()) {
            result["locations"] =
                json::array({{{"physicalLocation", {{"artifactLocation", {{"uri", sarif_uri(anchor)}}}}}}});
        } else if (!item.file.empty()) {
            json physical = {{"artifactLocation", {{"uri", sarif_uri(item.file)}}}};
            if (item.line > 0) {
                json region = {{"startLine", item.line}};
                if (item.col > 0) region["startColumn"] = item.col;
                physical["region"] = std::move(region);
            }
            result["locations"] = json::array({{{"physicalLocation", std::move(physical)}}});
        }
        results.push_back(std::move(result));
    }
    json driver = {{"name", "pgmig"},
                   {"version", std::string(tool_version)},
                   {"informationUri", "https://pgxn.org/dist/pgmig/"},
                   {"rules", std::move(driver_rules)}};
    return json{{"$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"},
                {"version", "2.1.0"},
                {"runs", json::array({{{"tool", {{"driver", std::move(driver)}}}, {"results", std::move(results)}}})}};
}

}  // namespace pgmig::client
