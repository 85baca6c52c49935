// libpq behind RAII: a connection, a result, server errors as data, and a password-free description of the target.
#pragma once

#include <libpq-fe.h>

#include "client/core/sql_names.hpp"  // quote_identifier
#include "common/array_literal.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::client {

struct PGconnDeleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct PGresultDeleter {
    void operator()(PGresult* res) const noexcept { PQclear(res); }
};

// What the server said when a statement failed.
struct ServerError {
    std::string sqlstate;  // e.g. "PM002"; empty when the connection itself broke
    std::string message;   // the primary message
    std::string detail;
    std::string hint;
};

class Connection;

// A server error about a migration statement the client sent itself (a non-transactional migration's),
// with every secret value of the statement (what pgmig.redact replaces) masked in its message, detail and
// hint by the extension (pgmig.redact_message), before the client prints or records it. When the
// extension cannot do it, a statement that mentions a secret-bearing keyword gets its error withheld.
ServerError without_secrets(const Connection& conn, const std::string& statement, ServerError e);

class Result {
  public:
    explicit Result(PGresult* res) : res_(res) {}
    bool ok() const;  // PGRES_COMMAND_OK or PGRES_TUPLES_OK
    int rows() const { return PQntuples(res_.get()); }
    bool is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
    std::string get(int row, int col) const;  // "" for NULL
    std::optional<std::string> get_opt(int row, int col) const;
    int column(const char* name) const;  // throws Error(internal) when the column is missing
    ServerError error() const;
    PGresult* raw() const { return res_.get(); }

  private:
    std::unique_ptr<PGresult, PGresultDeleter> res_;
};

// ==== passwords and connection-string problems ====
// When Connection::open asks for a password (on the terminal, /dev/tty, without echo), as psql does:
// when_asked: if the server asks for one and stdin is a terminal (then once more); always (-W/--password):
// before connecting; never (-w/--no-password): not at all. Set once by main.
enum class PasswordPrompt { when_asked, always, never };
void set_password_prompt(PasswordPrompt mode);

// What is wrong with a connection string or URI that libpq cannot parse, naming the parameter and never a
// value (a value may be a password); nullopt when libpq parses it.
std::optional<std::string> conninfo_problem(const std::string& conninfo);

// A connection failure of libpq about a parameter's value (sslmode=bogus, port=x, PGSSLMODE...): the
// parameter's name, without the value; nullopt for any other failure.
std::optional<std::string> parameter_value_problem(const std::string& libpq_message);

class Connection {
  public:
    // PQconnectdb(conninfo) with fallback_application_name=pgmig; an empty conninfo means the
    // libpq environment (PG* variables, pg_service.conf, ~/.pgpass). Asks for a password as
    // set_password_prompt says. Throws Error(connect), or Error(bad_conninfo) naming a bad parameter.
    static Connection open(const std::string& conninfo);

    // "host=... port=... dbname=... user=..." for messages: never the password.
    std::string target() const;

    // Runs a statement; a failure is returned, not thrown (the caller knows what it means).
    Result exec(const std::string& sql) const;
    Result exec_params(const std::string& sql, const std::vector<std::optional<std::string>>& params) const;

    PGconn* raw() const { return conn_.get(); }

  private:
    explicit Connection(PGconn* conn) : conn_(conn) {}
    std::unique_ptr<PGconn, PGconnDeleter> conn_;
};

// A transaction on a connection: BEGIN on construction (READ COMMITTED, which the ledger functions need,
// or READ ONLY), ROLLBACK on destruction unless commit() succeeded.
class Transaction {
  public:
    enum class Mode { read_write, read_only };
    explicit Transaction(const Connection& conn, Mode mode = Mode::read_write);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // COMMIT; a failure is returned (the transaction is over either way).
    Result commit();
    void rollback();

  private:
    const Connection& conn_;
    bool open_ = false;
};

// "host=... port=... dbname=... user=..." from a (possibly failed) connection, without the password.
std::string describe_target(const PGconn* conn);

// A search_path that names a schema before pg_catalog (ALTER DATABASE/ROLE ... SET search_path is open to a
// database owner) lets functions, operators and types there take the place of PostgreSQL's built-in ones in
// every query of the session, run with the client's rights. Connection::open refuses such a session (exit
// 44); health reports it as a failed connection. The schemas before pg_catalog, quoted ("" when none):
std::string schemas_before_pg_catalog(PGconn* conn);
std::string unsafe_search_path_message(const std::string& schemas);
inline constexpr const char* kUnsafeSearchPathHint =
    "take the schema out of search_path or put it after pg_catalog (leave pg_catalog implicit: ALTER DATABASE ... "
    "SET search_path = \"$user\", public); for pgmig alone, PGOPTIONS='-c search_path=public' overrides the "
    "database's and the role's setting";

// The connection parameters `conn` actually used, with another database: for a second connection to the
// same server (the password only when `with_password`, never for a command line or a message).
std::string conninfo_with_database(const Connection& conn, const std::string& dbname, bool with_password);

// The pgmig extension's installed version in the connected database; nullopt when it is not installed.
std::optional<std::string> installed_extension_version(const Connection& conn);

// Throws Error(extension) unless the extension is installed with the client's version.
void require_extension(const Connection& conn);

// A PostgreSQL text[] literal of the values ("NULL" for nullopt), for one parameter.
using common::text_array_literal;

}  // namespace pgmig::client
