// pgmig backup, backup list, backup verify, restore: the command-line side of client/ops/backup.hpp.
#include "client/ops/backup.hpp"
#include "client/cli/commands/commands.hpp"
#include "client/core/config.hpp"
#include "client/cli/json_output.hpp"

#include <signal.h>

#include <fmt/core.h>

#include <cstdio>
#include <iostream>

namespace pgmig::client {

namespace {

struct Target {
    std::string conninfo;
    std::string env_name;  // "default" without --env
    BackupSettings settings;
};

// -d wins over --env for the connection; --env still selects the backup settings and folder.
Target resolve_target(const GlobalOptions& global, const std::string& env_name, bool need_conninfo) {
    Target t;
    const ProjectConfig config = load_project_config();
    if (env_name.empty()) {
        t.env_name = kDefaultEnvironmentName;
        t.settings = config.backup;
        t.conninfo = global.dbname;
    } else {
        const Environment& env = find_environment(config, env_name);
        t.env_name = env.name;
        t.settings = env.backup_settings;
        t.conninfo = !global.dbname.empty() || !need_conninfo ? global.dbname : environment_conninfo(env);
    }
    return t;
}

std::string json_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : "-"; }

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace

int run_backup(const GlobalOptions& global, const BackupOptions& options) {
    signal(SIGPIPE, SIG_IGN);
    const Target t = resolve_target(global, options.env, true);
    const BackupInfo info =
        take_backup(t.conninfo, t.env_name, t.settings, resolve_key(KeyOptions{options.key_file}, t.settings), options.out);
    const auto& m = info.manifest;
    std::printf("backup written: %s (%s, %.1f s)\n", info.path.string().c_str(),
                mib(m["size"].get<std::uint64_t>()).c_str(), info.seconds);
    std::printf("  database %s, ledger version %s, fingerprint %s, key id %s\n", json_text(m["database"]).c_str(),
                json_text(m["ledger_version"]).c_str(), json_text(m["fingerprint"]).c_str(),
                json_text(m["key_id"]).c_str());
    for (const auto& removed : info.removed)
        std::printf("removed by retention (keep = %d): %s\n", t.settings.keep, removed.string().c_str());
    // For --json (the envelope's result): the file, its manifest and what retention removed.
    nlohmann::json& result = json_result();
    result["file"] = info.path.string();
    result["manifest"] = m;
    result["seconds"] = info.seconds;
    result["removed"] = nlohmann::json::array();
    for (const auto& removed : info.removed) result["removed"].push_back(removed.string());
    return kExitOk;
}

int run_backup_list(const BackupListOptions& options) {
    const Target t = resolve_target(GlobalOptions{}, options.env, false);
    const auto folder = backup_folder(t.settings, t.env_name, options.out);
    const auto entries = list_backups(folder);
    if (options.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : entries) {
            out.push_back({{"path", e.path.string()},
                           {"file_size", e.file_size},
                           {"manifest", e.manifest ? *e.manifest : nlohmann::json()},
                           {"manifest_problem",
                            e.manifest_problem.empty() ? nlohmann::json() : nlohmann::json(e.manifest_problem)}});
        }
        print_json_document(out);
        return kExitOk;
    }
    if (entries.empty()) {
        std::printf("no backups in %s\n", folder.string().c_str());
        return kExitOk;
    }
    std::printf("%-50s %-20s %10s %-16s %-16s %s\n", "backup", "created_at", "size", "ledger_version", "key_id",
                "fingerprint");
    for (const auto& e : entries) {
        const std::string name = e.path.filename().string();
        if (!e.manifest) {
            std::printf("%-50s manifest problem: %s\n", name.c_str(), e.manifest_problem.c_str());
            continue;
        }
        const auto& m = *e.manifest;
        std::printf("%-50s %-20s %10s %-16s %-16s %s\n", name.c_str(), json_text(m["created_at"]).c_str(),
                    mib(e.file_size).c_str(), json_text(m["ledger_version"]).c_str(), json_text(m["key_id"]).c_str(),
                    json_text(m["fingerprint"]).c_str());
    }
    return kExitOk;
}

int run_backup_verify(const BackupVerifyOptions& options) {
    signal(SIGPIPE, SIG_IGN);
    const Target t = resolve_target(GlobalOptions{}, options.env, false);
    const auto key = resolve_key(KeyOptions{options.key_file}, t.settings);
    int code = kExitOk;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& file : options.files) {
        const VerifyResult r = verify_backup(file, key);
        const double mbps = r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
        if (options.json) {
            out.push_back({{"path", file},
                           {"ok", !r.error},
                           {"exit_code", r.error ? r.error->exit_code() : 0},
                           {"error", r.error ? nlohmann::json(r.error->line()) : nlohmann::json()},
                           {"bytes", r.bytes},
                           {"archive_bytes", r.plain_bytes},
                           {"toc_entries", r.toc_entries},
                           {"seconds", r.seconds},
                           {"mb_per_s", mbps}});
        } else if (r.error) {
            std::printf("FAILED %s\n", file.c_str());
            report(*r.error);
        } else {
            std::printf("ok %s: %s, %llu archive entries, %.2f s (%.0f MB/s)\n", file.c_str(), mib(r.bytes).c_str(),
                        static_cast<unsigned long long>(r.toc_entries), r.seconds, mbps);
        }
        if (r.error && code == kExitOk) code = r.error->exit_code();
    }
    if (options.json) print_json_document(out);
    return code;
}

int run_restore(const GlobalOptions& global, const RestoreOptions& options) {
    signal(SIGPIPE, SIG_IGN);
    const Target t = resolve_target(global, options.env, true);
    const auto key = resolve_key(KeyOptions{options.key_file}, t.settings);
    const RestoreResult r = restore_backup(options.file, t.conninfo, options.to, key);
    if (r.not_compared) {
        std::printf("restored %s into database %s in %.1f s; fingerprint %s not compared: %s\n", options.file.c_str(),
                    r.database.c_str(), r.seconds, r.fingerprint.value_or("(no pgmig extension)").c_str(),
                    r.not_compared->c_str());
    } else {
        std::printf("restored %s into database %s in %.1f s; fingerprint %s equals the backup's\n",
                    options.file.c_str(), r.database.c_str(), r.seconds,
                    r.fingerprint.value_or("(no pgmig extension)").c_str());
    }
    nlohmann::json& result = json_result();  // for --json
    result["file"] = options.file;
    result["database"] = r.database;
    result["seconds"] = r.seconds;
    result["fingerprint"] = r.fingerprint ? nlohmann::json(*r.fingerprint) : nlohmann::json(nullptr);
    result["fingerprint_compared"] = !r.not_compared.has_value();
    if (r.not_compared) result["fingerprint_not_compared"] = *r.not_compared;
    return kExitOk;
}

}  // namespace pgmig::client
