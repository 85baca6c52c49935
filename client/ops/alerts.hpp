// Alerts: webhook (HMAC-signed JSON or a Slack payload) and email (SMTP) deliveries of pgmig's events, with
// per-attempt timeouts and bounded retries. A failed delivery is reported and returned, never thrown.
#pragma once

#include "client/core/config.hpp"

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

// The database an event is about; never a password.
struct AlertDatabase {
    std::string host;
    std::string port;
    std::string dbname;
    std::string user;
};

// What happened. `event` is one of kAlertEvents ("test" for `pgmig alert test`).
struct AlertEvent {
    std::string event;
    std::string environment;            // environment name; "" when none (-d without --env)
    AlertDatabase database;
    std::vector<std::string> versions;  // migrations concerned (applied, rolled back, pending approval...)
    std::optional<double> duration_s;
    std::string error;                  // the failure, one line, for *_failed events
    nlohmann::json drift = nlohmann::json::array();   // drift objects (drift_detected)
    nlohmann::json extra = nlohmann::json::object();  // anything else the caller wants the receiver to have
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
};

// The outcome for one target.
struct Delivery {
    std::string target;    // the [alerts.NAME] name (never the URL: it may be a secret)
    std::string kind;      // "webhook" or "email"
    bool delivered = false;
    bool skipped = false;  // the target does not subscribe to this event (nothing was sent)
    int attempts = 0;
    std::string error;     // the last attempt's reason when not delivered
    double seconds = 0;    // time spent, waits included
};

// Sends `event` to the named targets of `config` that subscribe to it (their `events`; a "test" event goes to
// every target named). Each target is tried once plus its `retries`, each attempt bounded by its `timeout`,
// waiting `retry_wait` (doubled each time) between attempts; so a target takes at most
// (retries + 1) × timeout + the waits. Retried: connection failures, timeouts, HTTP 429 and 5xx, SMTP 4xx;
// not retried: other HTTP statuses, refused SMTP logins, missing secrets. Never throws for a delivery failure:
// each one is printed on stderr as
//   pgmig: warning: alert '<target>' not delivered after N attempts: <reason>
// and returned, so that the caller can record it (e.g. in its audit log line). Unknown target names throw
// Error(input). `quiet` leaves out the per-retry notes on stderr (the final warning is always printed).
std::vector<Delivery> send_alerts(const ProjectConfig& config, const std::vector<std::string>& targets,
                                  const AlertEvent& event, bool quiet = false);

// Throws Error(input) naming the first name that is not an [alerts.NAME] of `config` (and the known ones).
void require_alert_targets(const ProjectConfig& config, const std::vector<std::string>& targets);

// The same for an environment's `alerts`.
std::vector<Delivery> send_alerts(const ProjectConfig& config, const Environment& env, const AlertEvent& event,
                                  bool quiet = false);

// [{"target", "kind", "delivered", "skipped", "attempts", "error", "seconds"}...] for audit log lines and --json.
nlohmann::json deliveries_json(const std::vector<Delivery>& deliveries);

// True when every delivery was delivered or skipped.
bool all_delivered(const std::vector<Delivery>& deliveries);

// The database of a connection string (host, port, dbname, user; libpq's PG* variables fill what it lacks).
// Never the password. An unparsable string gives an empty AlertDatabase (the string is not echoed).
AlertDatabase alert_database_from_conninfo(const std::string& conninfo);

// The database of an open (or failed) libpq connection: host, port, dbname, user as libpq resolved them.
AlertDatabase alert_database_from_connection(const PGconn* conn);

// ---- building blocks, exposed for unit tests --------------------------------------------------------------

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The value of X-Pgmig-Signature: "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body), where timestamp
// is the X-Pgmig-Timestamp header (Unix seconds). Signing the timestamp lets a receiver refuse replays.
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

// pgmig's JSON payload: {"event", "environment", "database", "versions", "duration_s", "error", "drift",
// "extra", "time", "summary", "pgmig_version"}.
nlohmann::json webhook_payload(const AlertEvent& event);

// A Slack-compatible payload (incoming webhooks): {"text": summary, "blocks": [...]}.
nlohmann::json slack_payload(const AlertEvent& event);

// One line: "pgmig: deploy failed in production (db app on db1:5432): <error>".
std::string alert_summary(const AlertEvent& event);

// The subscription rule: a target with no `events` takes every event; "test" goes to every target.
bool target_wants(const AlertTarget& target, std::string_view event);

// Whether an HTTP status is worth another attempt (429 and 5xx).
bool retryable_http_status(long status);

// An RFC 5322 message (CRLF line ends): Date, From, To, Subject, Message-ID, MIME headers, a text body.
std::string email_message(const AlertTarget& target, const AlertEvent& event, const std::string& message_id);

// `text` with `url`, its path (with and without the query) and its query replaced by "<url>": a webhook URL's
// path or query is often its secret (Slack), and a receiver's error page or libcurl may echo it.
std::string without_url(std::string text, const std::string& url);

// "2026-11-24T16:05:00Z"
std::string iso8601_utc(std::chrono::system_clock::time_point time);

}  // namespace pgmig::client
