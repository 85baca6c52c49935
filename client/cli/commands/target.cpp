// The target database of every command that connects: -d/--dbname, else --env's connection, else libpq's
// environment; and the password prompt (-W, -w). The one place that order is implemented.
#include "client/core/audit_log.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/core/db.hpp"

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
    // With -d, --env is not the connection: the commands that read more of the environment (backups, alerts,
    // shadow settings) look it up themselves, and approve/approvals take any name (approvals are per name).
    global.dbname = connection_for(global, global.env);
}

}  // namespace pgmig::client
