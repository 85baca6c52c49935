// migrate_check_integrity() from the client: reading its findings, and what changed between two reports.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

class Connection;

struct IntegrityFinding {
    std::string problem;   // not-valid-constraint, fk-orphans, invalid-index, sequence-behind, ...
    std::string severity;  // "error" or "warning"
    std::string object;
    std::string detail;
    std::optional<long long> count;
    std::optional<std::string> sample;

    // Two reports speak of the same problem when problem and object are the same (count may move).
    bool same_problem(const IntegrityFinding& other) const {
        return problem == other.problem && object == other.object;
    }
};

// Runs migrate_check_integrity() on conn (outside or inside the caller's transaction); throws
// client::Error naming `where` when the server refuses (e.g. permission denied).
std::vector<IntegrityFinding> read_integrity(const Connection& conn, const std::string& where);

struct IntegrityDiff {
    std::vector<IntegrityFinding> added;     // in `after` only
    std::vector<IntegrityFinding> resolved;  // in `before` only
    std::vector<std::pair<IntegrityFinding, IntegrityFinding>> changed;  // same problem, other severity or count
};

IntegrityDiff diff_integrity(const std::vector<IntegrityFinding>& before, const std::vector<IntegrityFinding>& after);

bool has_integrity_errors(const std::vector<IntegrityFinding>& findings);

nlohmann::json integrity_json(const IntegrityFinding& f);

// "problem object: detail" on one line, for text output.
std::string integrity_line(const IntegrityFinding& f);

}  // namespace pgmig::client
