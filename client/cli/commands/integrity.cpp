// pgmig check-integrity: migrate_check_integrity()'s report, in a read-only transaction.
#include "client/cli/commands/commands.hpp"
#include "client/core/counted.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ledger/integrity.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace pgmig::client {

int run_check_integrity(const GlobalOptions& global, const CheckIntegrityOptions& options) {
    Connection conn = Connection::open(global.dbname);
    require_extension(conn);
    const std::string target = conn.target();
    std::vector<IntegrityFinding> findings;
    {
        Transaction tx(conn, Transaction::Mode::read_only);
        findings = read_integrity(conn, fmt::format("checking integrity, in {}", target));
        tx.rollback();
    }
    const auto errors =
        std::count_if(findings.begin(), findings.end(), [](const IntegrityFinding& f) { return f.severity == "error"; });
    const auto warnings = static_cast<long>(findings.size()) - errors;
    if (options.json) {
        nlohmann::json out = {{"ok", errors == 0}, {"errors", errors}, {"warnings", warnings}};
        out["findings"] = nlohmann::json::array();
        for (const auto& f : findings) out["findings"].push_back(integrity_json(f));
        print_json_document(out);
    } else {
        for (const auto& f : findings) fmt::print("{}: {}\n", f.severity, integrity_line(f));
        fmt::print("integrity of {}: {}, {}\n", target, counted(errors, "problem"), counted(warnings, "warning"));
    }
    if (errors > 0) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "pgmig: error: integrity check found %s, in %s; fix them as each line says "
                     "(nothing was changed)\n",
                     counted(errors, "problem").c_str(), target.c_str());
        return exit_code(ErrorKind::integrity);
    }
    return kExitOk;
}

}  // namespace pgmig::client
