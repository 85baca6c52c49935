// A bounded random-input driver for migrate_lint(sql, options) (extension/lint.cpp), run by scripts/fuzz
// against a throwaway cluster: statements from the seed files, mutated (tokens replaced, spans cut and
// repeated, seeds spliced, quotes, comments, waivers and deep nesting inserted), linted with random
// options through libpq. It fails when the backend dies (the connection is lost), when a call raises a
// SQLSTATE outside the expected set (an internal error XX000 is a bug), or when one call takes longer
// than the statement_timeout (a hang). The server log is checked for PANIC and crashes by scripts/fuzz.
//
//   lint_driver --seconds N [--seed S] [--max-runs N] [--save DIR] CONNINFO SEED_FILE...
//
// Failing inputs are written to DIR (one file each: the SQL, then the options on the first line).
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Args {
    double seconds = 10;
    unsigned long long seed = 0;
    long max_runs = -1;
    std::string save;
    std::string conninfo;
    std::vector<std::string> seeds;
};

// Statements of a seed file: split at ";" that ends a line (good enough for seeds; mutations break them anyway).
std::vector<std::string> statements_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> out;
    std::string current;
    std::string line;
    while (std::getline(text, line)) {
        if (line.rfind("\\", 0) == 0) continue;  // psql meta-commands of the sql/ tests
        current += line + "\n";
        if (!line.empty() && line.back() == ';') {
            if (current.find_first_not_of(" \t\n") != std::string::npos) out.push_back(current);
            current.clear();
        }
    }
    if (!current.empty()) out.push_back(current);
    return out;
}

const std::vector<std::string> kTokens = {
    "CREATE",
    "TABLE",
    "INDEX",
    "CONCURRENTLY",
    "ALTER",
    "DROP",
    "COLUMN",
    "ADD",
    "SET",
    "NOT NULL",
    "DEFAULT",
    "now()",
    "random()",
    "TYPE",
    "USING",
    "CONSTRAINT",
    "CHECK",
    "NOT VALID",
    "VALIDATE",
    "PRIMARY KEY",
    "UNIQUE",
    "REFERENCES",
    "FOREIGN KEY",
    "RENAME",
    "TO",
    "IF EXISTS",
    "IF NOT EXISTS",
    "CASCADE",
    "VACUUM",
    "FULL",
    "CLUSTER",
    "LOCK",
    "TRUNCATE",
    "UPDATE",
    "DELETE FROM",
    "WHERE",
    "INSERT INTO",
    "VALUES",
    "SELECT",
    "FROM",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "DO $$ BEGIN NULL; END $$",
    "CREATE ROLE r PASSWORD 'x'",
    "GENERATED ALWAYS AS IDENTITY",
    "GENERATED ALWAYS AS (1) STORED",
    "serial",
    "bigint",
    "int",
    "json",
    "jsonb",
    "timestamp",
    "varchar(10)",
    "text",
    "numeric(10,2)",
    "t",
    "public.t",
    "\"Quoted\"\"Name\"",
    "u&\"d\\0061t\"",
    "'lit''eral'",
    "E'\\n\\\\'",
    "$tag$ body $tag$",
    "$$",
    "/* c /* nested */ */",
    "-- comment\n",
    "-- pgmig:allow drop-table\n",
    "-- pgmig:allow nonsense-rule\n",
    "-- pgmig:allow\n",
    "-- pgmig:allow drop-table, rename-column -- reason\n",
    ";",
    ",",
    "(",
    ")",
    "((((",
    "))))",
    "::",
    "=",
    "1e400",
    "'\xc3\xa9t\xc3\xa9'",
    "\xe2\x80\xa8",
    "PARTITION BY RANGE (id)",
    "ATTACH PARTITION",
    "SET lock_timeout = '1s'",
    "SET LOCAL statement_timeout = 0",
    "RESET ALL",
    "CREATE EXTENSION pgmig",
    "COMMENT ON TABLE t IS 'x'",
};

// Valid options (most calls), and options the function must refuse cleanly (PM016).
const std::vector<std::string> kOptions = {
    "{}",
    "{\"transactional\": false}",
    "{\"transactional\": true}",
    "{\"allow\": [\"drop-table\"]}",
    "{\"lock_timeout\": \"5s\"}",
    "{\"lock_timeout\": 0}",
};
const std::vector<std::string> kBadOptions = {
    "{\"allow\": [\"no-such-rule\"]}",
    "{\"allow\": \"drop-table\"}",
    "{\"lock_timeout\": -1}",
    "{\"lock_timeout\": \"forever\"}",
    "{\"unknown\": 1}",
    "[]",
    "null",
    "{\"transactional\": \"yes\"}",
    "{\"allow\": [1, 2]}",
};

// Expected failures of a call: the options or the text refused (PM016, 22P02, 22021 for bytes the server's
// encoding refuses), a script nested too deep for the parser (54001), or too long (54000).
const std::set<std::string> kExpected = {"PM016", "PM007", "22P02", "22021", "22023", "54001", "54000", "42601"};

class Mutator {
  public:
    explicit Mutator(unsigned long long seed) : rng_(seed) {}
    std::size_t below(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

    std::string mutate(std::string s, const std::vector<std::string>& seeds) {
        const std::size_t steps = 1 + below(6);
        for (std::size_t k = 0; k < steps; ++k) {
            const std::size_t at = below(s.size() + 1);
            switch (below(9)) {
                case 0:  // insert a token
                    s.insert(at, " " + kTokens[below(kTokens.size())] + " ");
                    break;
                case 1:  // cut a span
                    if (!s.empty()) s.erase(at > 0 ? at - 1 : 0, 1 + below(16));
                    break;
                case 2: {  // repeat a span
                    if (s.empty()) break;
                    const std::size_t from = below(s.size());
                    const std::string span = s.substr(from, 1 + below(24));
                    const std::size_t times = 1 + below(4);
                    for (std::size_t t = 0; t < times; ++t) s.insert(at, span);
                    break;
                }
                case 3:  // splice another seed
                    s.insert(at, seeds[below(seeds.size())]);
                    break;
                case 4: {  // a random printable or special byte
                    static const std::string special = "'\"$;()/*-\\\n\t ,.:=<>[]{}|&^%#@!`~eEuU0123456789";
                    s.insert(at, 1, special[below(special.size())]);
                    break;
                }
                case 5:  // a waiver comment on a line of its own
                    s.insert(at, "\n-- pgmig:allow " + std::string(below(2) ? "drop-table" : "x") + "\n");
                    break;
                case 6: {  // deep nesting: parentheses, function calls, unary minus, CASE
                    const std::size_t depth = 1 + below(below(10) == 0 ? 20000 : 40);
                    static const char* const open[] = {"(", "abs(", "- ", "CASE WHEN true THEN "};
                    static const char* const close[] = {")", ")", "", " END"};
                    const std::size_t kind = below(4);
                    std::string nested;
                    for (std::size_t d = 0; d < depth; ++d) nested += open[kind];
                    nested += "1";
                    for (std::size_t d = 0; d < depth; ++d) nested += close[kind];
                    s.insert(at, below(2) == 0 ? nested : " ALTER TABLE t ADD COLUMN d int DEFAULT " + nested + ";");
                    break;
                }
                case 7:  // replace a byte: mostly printable ASCII, sometimes any (never NUL: libpq parameters
                         // are C strings; bytes that are not UTF-8 are refused with 22021)
                    if (!s.empty()) {
                        s[below(s.size())] = static_cast<char>(below(10) == 0 ? 1 + below(255) : 0x20 + below(0x5f));
                    }
                    break;
                default:  // truncate
                    s.resize(below(s.size() + 1));
                    break;
            }
        }
        return s;
    }

  private:
    std::mt19937_64 rng_;
};

std::string escape_for_log(const std::string& s, std::size_t max = 300) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "lint_driver: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--seconds") {
            a.seconds = std::stod(value());
        } else if (arg == "--seed") {
            a.seed = std::stoull(value());
        } else if (arg == "--max-runs") {
            a.max_runs = std::stol(value());
        } else if (arg == "--save") {
            a.save = value();
        } else if (a.conninfo.empty()) {
            a.conninfo = arg;
        } else {
            a.seeds.push_back(arg);
        }
    }
    if (a.conninfo.empty() || a.seeds.empty()) {
        std::fprintf(stderr,
                     "usage: lint_driver --seconds N [--seed S] [--max-runs N] [--save DIR] CONNINFO SEED...\n");
        std::exit(2);
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);
    std::vector<std::string> seeds;
    for (const auto& f : args.seeds) {
        for (auto& s : statements_of(f)) seeds.push_back(std::move(s));
    }
    if (seeds.empty()) {
        std::fprintf(stderr, "lint_driver: no statements in the seed files\n");
        return 2;
    }
    PGconn* conn = PQconnectdb(args.conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::fprintf(stderr, "lint_driver: cannot connect: %s", PQerrorMessage(conn));
        return 2;
    }
    PQclear(PQexec(conn, "SET statement_timeout = '20s'"));
    PQclear(PQexec(conn, "SET client_min_messages = error"));

    Mutator m(args.seed);
    const auto start = std::chrono::steady_clock::now();
    long runs = 0;
    long refused = 0;
    long failures = 0;
    std::set<std::string> states;
    while (true) {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (elapsed >= args.seconds || (args.max_runs >= 0 && runs >= args.max_runs)) break;
        std::string sql = m.mutate(seeds[m.below(seeds.size())], seeds);
        if (m.below(4) == 0) sql = m.mutate(sql + seeds[m.below(seeds.size())], seeds);  // multi-statement
        const std::string& options =
            m.below(8) == 0 ? kBadOptions[m.below(kBadOptions.size())] : kOptions[m.below(kOptions.size())];
        const char* params[2] = {sql.c_str(), options.c_str()};
        PGresult* res = PQexecParams(conn, "SELECT count(*) FROM migrate_lint($1, $2::jsonb)", 2, nullptr, params,
                                     nullptr, nullptr, 0);
        ++runs;
        const ExecStatusType status = PQresultStatus(res);
        std::string state;
        if (status != PGRES_TUPLES_OK) {
            const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            state = s != nullptr ? s : "";
        }
        const bool lost = PQstatus(conn) != CONNECTION_OK;
        const bool ok = status == PGRES_TUPLES_OK || (!lost && kExpected.count(state) != 0);
        if (!ok) {
            ++failures;
            std::fprintf(stderr, "lint_driver: run %ld: %s%s: %s\n  sql: %s\n  options: %s\n", runs,
                         lost ? "the connection was lost (the backend died?)" : "unexpected SQLSTATE ",
                         lost ? "" : state.c_str(), lost ? PQerrorMessage(conn) : PQresultErrorMessage(res),
                         escape_for_log(sql).c_str(), options.c_str());
            if (!args.save.empty()) {
                std::ofstream out(
                    args.save + "/lint-failure-" + std::to_string(args.seed) + "-" + std::to_string(runs) + ".sql",
                    std::ios::binary);
                out << "-- options: " << options << "\n" << sql;
            }
        } else if (status != PGRES_TUPLES_OK) {
            ++refused;
            states.insert(state);
        }
        PQclear(res);
        if (lost) break;
    }
    std::string seen;
    for (const auto& s : states) seen += (seen.empty() ? "" : ",") + s;
    std::printf("lint_driver: %ld runs, %ld refused as expected (%s), %ld failures, seed %llu\n", runs, refused,
                seen.empty() ? "none" : seen.c_str(), failures, args.seed);
    PQfinish(conn);
    return failures == 0 ? 0 : 1;
}
