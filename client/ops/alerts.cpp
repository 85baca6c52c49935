// Alert deliveries over libcurl: signed JSON webhooks, Slack payloads and SMTP mail, each bounded in time.
#include "client/ops/alerts.hpp"

#include "client/core/errors.hpp"

#include <curl/curl.h>
#include <fmt/core.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <thread>

namespace pgmig::client {

namespace {

struct CurlDeleter {
    void operator()(CURL* curl) const noexcept { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void ensure_curl_initialised() {
    // Once per process, before the first handle (curl_global_init is not thread-safe; pgmig has one thread).
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!initialised) throw Error(ErrorKind::internal, "libcurl could not be initialised", "sending alerts");
}

void append(Slist& list, const std::string& line) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) throw std::bad_alloc();
    (void)list.release();  // NOLINT(bugprone-unused-return-value): grown now owns the old nodes
    list.reset(grown);
}

// Keeps at most the first 512 bytes a server sent back (for the reason of a refusal); never printed whole.
size_t collect_response(char* data, size_t size, size_t count, void* user) {
    auto* out = static_cast<std::string*>(user);
    const size_t n = size * count;
    if (out->size() < 512) out->append(data, std::min(n, 512 - out->size()));
    return n;
}

struct Upload {
    const std::string* text;
    size_t offset = 0;
};
size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
    auto* up = static_cast<Upload*>(user);
    const size_t n = std::min(size * count, up->text->size() - up->offset);
    std::copy_n(up->text->data() + up->offset, n, buffer);
    up->offset += n;
    return n;
}

const char* event_title(std::string_view event) {
    if (event == "deploy_started") return "deploy started";
    if (event == "deploy_succeeded") return "deploy succeeded";
    if (event == "deploy_failed") return "deploy failed";
    if (event == "rollback") return "rollback";
    if (event == "drift_detected") return "drift detected";
    if (event == "backup_failed") return "backup failed";
    if (event == "approval_requested") return "approval requested";
    if (event == "test") return "test alert";
    return nullptr;
}

std::string title_of(const AlertEvent& event) {
    const char* title = event_title(event.event);
    return title != nullptr ? title : event.event;
}

std::string database_text(const AlertDatabase& db) {
    std::string where = db.dbname.empty() ? std::string("(default database)") : "database " + db.dbname;
    if (!db.host.empty() || !db.port.empty()) {
        where += fmt::format(" on {}{}", db.host.empty() ? "(default host)" : db.host, db.port.empty() ? "" : ":" + db.port);
    }
    return where;
}

std::string drift_object_text(const nlohmann::json& object) {
    if (!object.is_object()) return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto text = [&](const char* key) {
        auto it = object.find(key);
        if (it == object.end() || it->is_null()) return std::string();
        return it->is_string() ? it->get<std::string>() : it->dump();
    };
    std::string line = text("command");
    const std::string obj = text("object");
    if (!obj.empty()) line += (line.empty() ? "" : " ") + obj;
    const std::string user = text("user");
    if (!user.empty()) line += " by " + user;
    const std::string id = text("audit_id");
    if (!id.empty()) line += " (audit id " + id + ")";
    return line.empty() ? object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : line;
}

// Slack's mrkdwn reserves &, < and >.
std::string slack_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out.push_back(c);
    }
    return out;
}

std::string truncated(std::string text, size_t max) {
    if (text.size() <= max) return text;
    size_t cut = max - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    text.resize(cut);
    return text + "...";
}

std::string env_value(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? std::string(value) : std::string();
}

// The outcome of one attempt.
struct Attempt {
    bool delivered = false;
    bool retry = false;
    std::string reason;
};

// A reason from libcurl, with anything of the URL removed (a Slack URL's path is its secret).
std::string curl_reason(CURLcode code, const char* buffer, const std::string& url) {
    std::string reason = buffer != nullptr && buffer[0] != '\0' ? std::string(buffer) : curl_easy_strerror(code);
    return one_line(without_url(std::move(reason), url));
}

}  // namespace

std::string without_url(std::string text, const std::string& url) {
    if (url.empty()) return text;
    // Longest first, so that a shorter part never leaves pieces of a longer one behind.
    std::vector<std::string> parts{url};
    const size_t scheme = url.find("://");
    const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const size_t query = url.find('?');
    const size_t fragment = url.find('#');
    if (path != std::string::npos) {
        parts.push_back(url.substr(path, fragment == std::string::npos ? std::string::npos : fragment - path));
        if (query != std::string::npos && query > path) parts.push_back(url.substr(path, query - path));
    }
    if (query != std::string::npos) {
        parts.push_back(url.substr(query + 1, fragment == std::string::npos ? std::string::npos : fragment - query - 1));
    }
    for (const std::string& part : parts) {
        if (part.size() < 2) continue;  // "/" alone is no secret, and would mangle the text
        for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 5)) {
            text.replace(at, part.size(), "<url>");
        }
    }
    return text;
}

namespace {

bool retryable_curl_code(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

void set_common(CURL* curl, const AlertTarget& target, char* error_buffer) {
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, target.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, target.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
}

Attempt post_webhook(const AlertTarget& target, const std::string& url, const std::string& body,
                     const std::string& secret) {
    CurlHandle curl(curl_easy_init());
    if (!curl) return {false, true, "libcurl could not create a handle"};
    char error_buffer[CURL_ERROR_SIZE] = {};
    set_common(curl.get(), target, error_buffer);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    Slist headers;
    append(headers, "Content-Type: application/json");
    append(headers, "User-Agent: pgmig/" PGMIG_VERSION);
    append(headers, "Expect:");  // no 100-continue round trip
    // A fresh timestamp per attempt: a retried request is signed anew.
    const std::string timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    append(headers, "X-Pgmig-Timestamp: " + timestamp);
    if (!secret.empty()) append(headers, "X-Pgmig-Signature: " + webhook_signature(secret, timestamp, body));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    std::string response;
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect_response);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);

    const CURLcode code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) {
        std::string reason = curl_reason(code, error_buffer, url);
        if (code == CURLE_OPERATION_TIMEDOUT) {
            reason += fmt::format(" (timeout {}ms); check that the receiver is up and answers in time", target.timeout_ms);
        } else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
            reason += "; check the URL's host and port and that the receiver is up";
        } else if (code == CURLE_PEER_FAILED_VERIFICATION) {
            reason += "; the receiver's certificate is not trusted by the system's CA store (or names another host)";
        }
        return {false, retryable_curl_code(code), reason};
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return {true, false, {}};
    std::string reason = fmt::format("HTTP status {}", status);
    // Without the URL first, then cut: a cut must not leave half of the secret path behind.
    const std::string said = truncated(one_line(without_url(response, url)), 200);
    if (!said.empty()) reason += fmt::format(" ({})", said);
    if (status == 401 || status == 403) reason += "; check the signing key (secret_env) the receiver expects";
    else if (status == 404) reason += "; check the URL";
    return {false, retryable_http_status(status), reason};
}

Attempt send_mail(const AlertTarget& target, const std::string& message, const std::string& password) {
    CurlHandle curl(curl_easy_init());
    if (!curl) return {false, true, "libcurl could not create a handle"};
    char error_buffer[CURL_ERROR_SIZE] = {};
    set_common(curl.get(), target, error_buffer);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl.get(), CURLOPT_URL, target.smtp.c_str());
    // With AUTH, "auto" means TLS or nothing: the password never goes out in clear because a server (or
    // someone in between stripping STARTTLS) did not offer it. Only an explicit "never" allows that.
    const bool auth = !target.username.empty();
    const long use_ssl = target.starttls == "never"                ? static_cast<long>(CURLUSESSL_NONE)
                         : target.starttls == "always" || auth ? static_cast<long>(CURLUSESSL_ALL)
                                                                 : static_cast<long>(CURLUSESSL_TRY);
    curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, use_ssl);
    if (!target.username.empty()) {
        curl_easy_setopt(curl.get(), CURLOPT_USERNAME, target.username.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, password.c_str());
    }
    const std::string from = "<" + target.from + ">";
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
    Slist rcpt;
    for (const auto& to : target.to) append(rcpt, "<" + to + ">");
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, rcpt.get());
    Upload upload{&message};
    curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl.get(), CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);

    const CURLcode code = curl_easy_perform(curl.get());
    if (code == CURLE_OK) return {true, false, {}};
    long reply = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply);
    std::string reason = curl_reason(code, error_buffer, {});
    if (reply > 0) reason += fmt::format(" (server reply {})", reply);
    if (code == CURLE_LOGIN_DENIED) {
        reason += fmt::format("; check username and the password in {}", target.password_env);
    } else if (code == CURLE_USE_SSL_FAILED) {
        reason += auth ? "; the server offers no STARTTLS and the password is never sent in clear: use smtps:// if it "
                         "speaks TLS, or starttls = \"never\" on a trusted network"
                       : "; the server offers no STARTTLS: use smtps:// if it speaks TLS, or starttls = \"auto\" on a "
                         "trusted network";
    } else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_OPERATION_TIMEDOUT) {
        reason += "; check the smtp URL's host and port and that the server is up";
    } else if (code == CURLE_PEER_FAILED_VERIFICATION) {
        reason += "; the server's certificate is not trusted by the system's CA store (or names another host)";
    }
    // A temporary SMTP refusal (4xx) or a broken connection is worth another attempt; a refused login, a
    // permanent refusal (5xx) or a missing STARTTLS is not.
    bool retry = retryable_curl_code(code) || (reply >= 400 && reply < 500);
    if (code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED || (reply >= 500 && reply < 600)) retry = false;
    return {false, retry, reason};
}

// The wait between attempts is part of the bound, so it is not cut short (not even by a signal).
void wait_ms(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

Delivery deliver(const AlertTarget& target, const AlertEvent& event, bool quiet) {
    Delivery d;
    d.target = target.name;
    d.kind = target.kind == AlertTarget::Kind::email ? "email" : "webhook";
    if (!target_wants(target, event.event)) {
        d.skipped = true;
        return d;
    }
    const auto started = std::chrono::steady_clock::now();
    auto finish = [&](Delivery& out) {
        out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (!out.delivered) {
            std::fflush(stdout);
            std::fprintf(stderr, "pgmig: warning: alert '%s' not delivered after %d attempt%s: %s\n", out.target.c_str(),
                         out.attempts, out.attempts == 1 ? "" : "s", out.error.c_str());
        }
        return out;
    };

    // What the attempts need; a missing secret fails the delivery without sending anything.
    std::string url;
    std::string secret;
    std::string password;
    std::string body;
    if (target.kind == AlertTarget::Kind::webhook) {
        url = target.url_env.empty() ? target.url : env_value(target.url_env);
        if (url.empty()) {
            d.error = fmt::format("the environment variable {} (url_env) is not set; set it to the webhook's URL",
                                  target.url_env);
            return finish(d);
        }
        if (!target.secret_env.empty()) {
            secret = env_value(target.secret_env);
            if (secret.empty()) {
                d.error = fmt::format(
                    "the environment variable {} (secret_env) is not set; set it to the signing key (nothing is sent "
                    "unsigned)",
                    target.secret_env);
                return finish(d);
            }
        }
        body = (target.format == "slack" ? slack_payload(event) : webhook_payload(event))
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        if (!target.username.empty()) {
            password = target.password_env.empty() ? std::string() : env_value(target.password_env);
            if (password.empty()) {
                d.error = target.password_env.empty()
                              ? std::string("username is set but password_env is not; name the variable holding the "
                                            "SMTP password")
                              : fmt::format("the environment variable {} (password_env) is not set; set it to the SMTP "
                                            "password",
                                            target.password_env);
                return finish(d);
            }
        }
        unsigned char random[12];
        if (RAND_bytes(random, sizeof random) != 1) {
            d.error = "no random bytes for the Message-ID";
            return finish(d);
        }
        std::string hex;
        for (unsigned char b : random) hex += fmt::format("{:02x}", b);
        const std::string domain = target.from.find('@') != std::string::npos
                                       ? target.from.substr(target.from.find('@') + 1)
                                       : std::string("pgmig.invalid");
        body = email_message(target, event, fmt::format("<{}.pgmig@{}>", hex, domain));
    }

    long wait = std::max(0L, target.retry_wait_ms);
    for (int attempt = 0; attempt <= target.retries; ++attempt) {
        ++d.attempts;
        const Attempt a = target.kind == AlertTarget::Kind::webhook ? post_webhook(target, url, body, secret)
                                                                    : send_mail(target, body, password);
        if (a.delivered) {
            d.delivered = true;
            d.error.clear();
            return finish(d);
        }
        d.error = a.reason;
        if (!a.retry) break;
        if (attempt < target.retries) {
            if (!quiet) {
                std::fflush(stdout);
                std::fprintf(stderr, "pgmig: note: alert '%s' attempt %d failed: %s; retrying in %s\n",
                             target.name.c_str(), d.attempts, a.reason.c_str(),
                             wait >= 1000 ? fmt::format("{:.1f}s", static_cast<double>(wait) / 1000.0).c_str()
                                          : fmt::format("{}ms", wait).c_str());
            }
            wait_ms(wait);
            wait = std::min(wait * 2, 60000L);
        }
    }
    return finish(d);
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
    const std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
             data.size(), digest, &length) == nullptr) {
        throw Error(ErrorKind::internal, "HMAC-SHA256 failed", "signing an alert", "please report this as a bug");
    }
    std::string hex;
    hex.reserve(2 * static_cast<size_t>(length));
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
    std::string material;
    material.reserve(timestamp.size() + 1 + body.size());
    material.append(timestamp).append(".").append(body);
    return "sha256=" + hmac_sha256_hex(secret, material);
}

std::string alert_summary(const AlertEvent& event) {
    std::string line = "pgmig: " + title_of(event);
    if (!event.environment.empty()) line += " in " + event.environment;
    line += " (" + database_text(event.database) + ")";
    if (!event.versions.empty()) {
        line += event.versions.size() == 1 ? ", version " : ", versions ";
        for (size_t i = 0; i < event.versions.size(); ++i) line += (i ? ", " : "") + event.versions[i];
    }
    if (event.duration_s) line += fmt::format(", after {:.1f}s", *event.duration_s);
    if (event.drift.is_array() && !event.drift.empty()) {
        line += fmt::format(", {} object{}", event.drift.size(), event.drift.size() == 1 ? "" : "s");
    }
    if (!event.error.empty()) line += ": " + one_line(event.error);
    return line;
}

nlohmann::json webhook_payload(const AlertEvent& event) {
    nlohmann::json out = {
        {"event", event.event},
        {"environment", event.environment.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.environment)},
        {"database",
         {{"host", event.database.host},
          {"port", event.database.port},
          {"dbname", event.database.dbname},
          {"user", event.database.user}}},
        {"versions", event.versions},
        {"duration_s", event.duration_s ? nlohmann::json(*event.duration_s) : nlohmann::json(nullptr)},
        {"error", event.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(event.error)},
        {"drift", event.drift.is_null() ? nlohmann::json::array() : event.drift},
        {"extra", event.extra.is_null() ? nlohmann::json::object() : event.extra},
        {"time", iso8601_utc(event.time)},
        {"summary", alert_summary(event)},
        {"pgmig_version", PGMIG_VERSION},
    };
    return out;
}

nlohmann::json slack_payload(const AlertEvent& event) {
    // Slack limits: a header's text 150 characters, a section's text 3000, at most 10 fields of 2000 each.
    const bool bad = event.event.ends_with("_failed") || event.event == "drift_detected";
    std::string header = (bad ? ":warning: " : "") + std::string("pgmig: ") + title_of(event);
    if (!event.environment.empty()) header += " in " + event.environment;
    nlohmann::json fields = nlohmann::json::array();
    auto field = [&](const std::string& name, const std::string& value) {
        fields.push_back({{"type", "mrkdwn"}, {"text", truncated("*" + name + "*\n" + slack_escape(value), 1900)}});
    };
    field("Database", database_text(event.database) +
                          (event.database.user.empty() ? std::string() : " as " + event.database.user));
    if (!event.versions.empty()) {
        std::string versions;
        for (size_t i = 0; i < event.versions.size(); ++i) versions += (i ? ", " : "") + event.versions[i];
        field("Versions", versions);
    }
    if (event.duration_s) field("Duration", fmt::format("{:.1f}s", *event.duration_s));
    field("Time", iso8601_utc(event.time));

    nlohmann::json blocks = nlohmann::json::array();
    blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", truncated(header, 150)}}}});
    blocks.push_back({{"type", "section"}, {"fields", fields}});
    if (!event.error.empty()) {
        blocks.push_back({{"type", "section"},
                          {"text", {{"type", "mrkdwn"}, {"text", truncated("*Error*\n" + slack_escape(event.error), 2900)}}}});
    }
    if (event.drift.is_array() && !event.drift.empty()) {
        std::string text = "*Drift*";
        for (const auto& object : event.drift) text += "\n• " + slack_escape(drift_object_text(object));
        blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", truncated(text, 2900)}}}});
    }
    return {{"text", truncated(alert_summary(event), 3000)}, {"blocks", blocks}};
}

bool target_wants(const AlertTarget& target, std::string_view event) {
    if (event == "test" || target.events.empty()) return true;
    return std::find(target.events.begin(), target.events.end(), event) != target.events.end();
}

bool retryable_http_status(long status) { return status == 429 || (status >= 500 && status < 600); }

std::string email_message(const AlertTarget& target, const AlertEvent& event, const std::string& message_id) {
    const std::time_t t = std::chrono::system_clock::to_time_t(event.time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

    std::string subject = "[pgmig] " + title_of(event);
    if (!event.environment.empty()) subject += " in " + event.environment;
    if (!event.database.dbname.empty()) subject += " (" + event.database.dbname + ")";

    std::string to;
    for (size_t i = 0; i < target.to.size(); ++i) to += (i ? ", " : "") + target.to[i];

    std::vector<std::string> body;
    body.push_back(alert_summary(event));
    body.emplace_back();
    body.push_back("Event:       " + event.event);
    if (!event.environment.empty()) body.push_back("Environment: " + event.environment);
    body.push_back("Database:    " + database_text(event.database) +
                   (event.database.user.empty() ? std::string() : " as " + event.database.user));
    if (!event.versions.empty()) {
        std::string versions;
        for (size_t i = 0; i < event.versions.size(); ++i) versions += (i ? ", " : "") + event.versions[i];
        body.push_back("Versions:    " + versions);
    }
    if (event.duration_s) body.push_back(fmt::format("Duration:    {:.1f}s", *event.duration_s));
    body.push_back("Time:        " + iso8601_utc(event.time));
    if (!event.error.empty()) {
        body.emplace_back();
        body.push_back("Error:");
        body.push_back(event.error);
    }
    if (event.drift.is_array() && !event.drift.empty()) {
        body.emplace_back();
        body.push_back("Drift:");
        for (const auto& object : event.drift) body.push_back("  " + drift_object_text(object));
    }
    if (event.extra.is_object() && !event.extra.empty()) {
        body.emplace_back();
        body.push_back("Details: " + event.extra.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    body.emplace_back();
    body.push_back("-- ");
    body.push_back("pgmig " PGMIG_VERSION);

    // Header values on one line (no header injection); body lines split at CR/LF and cut below SMTP's 998.
    std::string message;
    auto header = [&](const char* name, const std::string& value) {
        message += fmt::format("{}: {}\r\n", name, one_line(value));
    };
    header("Date", date);
    header("From", target.from);
    header("To", to);
    header("Subject", subject);
    header("Message-ID", message_id);
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "8bit");
    header("X-Pgmig-Event", event.event);
    message += "\r\n";
    for (const auto& paragraph : body) {
        size_t start = 0;
        while (true) {
            const size_t end = paragraph.find_first_of("\r\n", start);
            std::string line = paragraph.substr(start, end == std::string::npos ? std::string::npos : end - start);
            while (line.size() > 900) {
                message += line.substr(0, 900) + "\r\n";
                line.erase(0, 900);
            }
            message += line + "\r\n";
            if (end == std::string::npos) break;
            start = end + ((paragraph[end] == '\r' && end + 1 < paragraph.size() && paragraph[end + 1] == '\n') ? 2 : 1);
        }
    }
    return message;
}

AlertDatabase alert_database_from_conninfo(const std::string& conninfo) {
    AlertDatabase db;
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (parse_error != nullptr) PQfreemem(parse_error);
    if (options != nullptr) {
        for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
            if (o->val == nullptr || o->val[0] == '\0') continue;
            const std::string key = o->keyword;
            if (key == "host" || (key == "hostaddr" && db.host.empty())) db.host = o->val;
            else if (key == "port") db.port = o->val;
            else if (key == "dbname") db.dbname = o->val;
            else if (key == "user") db.user = o->val;
        }
        PQconninfoFree(options);
    } else if (!conninfo.empty()) {
        return db;
    }
    if (db.host.empty()) db.host = env_value("PGHOST");
    if (db.port.empty()) db.port = env_value("PGPORT");
    if (db.user.empty()) db.user = env_value("PGUSER");
    if (db.dbname.empty()) db.dbname = env_value("PGDATABASE");
    return db;
}

void require_alert_targets(const ProjectConfig& config, const std::vector<std::string>& targets) {
    for (const auto& name : targets) {
        if (config.alerts.find(name) != config.alerts.end()) continue;
        std::string known;
        for (const auto& entry : config.alerts) known += (known.empty() ? "" : ", ") + entry.first;
        throw Error(ErrorKind::input, fmt::format("unknown alert target '{}'", name), "in pgmig.toml",
                    known.empty() ? std::string("define it as [alerts.NAME] (docs/operations.md)")
                                  : fmt::format("use one of: {}", known));
    }
}

std::vector<Delivery> send_alerts(const ProjectConfig& config, const std::vector<std::string>& targets,
                                  const AlertEvent& event, bool quiet) {
    require_alert_targets(config, targets);
    std::vector<const AlertTarget*> chosen;
    chosen.reserve(targets.size());
    for (const auto& name : targets) chosen.push_back(&config.alerts.at(name));
    ensure_curl_initialised();
    std::vector<Delivery> out;
    for (const AlertTarget* target : chosen) {
        try {
            out.push_back(deliver(*target, event, quiet));
        } catch (const std::exception& e) {
            // Out of memory or a libcurl failure: still a failed delivery, never an exception for the caller.
            Delivery d;
            d.target = target->name;
            d.kind = target->kind == AlertTarget::Kind::email ? "email" : "webhook";
            d.error = one_line(e.what());
            std::fflush(stdout);
            std::fprintf(stderr, "pgmig: warning: alert '%s' not delivered after %d attempts: %s\n", d.target.c_str(),
                         d.attempts, d.error.c_str());
            out.push_back(d);
        }
    }
    return out;
}

AlertDatabase alert_database_from_connection(const PGconn* conn) {
    auto text = [](const char* value) { return value != nullptr ? std::string(value) : std::string(); };
    return {text(PQhost(conn)), text(PQport(conn)), text(PQdb(conn)), text(PQuser(conn))};
}

std::vector<Delivery> send_alerts(const ProjectConfig& config, const Environment& env, const AlertEvent& event,
                                  bool quiet) {
    return send_alerts(config, env.alerts, event, quiet);
}

nlohmann::json deliveries_json(const std::vector<Delivery>& deliveries) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : deliveries) {
        out.push_back({{"target", d.target},
                       {"kind", d.kind},
                       {"delivered", d.delivered},
                       {"skipped", d.skipped},
                       {"attempts", d.attempts},
                       {"error", d.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.error)},
                       {"seconds", d.seconds}});
    }
    return out;
}

bool all_delivered(const std::vector<Delivery>& deliveries) {
    return std::all_of(deliveries.begin(), deliveries.end(), [](const Delivery& d) { return d.delivered || d.skipped; });
}

}  // namespace pgmig::client
