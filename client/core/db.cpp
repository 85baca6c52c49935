// RAII wrappers over libpq and the connection rules of the client.
#include "client/core/db.hpp"
#include "client/core/audit_log.hpp"

#include "client/core/errors.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string_view>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace pgmig::client {

namespace {
std::string field(const PGresult* res, int code) {
    const char* value = PQresultErrorField(res, code);
    return value ? std::string(value) : std::string();
}
}  // namespace

bool Result::ok() const {
    const ExecStatusType status = PQresultStatus(res_.get());
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

std::string Result::get(int row, int col) const {
    if (is_null(row, col)) return {};
    return std::string(PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col)));
}

std::optional<std::string> Result::get_opt(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return get(row, col);
}

int Result::column(const char* name) const {
    const int col = PQfnumber(res_.get(), name);
    if (col < 0) throw Error(ErrorKind::internal, fmt::format("the server's result has no column {}", name));
    return col;
}

ServerError Result::error() const {
    ServerError e;
    const PGresult* res = res_.get();
    if (res == nullptr) {
        e.message = "no result from the server (out of memory or the connection broke)";
        return e;
    }
    e.sqlstate = field(res, PG_DIAG_SQLSTATE);
    e.message = field(res, PG_DIAG_MESSAGE_PRIMARY);
    e.detail = field(res, PG_DIAG_MESSAGE_DETAIL);
    e.hint = field(res, PG_DIAG_MESSAGE_HINT);
    if (e.message.empty()) e.message = one_line(PQresultErrorMessage(res));
    if (e.message.empty()) e.message = "the statement failed without a message";
    return e;
}

ServerError without_secrets(const Connection& conn, const std::string& statement, ServerError e) {
    Result res = conn.exec_params(
        "SELECT pgmig.redact_message($1, $2), pgmig.redact_message($1, $3), pgmig.redact_message($1, $4)",
        {statement, e.message, e.detail, e.hint});
    if (res.ok() && res.rows() == 1) {
        e.message = res.get(0, 0);
        e.detail = res.get(0, 1);
        e.hint = res.get(0, 2);
        return e;
    }
    std::string lower(statement.size(), ' ');
    std::transform(statement.begin(), statement.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("password") != std::string::npos || lower.find("connection") != std::string::npos ||
        lower.find("passfile") != std::string::npos) {
        e.message = "(the server's message is withheld: the statement may hold a secret)";
        e.detail.clear();
        e.hint.clear();
    }
    return e;
}

std::string describe_target(const PGconn* conn) {
    auto text = [](const char* value) { return value && *value ? std::string(value) : std::string("(default)"); };
    // PQhost etc. read the connection's options, so they also describe a connection that failed.
    return fmt::format("host={} port={} dbname={} user={}", text(PQhost(conn)), text(PQport(conn)), text(PQdb(conn)),
                       text(PQuser(conn)));
}

std::string schemas_before_pg_catalog(PGconn* conn) {
    // Names everything by its schema and uses no operator: safe under the search_path it examines.
    PGresult* res = PQexec(conn,
                           "SELECT s.n FROM pg_catalog.unnest(pg_catalog.current_schemas(true)) WITH ORDINALITY "
                           "AS s (n, i) ORDER BY s.i");
    std::string before;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(res); ++i) {
            const std::string schema = PQgetvalue(res, i, 0);
            if (schema == "pg_catalog") break;
            if (!schema.starts_with("pg_temp")) before += (before.empty() ? "" : ", ") + quote_identifier(schema);
        }
    }
    PQclear(res);  // a failed query: the next one reports the broken connection
    return before;
}

std::string unsafe_search_path_message(const std::string& schemas) {
    return fmt::format(
        "search_path puts {} before pg_catalog: functions, operators and types there would take the "
        "place of PostgreSQL's built-in ones in pgmig's queries and the migrations, with this role's "
        "rights; nothing was done",
        schemas);
}

namespace {

// pgmig refuses such a session rather than reorder the path: a schema moved or put first also changes
// where the migrations create their objects.
void require_pg_catalog_first(const Connection& conn) {
    const std::string before = schemas_before_pg_catalog(conn.raw());
    if (before.empty()) return;
    throw Error(ErrorKind::unsafe_search_path, unsafe_search_path_message(before),
                fmt::format("in {}", describe_target(conn.raw())), kUnsafeSearchPathHint);
}

}  // namespace

namespace {

PasswordPrompt password_prompt = PasswordPrompt::when_asked;

// The password typed for a connection string, reused for further connections with the same string (monitor's
// observer, alert reconnects); connections to other servers (a shadow server) never get it.
struct TypedPassword {
    std::string conninfo;
    std::string password;
    bool typed = false;
};
TypedPassword& typed_password() {
    static TypedPassword typed;
    return typed;
}

// Text with every quoted part replaced but the syntax libpq names ("=", ":", "/", "]"): libpq quotes the
// offending text, which may be a password.
std::string without_quoted_values(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const size_t close = text[i] == '"' ? text.find('"', i + 1) : std::string::npos;
        const std::string quoted = close == std::string::npos ? std::string() : text.substr(i + 1, close - i - 1);
        if (close != std::string::npos) {
            const bool syntax = quoted == "=" || quoted == ":" || quoted == "/" || quoted == "]";
            out += syntax ? "\"" + quoted + "\"" : std::string("\"(not shown)\"");
            i = close + 1;
        } else if (text[i] == '"') {
            out += "\"(not shown)";  // an unterminated quote: what follows is the string's
            break;
        } else {
            out += text[i++];
        }
    }
    return out;
}

// The quoted name after `prefix` in `message` ("" when absent).
std::string quoted_after(const std::string& message, const std::string& prefix) {
    const size_t at = message.find(prefix);
    if (at == std::string::npos) return {};
    const size_t open = at + prefix.size();
    const size_t close = message.find('"', open);
    return close == std::string::npos ? std::string() : message.substr(open, close - open);
}

namespace {

// The prompt's terminal while it asks, for the handler below (a signal handler sees only globals).
volatile sig_atomic_t g_prompt_fd = -1;
termios g_prompt_saved{};
volatile sig_atomic_t g_prompt_signal = 0;
struct sigaction g_prompt_previous_int {};
struct sigaction g_prompt_previous_quit {};

// Ctrl-C or Ctrl-\ at the prompt: the echo is turned back on first (tcsetattr is async-signal-safe), then
// the signal goes where it went before (the default ends pgmig; a command's own handler sets its flag).
void prompt_signal(int sig) {
    if (g_prompt_fd >= 0) tcsetattr(g_prompt_fd, TCSANOW, &g_prompt_saved);
    sigaction(sig, sig == SIGINT ? &g_prompt_previous_int : &g_prompt_previous_quit, nullptr);
    g_prompt_signal = sig;
    raise(sig);
}

}  // namespace

// Asks on the terminal without echo; nullopt when there is no terminal to ask on. Interrupted (Ctrl-C),
// it turns the echo back on: killed at the prompt, pgmig would leave the shell typing blind.
std::optional<std::string> ask_password(const std::string& prompt) {
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    termios saved{};
    const bool restore = tcgetattr(fd, &saved) == 0;
    g_prompt_signal = 0;
    if (restore) {
        g_prompt_saved = saved;
        g_prompt_fd = fd;
        struct sigaction on_signal {};
        on_signal.sa_handler = prompt_signal;  // no SA_RESTART: the read below returns
        sigemptyset(&on_signal.sa_mask);
        sigaction(SIGINT, &on_signal, &g_prompt_previous_int);
        sigaction(SIGQUIT, &on_signal, &g_prompt_previous_quit);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(fd, TCSANOW, &quiet);  // TCSANOW, not TCSAFLUSH: keep what was typed ahead
    }
    [[maybe_unused]] const ssize_t w = ::write(fd, prompt.data(), prompt.size());
    std::string password;
    char c = 0;
    for (;;) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR && g_prompt_signal == 0) continue;
        if (n != 1 || c == '\n') break;
        if (c != '\r') password += c;
    }
    if (restore) {
        tcsetattr(fd, TCSANOW, &saved);
        g_prompt_fd = -1;
        if (g_prompt_signal != SIGINT) sigaction(SIGINT, &g_prompt_previous_int, nullptr);
        if (g_prompt_signal != SIGQUIT) sigaction(SIGQUIT, &g_prompt_previous_quit, nullptr);
    }
    [[maybe_unused]] const ssize_t nl = ::write(fd, "\n", 1);
    ::close(fd);
    if (g_prompt_signal != 0) {
        std::fill(password.begin(), password.end(), '\0');
        // A handler of the command's own took the signal (watch): stop here all the same.
        throw Error(ErrorKind::connect, "interrupted at the password prompt", "before connecting", "nothing was done");
    }
    return password;
}

std::string password_prompt_text(const char* user) {
    return user != nullptr && *user != '\0' ? fmt::format("Password for user {}: ", user) : std::string("Password: ");
}

// The user a connection string names, else PGUSER: for -W's prompt, which comes before connecting.
std::string user_of(const std::string& conninfo) {
    std::string user;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
        if (std::string_view(o->keyword) == "user" && o->val) user = o->val;
    }
    PQconninfoFree(options);
    if (user.empty() && std::getenv("PGUSER")) user = std::getenv("PGUSER");
    return user;
}

PGconn* connect_to(const std::string& conninfo, const std::string* password) {
    // client_encoding last but one, so that it wins: files are UTF-8 (checked when read) and so is all output,
    // in a database of any encoding and whatever PGCLIENTENCODING says; a typed password wins over the string's.
    const char* keywords[] = {"dbname", "fallback_application_name", "client_encoding", "password", nullptr};
    const char* values[] = {conninfo.c_str(), "pgmig", "UTF8", password ? password->c_str() : nullptr, nullptr};
    if (password == nullptr) keywords[3] = nullptr;
    // expand_dbname=1: the dbname value may be a whole connection string or URI, as with psql -d.
    return PQconnectdbParams(keywords, values, 1);
}

const char* const kWhereTarget =
    "in the connection parameters (-d/--dbname, the environment's dbname, or PG* variables)";

}  // namespace

void set_password_prompt(PasswordPrompt mode) { password_prompt = mode; }

std::optional<std::string> conninfo_problem(const std::string& conninfo) {
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (options != nullptr) {
        PQconninfoFree(options);
        return std::nullopt;
    }
    const std::string message = parse_error ? one_line(parse_error) : std::string("out of memory");
    if (parse_error) PQfreemem(parse_error);
    for (const char* prefix : {"invalid connection option \"", "invalid URI query parameter: \""}) {
        const std::string name = quoted_after(message, prefix);
        if (!name.empty()) return fmt::format("unknown connection parameter \"{}\"", name);
    }
    return fmt::format("the connection string cannot be parsed: {}", without_quoted_values(message));
}

std::optional<std::string> parameter_value_problem(const std::string& libpq_message) {
    std::string name = quoted_after(libpq_message, "for connection option \"");  // invalid integer value "x" for ...
    if (name.empty() && libpq_message.find("invalid port number") != std::string::npos) name = "port";
    if (name.empty() && libpq_message.find("could not parse network address") != std::string::npos) name = "hostaddr";
    if (name.empty()) {
        // invalid sslmode value: "x" (also channel_binding, gssencmode, target_session_attrs, ssl_*_protocol_version)
        for (size_t at = libpq_message.find("invalid "); at != std::string::npos && name.empty();
             at = libpq_message.find("invalid ", at + 1)) {
            const size_t start = at + 8;
            const size_t end = libpq_message.find(" value", start);
            if (end == std::string::npos) break;
            const std::string word = libpq_message.substr(start, end - start);
            if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos)
                name = word;
        }
    }
    if (name.empty() && libpq_message.find("sslmode value") != std::string::npos) name = "sslmode";
    if (name.empty()) return std::nullopt;
    return fmt::format("the connection parameter \"{}\" has an invalid value (not shown: a value may be a secret)",
                       name);
}

Connection Connection::open(const std::string& conninfo) {
    // Parse first: libpq's parse errors may quote the string (and with it a password), so only the parameter's
    // name is shown.
    if (auto problem = conninfo_problem(conninfo)) {
        throw Error(ErrorKind::bad_conninfo, *problem, kWhereTarget,
                    "use key=value pairs (host=... dbname=...) or a postgresql:// URI with the parameters of "
                    "libpq (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-PARAMKEYWORDS)");
    }

    // The threads of health --serve connect at once: the typed password is read and written under a lock.
    static std::mutex typed_mutex;
    std::optional<std::string> password;  // typed for this connection string
    {
        const std::lock_guard<std::mutex> lock(typed_mutex);
        TypedPassword& typed = typed_password();
        if (password_prompt == PasswordPrompt::always && !typed.typed) {
            auto answer = ask_password(password_prompt_text(user_of(conninfo).c_str()));
            if (!answer) {
                throw Error(ErrorKind::connect, "-W/--password: there is no terminal to ask for the password on",
                            "before connecting",
                            "run on a terminal, or drop -W and put the password in ~/.pgpass, PGPASSFILE or "
                            "PGPASSWORD");
            }
            typed = TypedPassword{conninfo, *answer, true};
        }
        if (typed.typed && typed.conninfo == conninfo) password = typed.password;
    }
    Connection conn(connect_to(conninfo, password ? &*password : nullptr));
    if (!conn.conn_) throw Error(ErrorKind::connect, "cannot connect", "libpq is out of memory");

    // The server asks for a password we do not have: ask once on the terminal, as psql does.
    if (PQstatus(conn.raw()) != CONNECTION_OK && PQconnectionNeedsPassword(conn.raw()) && !password &&
        password_prompt != PasswordPrompt::never && isatty(STDIN_FILENO)) {
        const std::lock_guard<std::mutex> lock(typed_mutex);
        TypedPassword& typed = typed_password();
        if (typed.typed && typed.conninfo == conninfo) {
            password = typed.password;  // another thread asked meanwhile
        } else if (auto answer = ask_password(password_prompt_text(PQuser(conn.raw())))) {
            typed = TypedPassword{conninfo, *answer, true};
            password = *answer;
        }
        if (password) {
            conn = Connection(connect_to(conninfo, &*password));
            if (!conn.conn_) throw Error(ErrorKind::connect, "cannot connect", "libpq is out of memory");
        }
    }
    if (PQstatus(conn.raw()) != CONNECTION_OK) {
        const std::string message = one_line(PQerrorMessage(conn.raw()));
        if (auto problem = parameter_value_problem(message)) {
            throw Error(ErrorKind::bad_conninfo, *problem, kWhereTarget,
                        "correct the value (see https://www.postgresql.org/docs/15/libpq-connect.html)");
        }
        const bool needs_password = PQconnectionNeedsPassword(conn.raw()) != 0;
        throw Error(ErrorKind::connect, fmt::format("cannot connect: {}", message),
                    fmt::format("to {}", describe_target(conn.raw())),
                    needs_password ? "the server asks for a password: put it in ~/.pgpass (or PGPASSFILE, a service "
                                     "file, PGPASSWORD), or run on a terminal, where pgmig asks for it (-W asks first)"
                                   : "check -d/--dbname, --env or the PG* environment variables, and that the server "
                                     "is running");
    }
    require_pg_catalog_first(conn);
    audit_note_connection(describe_target(conn.raw()), PQuser(conn.raw()));
    return conn;
}

std::string Connection::target() const { return describe_target(conn_.get()); }

Result Connection::exec(const std::string& sql) const { return Result(PQexec(conn_.get(), sql.c_str())); }

Result Connection::exec_params(const std::string& sql, const std::vector<std::optional<std::string>>& params) const {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return Result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
}

Transaction::Transaction(const Connection& conn, Mode mode) : conn_(conn) {
    // An explicit level: a default_transaction_isolation of REPEATABLE READ would make the ledger refuse (PM004).
    Result res = conn_.exec(mode == Mode::read_only ? "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
                                                    : "BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!res.ok()) {
        throw Error(ErrorKind::connect, fmt::format("cannot begin a transaction: {}", res.error().message),
                    fmt::format("in {}", conn_.target()), "check the connection and run the command again");
    }
    open_ = true;
}

Transaction::~Transaction() { rollback(); }

Result Transaction::commit() {
    open_ = false;
    return conn_.exec("COMMIT");
}

void Transaction::rollback() {
    if (open_) conn_.exec("ROLLBACK");
    open_ = false;
}

std::string conninfo_with_database(const Connection& conn, const std::string& dbname, bool with_password) {
    auto quote = [](const std::string& v) {
        std::string out = "'";
        for (char c : v) {
            if (c == '\'' || c == '\\') out += '\\';
            out += c;
        }
        return out + "'";
    };
    std::string out;
    PQconninfoOption* options = PQconninfo(conn.raw());
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string key = o->keyword;
        if (key == "dbname" || (key == "password" && !with_password)) continue;
        out += key + "=" + quote(o->val) + " ";
    }
    PQconninfoFree(options);
    return out + "dbname=" + quote(dbname);
}

std::optional<std::string> installed_extension_version(const Connection& conn) {
    Result res = conn.exec("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pgmig'");
    if (!res.ok()) {
        const ServerError e = res.error();
        throw Error(ErrorKind::internal, fmt::format("cannot read pg_extension: {}", e.message),
                    fmt::format("in {}", conn.target()));
    }
    if (res.rows() == 0) return std::nullopt;
    return res.get(0, 0);
}

void require_extension(const Connection& conn) {
    const auto version = installed_extension_version(conn);
    if (!version) {
        // A server without the extension's files is what managed services (RDS, Cloud SQL, ...) are: CREATE
        // EXTENSION cannot help there, and the user needs to know which commands still work.
        Result available = conn.exec("SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pgmig'");
        if (available.ok() && available.rows() == 0) {
            throw Error(ErrorKind::extension,
                        "the pgmig extension is not installed in this database, and this server does not have it "
                        "(pg_available_extensions has no pgmig)",
                        fmt::format("in {}", conn.target()),
                        "install pgmig on the database server (`make install` there, as root), then run CREATE "
                        "EXTENSION pgmig; in the database as a superuser; a managed service that accepts no custom "
                        "extensions cannot have it: see \"Without the extension\" in docs/install.md for the "
                        "commands that work without it");
        }
        throw Error(ErrorKind::extension, "the pgmig extension is not installed in this database",
                    fmt::format("in {}", conn.target()), "run CREATE EXTENSION pgmig; in it as a superuser");
    }
    if (*version != PGMIG_VERSION) {
        throw Error(ErrorKind::extension,
                    fmt::format("the database has pgmig extension {} but this client is {}", *version, PGMIG_VERSION),
                    fmt::format("in {}", conn.target()),
                    fmt::format("run ALTER EXTENSION pgmig UPDATE TO '{}'; or use a pgmig client of version {}",
                                PGMIG_VERSION, *version));
    }
}

}  // namespace pgmig::client
