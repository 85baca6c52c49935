// pgmig monitor: the migration runs in progress in a database, started anywhere (client/ops/monitor.cpp).
#include "client/cli/commands/commands.hpp"
#include "client/core/db.hpp"
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"
#include "client/ops/monitor.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace pgmig::client {

int run_monitor(const GlobalOptions& global, const MonitorOptions& options) {
    if (options.interval_s < 0.1 || options.interval_s > 3600) {
        throw Error(ErrorKind::usage, fmt::format("bad --interval {}", options.interval_s), "on the command line",
                    "give seconds from 0.1 to 3600");
    }
    Connection conn = Connection::open(connection_for(global, options.env));
    require_extension(conn);
    conn.exec("SET application_name = 'pgmig monitor'");  // so that no other monitor takes it for a run
    const bool once = options.once || options.json;
    const bool tty = isatty(STDOUT_FILENO) != 0;
    for (;;) {
        const nlohmann::json sessions = sample_migrations(conn);
        if (options.json) {
            print_json_document(nlohmann::json{{"database", conn.target()}, {"sessions", sessions}});
        } else {
            if (!once && tty) std::fputs("\033[H\033[2J", stdout);  // redraw in place on a terminal
            if (sessions.empty()) {
                fmt::print("no migration running in {}\n", conn.target());
            } else {
                for (const auto& s : sessions)
                    fmt::print("pid {}: {}\n", s["pid"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                               describe_session(s));
            }
        }
        std::fflush(stdout);
        if (once) return kExitOk;
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long long>(options.interval_s * 1000)));
    }
}

}  // namespace pgmig::client
