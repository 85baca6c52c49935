// The shadow database: created on the target's server (or shadow_server), filled from the schema folder,
// described by migrate_snapshot() and dropped, whatever happens (errors, Ctrl-C, SIGTERM).
#include "client/diff/shadow.hpp"

#include "client/core/text_bytes.hpp"

#include "client/core/config.hpp"
#include "client/core/errors.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

namespace pgmig::client {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
PGcancel* volatile g_cancel = nullptr;

extern "C" void on_shadow_signal(int /*signo*/) {
    g_interrupted = 1;
    if (PGcancel* cancel = g_cancel) {
        char errbuf[256];
        PQcancel(cancel, errbuf, sizeof errbuf);  // async-signal-safe by libpq's documentation
    }
}

const char* const kNext = "the target was not changed; the shadow database was dropped";

}  // namespace

struct InterruptGuard::Saved {
    struct sigaction int_ {};
    struct sigaction term_ {};
};

InterruptGuard::InterruptGuard() : saved_(new Saved) {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_shadow_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: a terminal prompt's read returns, so the command can unwind
    sigaction(SIGINT, &action, &saved_->int_);
    sigaction(SIGTERM, &action, &saved_->term_);
}

InterruptGuard::~InterruptGuard() {
    watch(nullptr);
    sigaction(SIGINT, &saved_->int_, nullptr);
    sigaction(SIGTERM, &saved_->term_, nullptr);
    delete saved_;
}

void InterruptGuard::watch(const Connection* conn) {
    PGcancel* old = g_cancel;
    g_cancel = nullptr;
    if (old != nullptr) PQfreeCancel(old);
    if (conn != nullptr) g_cancel = PQgetCancel(conn->raw());
}

bool InterruptGuard::interrupted() { return g_interrupted != 0; }

void InterruptGuard::check(const std::string& where) {
    if (g_interrupted) {
        throw Error(ErrorKind::schema_load_failed, "interrupted (SIGINT/SIGTERM)", where,
                    "nothing was changed or written; a shadow database, if one was made, is dropped");
    }
}

std::vector<SchemaFile> read_schema_folder(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw Error(ErrorKind::schema_load_failed, "no schema folder", "at " + dir,
                    "create it with the .sql files of the schema you want, set schema = \"...\" in pgmig.toml, "
                    "or pass --schema DIR (or --to CONNINFO)");
    }
    std::vector<std::pair<std::string, fs::path>> found;  // (path inside the folder, path)
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::path& p = it->path();
        const std::string leaf = p.filename().string();
        if (!leaf.empty() && leaf[0] == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec) && p.extension() == ".sql") {
            found.emplace_back(fs::relative(p, dir, ec).generic_string(), p);
        }
    }
    if (ec) {
        throw Error(ErrorKind::schema_load_failed, fmt::format("cannot read the schema folder: {}", ec.message()),
                    "at " + dir, "check its permissions");
    }
    if (found.empty()) {
        throw Error(ErrorKind::schema_load_failed, "the schema folder holds no .sql file", "at " + dir,
                    "add the CREATE statements of the schema you want (e.g. schema/01_tables.sql)");
    }
    std::sort(found.begin(), found.end());
    std::vector<SchemaFile> files;
    for (const auto& [relative, path] : found) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            throw Error(ErrorKind::schema_load_failed, "cannot read the file", "at " + path.string(),
                        "check its permissions");
        }
        std::string sql = text.str();
        if (const auto bad = find_bad_bytes(sql)) {
            // A NUL would cut the file short where it becomes a C string; invalid UTF-8 the server refuses.
            throw Error(ErrorKind::bad_bytes, "the schema file holds " + describe(*bad), "in " + path.string(),
                        std::string(kBadBytesAdvice) + "; nothing was changed or written");
        }
        files.push_back(SchemaFile{path.string(), std::move(sql)});
    }
    return files;
}

int line_at_character(std::string_view text, long position) {
    int line = 1;
    long chars = 0;
    for (char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {  // the first byte of a character
            ++chars;
            if (chars >= position) break;
        }
        if (c == '\n') ++line;
    }
    return line;
}

std::string default_shadow_name() {
    std::random_device random;
    return fmt::format("pgmig_shadow_{}_{:08x}", static_cast<long>(getpid()), random());
}

namespace {

// One row per object (key, description as text), read one row at a time (libpq's single-row mode): neither
// libpq's buffer nor a PGresult nor a string ever holds the whole document (about 12 MB of text for 10,000
// tables, twice over for `diff --to`), only the parsed objects do. jsonb_each gives the keys of
// migrate_snapshot() once each, so the document is the one migrate_snapshot()::text would parse to.
const char* const kSnapshotQuery = "SELECT key, value::pg_catalog.text FROM pg_catalog.jsonb_each(migrate_snapshot())";

bool send_snapshot_query(const Connection& conn) {
    if (PQsendQuery(conn.raw(), kSnapshotQuery) != 1) return false;
    PQsetSingleRowMode(conn.raw());  // if it cannot be set, the rows come in one result: read the same way
    return true;
}

// Reads every result of the snapshot query sent on conn (until libpq says the command is over, also after an
// error, so that the connection is usable again) into one JSON object.
nlohmann::json read_snapshot(const Connection& conn, const std::string& what) {
    nlohmann::json snapshot = nlohmann::json::object();
    std::optional<Result> failed;
    bool answered = false;
    bool malformed = false;
    while (PGresult* raw = PQgetResult(conn.raw())) {
        Result res(raw);
        answered = true;
        const ExecStatusType status = PQresultStatus(raw);
        if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK) {
            if (!failed) failed.emplace(std::move(res));
            continue;
        }
        if (failed || malformed || PQnfields(raw) != 2) {
            malformed = malformed || PQnfields(raw) != 2;
            continue;
        }
        for (int row = 0; row < PQntuples(raw); ++row) {
            const char* text = PQgetvalue(raw, row, 1);
            nlohmann::json description = nlohmann::json::parse(text, text + PQgetlength(raw, row, 1), nullptr, false);
            if (description.is_discarded()) {
                malformed = true;
                break;
            }
            drop_default_members(description);
            snapshot.emplace(std::string(PQgetvalue(raw, row, 0), static_cast<size_t>(PQgetlength(raw, row, 0))),
                             std::move(description));
        }
    }
    if (!answered) {
        throw Error(
            ErrorKind::connect,
            fmt::format("lost the connection while taking the snapshot of {}: {}", what, PQerrorMessage(conn.raw())),
            fmt::format("in {}", conn.target()), "check the server and run the command again");
    }
    if (failed) {
        const ServerError e = failed->error();
        throw Error(ErrorKind::migration_failed, fmt::format("cannot take the snapshot of {}: {}", what, e.message),
                    fmt::format("in {}", conn.target()), "check that the role may call migrate_snapshot()", e.hint);
    }
    if (malformed) {
        throw Error(ErrorKind::internal, fmt::format("migrate_snapshot() of {} is not a JSON object", what),
                    fmt::format("in {}", conn.target()), "please report this as a bug");
    }
    return snapshot;
}

}  // namespace

void drop_default_members(nlohmann::json& description) {
    if (!description.is_object()) return;
    const auto persistence = description.find("persistence");
    if (persistence != description.end() && *persistence == "p") description.erase(persistence);
    const auto columns = description.find("columns");
    if (columns == description.end() || !columns->is_array()) return;
    for (auto& column : *columns) {
        if (!column.is_object()) continue;
        const auto not_null = column.find("not_null");
        if (not_null != column.end() && *not_null == false) column.erase(not_null);
    }
}

nlohmann::json fetch_snapshot(const Connection& conn, const std::string& what) {
    if (!send_snapshot_query(conn)) {
        throw Error(ErrorKind::connect,
                    fmt::format("cannot send the snapshot query to {}: {}", what, PQerrorMessage(conn.raw())),
                    fmt::format("in {}", conn.target()), "check the server and run the command again");
    }
    return read_snapshot(conn, what);
}

PendingSnapshot::PendingSnapshot(const Connection& conn, std::string what) : conn_(conn), what_(std::move(what)) {
    // If it cannot be sent, take() runs the query the ordinary way and reports what went wrong.
    sent_ = send_snapshot_query(conn_);
}

PendingSnapshot::~PendingSnapshot() {
    if (!sent_) return;
    if (PGcancel* cancel = PQgetCancel(conn_.raw())) {
        std::array<char, 256> errbuf{};
        PQcancel(cancel, errbuf.data(), static_cast<int>(errbuf.size()));
        PQfreeCancel(cancel);
    }
    while (PGresult* res = PQgetResult(conn_.raw())) PQclear(res);
}

nlohmann::json PendingSnapshot::take() {
    if (!sent_) return fetch_snapshot(conn_, what_);
    sent_ = false;
    return read_snapshot(conn_, what_);
}

namespace {

// The maintenance database of the target's server (postgres, else template1): CREATE/DROP DATABASE run
// there, not on the target, so that the target's audit trail does not record them.
Connection maintenance_connection(const Connection& target) {
    try {
        return Connection::open(conninfo_with_database(target, "postgres", true));
    } catch (const Error&) {
        return Connection::open(conninfo_with_database(target, "template1", true));
    }
}

}  // namespace

ShadowDatabase::ShadowDatabase(const Connection& target, const ShadowSettingsResolved& settings)
    : name_(settings.name.empty() ? default_shadow_name() : settings.name) {
    const std::string creating = fmt::format("creating the shadow database {}", name_);
    try {
        admin_.emplace(settings.server.empty() ? maintenance_connection(target) : Connection::open(settings.server));
    } catch (const Error& e) {
        throw Error(ErrorKind::schema_load_failed,
                    fmt::format("cannot connect to the shadow's server: {}", e.what_failed()), e.where(),
                    settings.server.empty() ? "the role needs to connect to database postgres or template1"
                                            : "check shadow_server / --shadow-server");
    }
    InterruptGuard::watch(&*admin_);
    // A database of that name: reused only when pgmig made it (a leftover of a killed run).
    Result exists = admin_->exec_params(
        "SELECT coalesce(pg_catalog.shobj_description(oid, 'pg_database'), '') FROM pg_catalog.pg_database "
        "WHERE datname = $1",
        {name_});
    if (!exists.ok()) {
        throw Error(ErrorKind::schema_load_failed, fmt::format("cannot read pg_database: {}", exists.error().message),
                    "on " + server(), "check the connection");
    }
    if (exists.rows() == 1) {
        if (exists.get(0, 0) != kShadowComment) {
            throw Error(ErrorKind::schema_load_failed,
                        fmt::format("database {} exists and is not a pgmig shadow database", name_), "on " + server(),
                        "pgmig never drops a database it did not create: choose another name with --shadow-db or "
                        "shadow_db in pgmig.toml (or drop it yourself if it is unused)");
        }
        Result dropped = admin_->exec("DROP DATABASE " + quote_identifier(name_) + " WITH (FORCE)");
        if (!dropped.ok()) {
            throw Error(ErrorKind::schema_load_failed,
                        fmt::format("cannot drop the leftover shadow database {}: {}", name_, dropped.error().message),
                        "on " + server(), "drop it by hand, or choose another name with --shadow-db");
        }
    }
    std::string create = "CREATE DATABASE " + quote_identifier(name_) + " TEMPLATE template0";
    if (!settings.owner.empty()) create += " OWNER " + quote_identifier(settings.owner);
    Result res = admin_->exec(create);
    if (!res.ok()) {
        const ServerError e = res.error();
        InterruptGuard::check(creating);
        throw Error(ErrorKind::schema_load_failed,
                    fmt::format("cannot create the shadow database {}: {}", name_, e.message), "on " + server(),
                    e.sqlstate == "42501"
                        ? "pgmig diff needs a role with CREATEDB (and membership in the shadow_owner role), or "
                          "shadow_server pointing at a server where it has them (e.g. pgmig local)"
                        : "check the server's log; the target was not changed",
                    e.hint);
    }
    created_ = true;
    Result comment = admin_->exec("COMMENT ON DATABASE " + quote_identifier(name_) + " IS '" + kShadowComment + "'");
    if (!comment.ok()) {
        throw Error(ErrorKind::schema_load_failed,
                    fmt::format("cannot comment the shadow database {}: {}", name_, comment.error().message),
                    "on " + server(), "the role must own the shadow (or be a member of shadow_owner)");
    }
    try {
        conn_.emplace(Connection::open(conninfo_with_database(*admin_, name_, true)));
    } catch (const Error& e) {
        throw Error(ErrorKind::schema_load_failed,
                    fmt::format("cannot connect to the shadow database: {}", e.what_failed()), e.where(), kNext);
    }
    InterruptGuard::watch(&*conn_);
    Result ext = conn_->exec("CREATE EXTENSION pgmig");
    if (!ext.ok()) {
        const ServerError e = ext.error();
        InterruptGuard::check(creating);
        throw Error(ErrorKind::schema_load_failed,
                    fmt::format("cannot create the pgmig extension in the shadow database: {}", e.message),
                    "on " + server(),
                    "CREATE EXTENSION pgmig needs a superuser and the extension's files on the shadow's server; "
                    "use shadow_server (e.g. the pgmig local cluster) or --to CONNINFO",
                    e.hint);
    }
}

ShadowDatabase::~ShadowDatabase() { drop(); }

std::string ShadowDatabase::server() const {
    if (!admin_) return "(not connected)";
    auto text = [](const char* value) { return value && *value ? std::string(value) : std::string("(default)"); };
    return fmt::format("host={} port={}", text(PQhost(admin_->raw())), text(PQport(admin_->raw())));
}

void ShadowDatabase::drop() noexcept {
    try {
        InterruptGuard::watch(nullptr);
        conn_.reset();  // close it first; FORCE handles any other session
        if (!created_ || !admin_) return;
        Result res = admin_->exec("DROP DATABASE IF EXISTS " + quote_identifier(name_) + " WITH (FORCE)");
        if (!res.ok()) {
            std::fprintf(stderr,
                         "pgmig: warning: could not drop the shadow database %s: %s; drop it by hand (DROP DATABASE "
                         "%s)\n",
                         name_.c_str(), one_line(res.error().message).c_str(), quote_identifier(name_).c_str());
        }
        created_ = false;
    } catch (...) {
        std::fprintf(stderr, "pgmig: warning: could not drop the shadow database %s; drop it by hand\n", name_.c_str());
    }
}

void ShadowDatabase::fail_file(const SchemaFile& file, const ServerError& error, long position) {
    InterruptGuard::check(fmt::format("loading {} into the shadow database", file.name));
    int line = position > 0 ? line_at_character(file.sql, position) : 0;
    if (line == 0) {
        // No cursor (e.g. a duplicate name): run the file again statement by statement in a transaction
        // that is rolled back, to find the statement that fails and its line.
        if (conn_->exec("BEGIN").ok()) {
            Result stmts =
                conn_->exec_params("SELECT line, statement FROM pgmig.split_statements($1) ORDER BY n", {file.sql});
            for (int i = 0; stmts.ok() && i < stmts.rows(); ++i) {
                if (!conn_->exec(stmts.get(i, 1)).ok()) {
                    line = std::stoi(stmts.get(i, 0));
                    break;
                }
            }
            conn_->exec("ROLLBACK");
        }
    }
    const std::string where =
        line > 0 ? fmt::format("in {} line {}", file.name, line) : fmt::format("in {}", file.name);
    std::string what = fmt::format("the schema file failed to load into the shadow database: {}", error.message);
    if (!error.sqlstate.empty()) what += fmt::format(" (SQLSTATE {})", error.sqlstate);
    std::string hint = error.hint;
    if (!error.detail.empty()) hint = hint.empty() ? error.detail : error.detail + "; " + hint;
    throw Error(ErrorKind::schema_load_failed, what, where,
                "fix the file (files load in path order, each as one script); the target was not changed and the "
                "shadow database was dropped",
                hint);
}

nlohmann::json ShadowDatabase::load(const std::vector<SchemaFile>& files) {
    for (const auto& file : files) {
        InterruptGuard::check(fmt::format("loading {} into the shadow database", file.name));
        Result res = conn_->exec(file.sql);
        // An empty or comment-only file gives PGRES_EMPTY_QUERY: nothing to do.
        if (!res.ok() && PQresultStatus(res.raw()) != PGRES_EMPTY_QUERY) {
            const char* pos = PQresultErrorField(res.raw(), PG_DIAG_STATEMENT_POSITION);
            fail_file(file, res.error(), pos != nullptr ? std::atol(pos) : 0);
        }
    }
    InterruptGuard::check("describing the shadow database");
    return fetch_snapshot(*conn_, "the shadow database " + name_);
}

ShadowSettingsResolved resolve_shadow_settings(const std::string& env, const std::string& db, const std::string& owner,
                                               const std::string& server) {
    const ProjectConfig config = load_project_config();
    const ShadowSettings base = env.empty() ? config.shadow : find_environment(config, env).shadow;
    ShadowSettingsResolved out{base.db, base.owner, base.server};
    if (!db.empty()) out.name = db;
    if (!owner.empty()) out.owner = owner;
    if (!server.empty()) out.server = server;
    return out;
}

}  // namespace pgmig::client
