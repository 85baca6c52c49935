// [fleets.NAME] of pgmig.toml: the databases one `pgmig deploy --fleet NAME` rolls the migrations out to,
// and how: waves (a canary first), parallelism, the failures after which a wave halts, pauses between
// waves. Targets are listed, found on servers by a database-name pattern, or returned by a query on a
// directory database. No password is ever written here (libpq finds it in ~/.pgpass or a service file).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client::fleet {

// max_failures: a count of targets, or a percentage of the wave's targets ("10%").
struct FailureLimit {
    int value = 0;
    bool percent = false;
    // The number of failed targets a wave of `wave_size` targets tolerates: the wave halts at one more.
    int allowed(int wave_size) const { return percent ? value * wave_size / 100 : value; }
    std::string text() const { return percent ? std::to_string(value) + "%" : std::to_string(value); }
};

using Labels = std::map<std::string, std::string>;

// One database of the fleet.
struct FleetTarget {
    std::string name;      // unique in the fleet: given, else host:port/dbname from the connection string
    std::string conninfo;  // a connection string or URI, without a password
    Labels labels;
};

// [[fleets.NAME.servers]]: every database of a server whose name matches a LIKE pattern.
struct ServerSource {
    std::string conninfo;        // the server (its dbname, if any, is where pg_database is read)
    std::string databases = "%"; // LIKE pattern on pg_database.datname (templates and datallowconn = false never)
    Labels labels;               // given to every database found there
};

// [fleets.NAME.directory]: a query on a directory database returning the targets: a column `conninfo`
// (required), `name` (optional); every other column becomes a label.
struct DirectorySource {
    std::string conninfo;
    std::string query;
};

// [[fleets.NAME.waves]]: which targets a wave takes from those no earlier wave took.
struct WaveSpec {
    std::string name;
    std::optional<int> count;    // at most this many
    std::optional<int> percent;  // at most this share of the whole fleet (rounded up)
    Labels labels;               // only targets with all these labels
    std::optional<int> parallel;
    std::optional<FailureLimit> max_failures;
    // After the wave: continue; pause (the run stops; --resume goes on); approval (the run stops, and every
    // later wave requires the environment's approvals, which pgmig fleet approve records in every target).
    std::string then = "continue";
};

// [[fleets.NAME.replication]]: a logical-replication publication between targets of the fleet. DDL is not
// replicated, so the run orders the group's targets: changes that add (tables, columns, indexes, NOT NULL
// dropped) reach the subscribers before the publisher, changes that remove (drops, NOT NULL set) reach the
// publisher first; a plan it cannot order safely is refused, saying why (client/ops/fleet/replication.hpp).
struct ReplicationGroup {
    std::string publication;               // its name, for messages
    std::string publisher;                 // a target's name
    std::vector<std::string> subscribers;  // targets' names
};

struct Fleet {
    std::string name;
    std::string environment;  // [environments.NAME] whose policy every target runs under (approval, lint, alerts)
    int parallel = 4;         // default of every wave
    int per_server = 0;       // at most this many targets of one server (host:port) at a time; 0 = no limit
    FailureLimit max_failures;  // default of every wave: 0 = the first failure halts
    long connect_timeout_ms = 15'000;
    bool drift_check = true;  // migrate_drift() before and after migrating each target (false: neither)
    std::vector<FleetTarget> targets;  // targets = [...]
    std::vector<ServerSource> servers;
    std::optional<DirectorySource> directory;
    std::vector<WaveSpec> waves;  // none: one wave of every target
    std::vector<ReplicationGroup> replication;
};

}  // namespace pgmig::client::fleet
