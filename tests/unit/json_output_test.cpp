// The --json envelope's error: what to do next comes from the error's hint, else its next step.
#include "client/core/errors.hpp"
#include "client/cli/json_output.hpp"

#include <gtest/gtest.h>

namespace pgmig::client {
namespace {

TEST(JsonEnvelope, ErrorNamesItsNextStepAsTheHint) {
    const Error e(ErrorKind::connect, "cannot connect", "to host=db port=5432",
                  "check -d/--dbname, --env or the PG* environment variables");
    const nlohmann::json out = json_envelope("status", e.exit_code(), &e);
    EXPECT_FALSE(out["ok"].get<bool>());
    EXPECT_EQ(out["error"]["kind"], "connect");
    EXPECT_EQ(out["error"]["exit_code"], 4);
    EXPECT_EQ(out["error"]["hint"], "check -d/--dbname, --env or the PG* environment variables");
}

TEST(JsonEnvelope, AnExplicitHintWinsOverTheNextStep) {
    const Error e(ErrorKind::permission_denied, "permission denied for function migrate_status", "in db",
                  "nothing was done", "GRANT pgmig_reader TO alice");
    EXPECT_EQ(json_envelope("status", e.exit_code(), &e)["error"]["hint"], "GRANT pgmig_reader TO alice");
}

TEST(JsonEnvelope, NoNextStepIsNull) {
    const Error e(ErrorKind::usage, "no command given");
    EXPECT_TRUE(json_envelope("", e.exit_code(), &e)["error"]["hint"].is_null());
}

TEST(JsonEnvelope, APasswordInTheNextStepIsMasked) {
    const Error e(ErrorKind::connect, "cannot connect", "", "retry with -d 'host=db password=sekrit'");
    const std::string hint = json_envelope("apply", e.exit_code(), &e)["error"]["hint"].get<std::string>();
    EXPECT_EQ(hint.find("sekrit"), std::string::npos) << hint;
}

}  // namespace
}  // namespace pgmig::client
