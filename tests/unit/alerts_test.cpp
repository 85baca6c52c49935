// Unit tests of client/alerts: the HMAC signature, the payloads, the email message and the retry rules.
#include "client/ops/alerts.hpp"
#include "client/core/errors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace pgmig::client;

namespace {

AlertEvent sample_event() {
    AlertEvent e;
    e.event = "deploy_failed";
    e.environment = "production";
    e.database = {"db1.example.com", "5432", "app", "deployer"};
    e.versions = {"3", "4"};
    e.duration_s = 12.25;
    e.error = "migration 4 \"orders\" failed: relation \"x\" does not exist";
    e.time = std::chrono::system_clock::from_time_t(1795536000);  // 2026-11-24T16:00:00Z
    return e;
}

}  // namespace

TEST(AlertHmac, Rfc4231TestCase2) {
    EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AlertHmac, SignatureCoversTimestampAndBody) {
    const std::string sig = webhook_signature("k3y", "1700000000", R"({"a":1})");
    EXPECT_EQ(sig, "sha256=" + hmac_sha256_hex("k3y", R"(1700000000.{"a":1})"));
    EXPECT_NE(sig, webhook_signature("k3y", "1700000001", R"({"a":1})"));  // a replay with a new timestamp fails
    EXPECT_NE(sig, webhook_signature("k3y", "1700000000", R"({"a":2})"));
    EXPECT_NE(sig, webhook_signature("other", "1700000000", R"({"a":1})"));
}

TEST(AlertPayload, JsonHasEveryField) {
    const auto p = webhook_payload(sample_event());
    EXPECT_EQ(p["event"], "deploy_failed");
    EXPECT_EQ(p["environment"], "production");
    EXPECT_EQ(p["database"]["host"], "db1.example.com");
    EXPECT_EQ(p["database"]["dbname"], "app");
    EXPECT_EQ(p["database"]["user"], "deployer");
    EXPECT_FALSE(p["database"].contains("password"));
    EXPECT_EQ(p["versions"], nlohmann::json::array({"3", "4"}));
    EXPECT_DOUBLE_EQ(p["duration_s"].get<double>(), 12.25);
    EXPECT_EQ(p["time"], "2026-11-24T16:00:00Z");
    EXPECT_TRUE(p["drift"].is_array());
    EXPECT_TRUE(p["extra"].is_object());
    EXPECT_EQ(p["pgmig_version"], PGMIG_VERSION);
    EXPECT_EQ(p["summary"],
              "pgmig: deploy failed in production (database app on db1.example.com:5432), versions 3, 4, after 12.2s: "
              "migration 4 \"orders\" failed: relation \"x\" does not exist");
}

TEST(AlertPayload, EmptyFieldsAreNull) {
    AlertEvent e;
    e.event = "deploy_started";
    const auto p = webhook_payload(e);
    EXPECT_TRUE(p["environment"].is_null());
    EXPECT_TRUE(p["duration_s"].is_null());
    EXPECT_TRUE(p["error"].is_null());
}

TEST(AlertPayload, SlackHasTextAndEscapedBlocks) {
    AlertEvent e = sample_event();
    e.event = "drift_detected";
    e.error.clear();
    e.drift = nlohmann::json::array({{{"audit_id", 42}, {"command", "CREATE TABLE"}, {"object", "public.<t>"}, {"user", "bob"}}});
    const auto p = slack_payload(e);
    ASSERT_TRUE(p["text"].is_string());
    EXPECT_NE(p["text"].get<std::string>().find("drift detected in production"), std::string::npos);
    ASSERT_TRUE(p["blocks"].is_array());
    EXPECT_EQ(p["blocks"][0]["type"], "header");
    EXPECT_LE(p["blocks"][0]["text"]["text"].get<std::string>().size(), 150u);
    const std::string dump = p["blocks"].dump();
    EXPECT_NE(dump.find("CREATE TABLE public.&lt;t&gt; by bob (audit id 42)"), std::string::npos) << dump;
    EXPECT_EQ(dump.find("<t>"), std::string::npos);
}

TEST(AlertPayload, SlackTruncatesLongErrors) {
    AlertEvent e = sample_event();
    e.error = std::string(10000, 'x');
    const auto p = slack_payload(e);
    for (const auto& block : p["blocks"]) {
        if (block.contains("text")) {
            EXPECT_LE(block["text"]["text"].get<std::string>().size(), 3000u);
        }
    }
    EXPECT_LE(p["text"].get<std::string>().size(), 3000u);
}

TEST(AlertRules, EventFilter) {
    AlertTarget t;
    EXPECT_TRUE(target_wants(t, "deploy_started"));  // no events: every event
    t.events = {"deploy_failed"};
    EXPECT_TRUE(target_wants(t, "deploy_failed"));
    EXPECT_FALSE(target_wants(t, "deploy_started"));
    EXPECT_TRUE(target_wants(t, "test"));  // a test goes everywhere
}

TEST(AlertRules, RetryableStatuses) {
    EXPECT_TRUE(retryable_http_status(500));
    EXPECT_TRUE(retryable_http_status(503));
    EXPECT_TRUE(retryable_http_status(429));
    EXPECT_FALSE(retryable_http_status(400));
    EXPECT_FALSE(retryable_http_status(401));
    EXPECT_FALSE(retryable_http_status(404));
    EXPECT_FALSE(retryable_http_status(200));
    EXPECT_EQ(exit_code(ErrorKind::alert_failed), 25);
}

TEST(AlertEmail, Rfc5322Message) {
    AlertTarget t;
    t.kind = AlertTarget::Kind::email;
    t.from = "pgmig@example.com";
    t.to = {"dba@example.com", "ops@example.com"};
    AlertEvent e = sample_event();
    e.error = "line one\nline two\r\nthree";
    const std::string m = email_message(t, e, "<abc.pgmig@example.com>");
    const auto headers_end = m.find("\r\n\r\n");
    ASSERT_NE(headers_end, std::string::npos);
    const std::string headers = m.substr(0, headers_end + 2);
    EXPECT_NE(headers.find("Date: Tue, 24 Nov 2026 16:00:00 +0000\r\n"), std::string::npos) << headers;
    EXPECT_NE(headers.find("From: pgmig@example.com\r\n"), std::string::npos);
    EXPECT_NE(headers.find("To: dba@example.com, ops@example.com\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Subject: [pgmig] deploy failed in production (app)\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Message-ID: <abc.pgmig@example.com>\r\n"), std::string::npos);
    EXPECT_NE(headers.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
    const std::string body = m.substr(headers_end + 4);
    EXPECT_NE(body.find("line one\r\nline two\r\nthree\r\n"), std::string::npos) << body;
    // Every line ends in CRLF; no bare LF.
    for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
            ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
        }
    }
}

TEST(AlertEmail, NoHeaderInjectionAndShortLines) {
    AlertTarget t;
    t.from = "pgmig@example.com";
    t.to = {"dba@example.com"};
    AlertEvent e = sample_event();
    e.environment = "prod\r\nBcc: evil@example.com";
    e.error = std::string(2500, 'y');
    const std::string m = email_message(t, e, "<id@example.com>");
    const std::string headers = m.substr(0, m.find("\r\n\r\n") + 2);
    EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos) << headers;  // the value stays on the Subject line
    size_t start = 0;
    while (start < m.size()) {
        const size_t end = m.find("\r\n", start);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end - start, 998u);
        start = end + 2;
    }
}

TEST(AlertDatabase, FromConninfoWithoutPassword) {
    const auto db = alert_database_from_conninfo("host=db1 port=6543 dbname=app user=deployer password=s3cret");
    EXPECT_EQ(db.host, "db1");
    EXPECT_EQ(db.port, "6543");
    EXPECT_EQ(db.dbname, "app");
    EXPECT_EQ(db.user, "deployer");
    const auto uri = alert_database_from_conninfo("postgresql://deployer:s3cret@db2:5433/shop");
    EXPECT_EQ(uri.host, "db2");
    EXPECT_EQ(uri.port, "5433");
    EXPECT_EQ(uri.dbname, "shop");
    EXPECT_EQ(uri.user, "deployer");
    AlertEvent e;
    e.database = uri;
    EXPECT_EQ(webhook_payload(e).dump().find("s3cret"), std::string::npos);
}

TEST(AlertDelivery, MissingSecretFailsWithoutSendingOrThrowing) {
    ProjectConfig config;
    AlertTarget t;
    t.name = "ops";
    t.url = "http://127.0.0.1:9/never";  // never contacted: the secret is missing first
    t.secret_env = "PGMIG_UNIT_TEST_SECRET_THAT_IS_NOT_SET";
    ::unsetenv(t.secret_env.c_str());
    config.alerts["ops"] = t;
    AlertEvent e;
    e.event = "deploy_started";
    const auto out = send_alerts(config, std::vector<std::string>{"ops"}, e, true);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].delivered);
    EXPECT_EQ(out[0].attempts, 0);
    EXPECT_NE(out[0].error.find("PGMIG_UNIT_TEST_SECRET_THAT_IS_NOT_SET"), std::string::npos);
    EXPECT_FALSE(all_delivered(out));
    EXPECT_THROW(send_alerts(config, std::vector<std::string>{"nope"}, e, true), Error);
}

TEST(AlertDelivery, SkippedTargetsCountAsFine) {
    ProjectConfig config;
    AlertTarget t;
    t.name = "ops";
    t.url = "http://127.0.0.1:9/never";
    t.events = {"deploy_failed"};
    config.alerts["ops"] = t;
    AlertEvent e;
    e.event = "deploy_started";
    const auto out = send_alerts(config, std::vector<std::string>{"ops"}, e, true);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].skipped);
    EXPECT_FALSE(out[0].delivered);
    EXPECT_EQ(out[0].attempts, 0);
    EXPECT_TRUE(all_delivered(out));
    EXPECT_EQ(deliveries_json(out)[0]["skipped"], true);
}

TEST(AlertRedaction, WithoutUrlRemovesUrlPathAndQuery) {
    const std::string url = "https://hooks.example.com/services/T0/B1/SeCrEt?token=abc123#x";
    EXPECT_EQ(without_url("posting to " + url + " failed", url), "posting to <url> failed");
    EXPECT_EQ(without_url("no route for /services/T0/B1/SeCrEt?token=abc123", url), "no route for <url>");
    EXPECT_EQ(without_url("<h1>Not Found: /services/T0/B1/SeCrEt</h1>", url), "<h1>Not Found: <url></h1>");
    EXPECT_EQ(without_url("{\"error\":\"bad token=abc123\"}", url), "{\"error\":\"bad <url>\"}");
    const std::string body = "a /services/T0/B1/SeCrEt b /services/T0/B1/SeCrEt c";
    const std::string out = without_url(body, url);
    EXPECT_EQ(out.find("SeCrEt"), std::string::npos) << out;
    EXPECT_EQ(without_url("nothing of it here / at all", url), "nothing of it here / at all");
    EXPECT_EQ(without_url("text", ""), "text");
}
