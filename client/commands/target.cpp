// The target database of every command that connects: -d/--dbname, else --env's connection, else libpq's
// environment; and the password prompt (-W, -w). The one place that order is implemented.
#include "client/audit_log.hpp"
#include "client/commands/commands.hpp"
#include "client/config.hpp"
#include "client/db.hpp"

namespace pgmig::client {

std::string connection_for(const GlobalOptions& global, const std::string& env) {
    if (!env.empty()) audit_note_environment(env);
    if (!global.dbname.empty() || env.empty()) return global.dbname;
    return environment_conninfo(find_environment(load_project_config(), env));
}

void resolve_target(GlobalOptions& global) {
    set_password_prompt(global.password      ? PasswordPrompt::always
                        : global.no_password ? PasswordPrompt::never
                                             : PasswordPrompt::when_asked);
    // An unknown --env is an error also when -d is given: the environment may choose more than the connection
    // (approvals, alerts, backups), and a misspelt name must not pass unnoticed.
    if (!global.env.empty()) find_environment(load_project_config(), global.env);
    global.dbname = connection_for(global, global.env);
}

}  // namespace pgmig::client
