// Unit tests of client/config: pgmig.toml and the default migrations folder.
#include "client/core/config.hpp"

#include "client/core/errors.hpp"

#include <gtest/gtest.h>

#include "tests/unit/temp_cwd.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace pgmig::client;

namespace {

// One file per test process: ctest -j runs the tests of this file in parallel processes.
fs::path config_file() {
    return fs::temp_directory_path() / ("pgmig-config-test-" + std::to_string(getpid()) + ".toml");
}

class ConfigDir : public TempCwd {
  protected:
    void write(const std::string& content) { std::ofstream(dir_ / kConfigFile) << content; }
};

}  // namespace

TEST_F(ConfigDir, NoFileMeansMigrations) { EXPECT_EQ(resolve_migrations_dir(""), "migrations"); }

TEST_F(ConfigDir, FileSetsTheDefaultDir) {
    write("migrations = \"db/changes\"\n");
    EXPECT_EQ(resolve_migrations_dir(""), "db/changes");
    EXPECT_EQ(resolve_migrations_dir("other"), "other");  // --dir wins
}

TEST_F(ConfigDir, FormatOfTheProjectFolder) {
    EXPECT_FALSE(resolve_folder_format("migrations").has_value());  // no file: detected
    write("migrations = \"db\"\nformat = \"goose\"\n");
    EXPECT_EQ(resolve_folder_format("db"), FolderFormat::goose);
    EXPECT_EQ(resolve_folder_format("./db/"), FolderFormat::goose);  // the same folder, spelled otherwise
    EXPECT_FALSE(resolve_folder_format("elsewhere").has_value());    // another folder's files speak for it
    set_format_option("dbmate");                                     // --format wins
    EXPECT_EQ(resolve_folder_format("db"), FolderFormat::dbmate);
    EXPECT_EQ(resolve_folder_format("elsewhere"), FolderFormat::dbmate);
    set_format_option("");
    write("format = \"flyway\"\n");
    try {
        resolve_folder_format("migrations");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::input);
        EXPECT_NE(e.line().find("key 'format' is 'flyway', not a format pgmig reads"), std::string::npos) << e.line();
        EXPECT_NE(e.line().find("sql-migrate"), std::string::npos) << e.line();
    }
}

TEST_F(ConfigDir, UnknownKeyIsNamed) {
    write("migrations = \"m\"\nenvironment = \"prod\"\n");
    try {
        resolve_migrations_dir("");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::input);
        EXPECT_NE(e.line().find("unknown key 'environment'"), std::string::npos) << e.line();
        EXPECT_NE(e.line().find("pgmig.toml"), std::string::npos) << e.line();
    }
}

TEST_F(ConfigDir, WrongTypeAndSyntaxErrors) {
    write("migrations = 3\n");
    EXPECT_THROW(resolve_migrations_dir(""), Error);
    write("migrations = \n");
    try {
        resolve_migrations_dir("");
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(e.line().find("line 1"), std::string::npos) << e.line();
    }
}

namespace {

// The error line of loading a pgmig.toml, or "" when it loads.
std::string load_error(const std::string& content) {
    const fs::path file = config_file();
    std::ofstream(file) << content;
    try {
        load_config(file);
        fs::remove(file);
        return "";
    } catch (const Error& e) {
        fs::remove(file);
        return e.line();
    }
}

// (the file goes also when loading throws: a test that expects the throw must not leave it in /tmp)
ProjectConfig load_text(const std::string& content) {
    const fs::path file = config_file();
    std::ofstream(file) << content;
    try {
        ProjectConfig config = load_config(file);
        fs::remove(file);
        return config;
    } catch (...) {
        fs::remove(file);
        throw;
    }
}

}  // namespace

TEST(Config, EnvironmentsInheritBackupAndNameAlerts) {
    const ProjectConfig config = load_text(R"(
audit_log = "log/audit.jsonl"
[environments.production]
dbname_env = "PROD_URL"
backup = true
approval = true
lint = "error"
alerts = ["ops"]
backup_dir = "/var/backups/prod"
backup_keep = 14
[backup]
dir = "bk"
keep = 3
key_env = "PGMIG_KEY"
[environments.staging]
dbname = "host=/tmp dbname=staging"
[alerts.ops]
type = "webhook"
url = "http://127.0.0.1:9/hook"
secret_env = "HOOK_SECRET"
timeout = "2s"
retries = 1
events = ["deploy_failed", "drift_detected"]
)");
    EXPECT_EQ(config.audit_log, "log/audit.jsonl");
    const Environment& prod = find_environment(config, "production");
    EXPECT_TRUE(prod.backup);
    EXPECT_TRUE(prod.approval);
    EXPECT_EQ(prod.lint, "error");
    EXPECT_EQ(prod.backup_settings.dir, "/var/backups/prod");
    EXPECT_EQ(prod.backup_settings.keep, 14);
    EXPECT_EQ(prod.backup_settings.key_env, "PGMIG_KEY");  // from [backup], written after the environment
    const Environment& staging = find_environment(config, "staging");
    EXPECT_FALSE(staging.backup);
    EXPECT_EQ(staging.backup_settings.dir, "bk");
    EXPECT_EQ(staging.backup_settings.keep, 3);
    EXPECT_EQ(environment_conninfo(staging), "host=/tmp dbname=staging");
    const AlertTarget& ops = config.alerts.at("ops");
    EXPECT_EQ(ops.kind, AlertTarget::Kind::webhook);
    EXPECT_EQ(ops.timeout_ms, 2000);
    EXPECT_EQ(ops.retries, 1);
    EXPECT_EQ(ops.events.size(), 2U);

    ::setenv("PGMIG_CONFIG_TEST_URL", "dbname=prod", 1);
    Environment env = prod;
    env.dbname_env = "PGMIG_CONFIG_TEST_URL";
    EXPECT_EQ(environment_conninfo(env), "dbname=prod");
    ::unsetenv("PGMIG_CONFIG_TEST_URL");
    EXPECT_THROW(environment_conninfo(env), Error);
}

TEST(Config, RefusesWhatItCannotUse) {
    EXPECT_NE(load_error("[environments.prod]\nbackup = \"yes\"\n").find("key 'environments.prod.backup' must be true or false"),
              std::string::npos);
    EXPECT_NE(load_error("[environments.prod]\ncolour = 1\n").find("unknown key 'environments.prod.colour'"),
              std::string::npos);
    EXPECT_NE(load_error("[environments.prod]\nalerts = [\"nobody\"]\n").find("alert target 'nobody'"),
              std::string::npos);
    EXPECT_NE(load_error("[environments.prod]\nlint = \"strict\"\n").find("use one of: off, error, warning"),
              std::string::npos);
    // A secret written where the name of a variable belongs is refused, and not echoed in the reason.
    const std::string secret = load_error("[backup]\nkey_env = \"s3cr3t-key!\"\n");
    EXPECT_NE(secret.find("must name an environment variable"), std::string::npos) << secret;
    EXPECT_EQ(secret.find("s3cr3t"), std::string::npos) << secret;
    EXPECT_NE(load_error("[alerts.a]\nurl = \"http://x\"\n").find("has no type"), std::string::npos);
    EXPECT_NE(load_error("[alerts.a]\ntype = \"email\"\nsmtp = \"smtp://h:25\"\n").find("needs smtp, from and to"),
              std::string::npos);
    EXPECT_NE(load_error("[alerts.a]\ntype = \"webhook\"\nurl = \"http://x\"\ntimeout = \"5 parsecs\"\n")
                  .find("not a duration"),
              std::string::npos);
    EXPECT_NE(load_error("[alerts.a]\ntype = \"webhook\"\nurl = \"http://x\"\nevents = [\"lunch\"]\n")
                  .find("unknown event 'lunch'"),
              std::string::npos);
    EXPECT_EQ(load_error("[alerts.a]\ntype = \"webhook\"\nurl = \"http://x\"\ntimeout = 1500\n"), "");
    // libcurl reads a timeout of 0 as none: an alert timeout is at least 100ms.
    for (const char* zero : {"0", "\"0ms\"", "\"0s\"", "99"}) {
        const std::string error =
            load_error(std::string("[alerts.a]\ntype = \"webhook\"\nurl = \"http://x\"\ntimeout = ") + zero + "\n");
        EXPECT_NE(error.find("key 'alerts.a.timeout'"), std::string::npos) << zero << ": " << error;
        EXPECT_NE(error.find("at least 100ms"), std::string::npos) << zero << ": " << error;
    }
    EXPECT_EQ(load_error("[alerts.a]\ntype = \"webhook\"\nurl = \"http://x\"\ntimeout = \"100ms\"\n"), "");
}

TEST(Config, FindEnvironmentListsTheKnownOnes) {
    const ProjectConfig config = load_text("[environments.dev]\ndbname = \"dbname=dev\"\n");
    try {
        find_environment(config, "prod");
        FAIL() << "found";
    } catch (const Error& e) {
        EXPECT_NE(e.line().find("no environment 'prod'"), std::string::npos) << e.line();
        EXPECT_NE(e.line().find("use one of: dev"), std::string::npos) << e.line();
    }
}

TEST_F(ConfigDir, SchemaFolderAndShadowSettings) {
    EXPECT_EQ(resolve_schema_dir(""), "schema");
    EXPECT_EQ(resolve_schema_dir("desired"), "desired");
    write("schema = \"db/schema\"\nshadow_db = \"pgmig_shadow_ci\"\nshadow_owner = \"ci\"\n"
          "[environments.dev]\ndbname = \"dbname=dev\"\nshadow_server = \"host=/tmp port=5499 dbname=postgres\"\n"
          "[environments.prod]\ndbname = \"dbname=prod\"\nshadow_db = \"prod_shadow\"\n");
    EXPECT_EQ(resolve_schema_dir(""), "db/schema");
    const ProjectConfig config = load_project_config();
    EXPECT_EQ(config.shadow.db, "pgmig_shadow_ci");
    EXPECT_EQ(config.shadow.owner, "ci");
    EXPECT_EQ(config.shadow.server, "");
    // An environment inherits the top-level keys and overrides those it names.
    const Environment& dev = find_environment(config, "dev");
    EXPECT_EQ(dev.shadow.db, "pgmig_shadow_ci");
    EXPECT_EQ(dev.shadow.owner, "ci");
    EXPECT_EQ(dev.shadow.server, "host=/tmp port=5499 dbname=postgres");
    EXPECT_EQ(find_environment(config, "prod").shadow.db, "prod_shadow");
}

TEST(Config, ShadowServerRefusesAPassword) {
    for (const char* server : {"host=h password=s3cr3t dbname=postgres", "postgresql://u:s3cr3t@h/postgres"}) {
        const std::string error = load_error(std::string("shadow_server = \"") + server + "\"\n");
        EXPECT_NE(error.find("key 'shadow_server' holds a password"), std::string::npos) << error;
        EXPECT_EQ(error.find("s3cr3t"), std::string::npos) << error;
        const std::string in_env =
            load_error(std::string("[environments.dev]\nshadow_server = \"") + server + "\"\n");
        EXPECT_NE(in_env.find("environments.dev.shadow_server"), std::string::npos) << in_env;
    }
    EXPECT_NE(load_error("shadow_db = 3\n").find("key 'shadow_db' must be a non-empty string"), std::string::npos);
}

TEST(Config, InlinePasswordIsRefusedNamingTheEnvironment) {
    // Both forms libpq reads, and the URI's query parameter: refused with their own exit code, the value never shown.
    for (const char* conninfo : {"host=h password=s3cr3t dbname=app", "postgresql://u:s3cr3t@h/app",
                                 "postgresql://u@h/app?password=s3cr3t", "host=h sslpassword=s3cr3t dbname=app",
                                 "host=h password='s3cr3t x' dbname=app"}) {
        try {
            (void)load_text(std::string("[environments.prod]\ndbname = \"") + conninfo + "\"\n");
            ADD_FAILURE() << "accepted " << conninfo;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::inline_password) << conninfo;
            EXPECT_EQ(e.exit_code(), 42);
            const std::string text = e.line() + " " + e.hint();
            EXPECT_NE(text.find("environment 'prod'"), std::string::npos) << text;
            EXPECT_NE(text.find("~/.pgpass"), std::string::npos) << text;
            EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
        }
    }
    // No password: accepted (a plain name, a URI without one, a service).
    for (const char* conninfo : {"app", "host=h dbname=app user=u", "postgresql://u@h/app", "service=prod"}) {
        EXPECT_NO_THROW((void)load_text(std::string("[environments.prod]\ndbname = \"") + conninfo + "\"\n"))
            << conninfo;
    }
    // Alert URLs with user:password@ are refused the same way.
    try {
        (void)load_text("[alerts.mail]\ntype = \"email\"\nsmtp = \"smtp://u:s3cr3t@mail\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n");
        ADD_FAILURE() << "accepted an SMTP URL with a password";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::inline_password);
        EXPECT_EQ((e.line() + e.hint()).find("s3cr3t"), std::string::npos);
    }
}
