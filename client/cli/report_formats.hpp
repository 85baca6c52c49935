// Writers of findings for CI: GitHub Actions workflow commands and SARIF 2.1.0 (pure; unit-tested).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// One finding of any source (files, ledger, lint, integrity), as CI formats need it.
struct ReportItem {
    std::string level;    // "error", "warning" or "note"
    std::string rule;     // e.g. "changed", "lint/drop-table", "integrity/fk-orphans"
    std::string message;  // one finding, complete on its own
    std::string file;     // a path relative to the working folder (or absolute); empty: no file
    int line = 0;         // 1-based; 0 = unknown
    int col = 0;          // 1-based; 0 = unknown
};

// A rule as SARIF lists it in tool.driver.rules.
struct ReportRule {
    std::string id;
    std::string description;
    std::string level;  // default level: "error", "warning" or "note"
};

// GitHub workflow command escaping: message data escapes % CR LF; property values also : and ,.
std::string github_escape_data(std::string_view text);
std::string github_escape_property(std::string_view text);

// One workflow command per item: "::error file=F,line=L,col=C,title=T::message" (notice for "note");
// file, line and col are left out when unknown. Ends with a newline.
std::string format_github(const std::vector<ReportItem>& items);

// A path as a SARIF artifactLocation.uri: relative paths stay relative (forward slashes), each segment
// percent-encoded (RFC 3986 unreserved characters kept); an absolute path becomes a file:// URI.
std::string sarif_uri(std::string_view path);

// A SARIF 2.1.0 log with one run of tool "pgmig" (version given), its rules (each used rule, with a
// description from `rules` when known) and one result per item. An item without a file (a finding of the
// database) is located at `anchor` (a file, no region) when one is given: GitHub code scanning rejects a
// whole log in which any result has no location.
nlohmann::json format_sarif(const std::vector<ReportItem>& items, const std::vector<ReportRule>& rules,
                            std::string_view tool_version, std::string_view anchor = {});

}  // namespace pgmig::client
