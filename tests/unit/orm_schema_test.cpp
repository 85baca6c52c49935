// Unit tests of client/diff/orm_schema: the drizzle:/prisma: prefixes, the tools' arguments and environment.
#include "client/diff/orm_schema.hpp"

#include "client/core/errors.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace pgmig::client {
namespace {

TEST(OrmSchema, PrefixesNameTheTool) {
    const auto drizzle = parse_orm_schema_source("drizzle:src/db/schema.ts");
    ASSERT_TRUE(drizzle);
    EXPECT_EQ(drizzle->tool, OrmTool::drizzle);
    EXPECT_EQ(drizzle->path, "src/db/schema.ts");
    EXPECT_EQ(drizzle->text, "drizzle:src/db/schema.ts");
    const auto prisma = parse_orm_schema_source("prisma:prisma/schema.prisma");
    ASSERT_TRUE(prisma);
    EXPECT_EQ(prisma->tool, OrmTool::prisma);
    EXPECT_EQ(prisma->path, "prisma/schema.prisma");
}

TEST(OrmSchema, FoldersAndConnectionStringsAreNotOrmSchemas) {
    EXPECT_FALSE(parse_orm_schema_source("schema"));
    EXPECT_FALSE(parse_orm_schema_source("db/drizzle:x"));
    EXPECT_FALSE(parse_orm_schema_source("postgresql://app@db/app"));
    EXPECT_FALSE(parse_orm_schema_source("dbname=app host=/tmp"));
    EXPECT_FALSE(parse_orm_schema_source("Drizzle:src/db/schema.ts"));  // the prefix is lower case
}

TEST(OrmSchema, APrefixWithoutAPathIsAUsageError) {
    try {
        (void)parse_orm_schema_source("prisma:");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("prisma:prisma/schema.prisma"), std::string::npos);
    }
}

TEST(OrmSchema, ToolArguments) {
    using V = std::vector<std::string>;
    EXPECT_EQ(orm_tool_arguments(OrmTool::drizzle, "src/db/schema.ts", 0),
              (V{"export", "--sql", "--dialect", "postgresql", "--schema", "src/db/schema.ts"}));
    EXPECT_EQ(orm_tool_arguments(OrmTool::drizzle, "drizzle.config.ts", 0),
              (V{"export", "--sql", "--config", "drizzle.config.ts"}));
    EXPECT_EQ(orm_tool_arguments(OrmTool::prisma, "prisma/schema.prisma", 6),
              (V{"migrate", "diff", "--from-empty", "--to-schema-datamodel", "prisma/schema.prisma", "--script"}));
    EXPECT_EQ(orm_tool_arguments(OrmTool::prisma, "prisma/schema.prisma", 7),
              (V{"migrate", "diff", "--from-empty", "--to-schema", "prisma/schema.prisma", "--script"}));
}

TEST(OrmSchema, TheToolGetsNoPgVariable) {
    const std::vector<std::string> env = orm_tool_environment(
        {"PATH=/usr/bin", "PGPASSWORD=secret", "PGHOST=db", "PGMIG_ORM_TIMEOUT=5", "HOME=/root", "NO_COLOR=0"});
    for (const auto& e : env) EXPECT_NE(e.rfind("PG", 0), 0U) << e;
    EXPECT_NE(std::find(env.begin(), env.end(), "PATH=/usr/bin"), env.end());
    EXPECT_NE(std::find(env.begin(), env.end(), "HOME=/root"), env.end());
    EXPECT_NE(std::find(env.begin(), env.end(), "CHECKPOINT_DISABLE=1"), env.end());
    EXPECT_EQ(std::count(env.begin(), env.end(), "NO_COLOR=1"), 1);
    EXPECT_EQ(std::find(env.begin(), env.end(), "NO_COLOR=0"), env.end());
}

TEST(OrmSchema, InstallHints) {
    EXPECT_EQ(orm_tool_install_hint(OrmTool::drizzle), "npm install -D drizzle-kit drizzle-orm");
    EXPECT_EQ(orm_tool_install_hint(OrmTool::prisma), "npm install -D prisma");
    EXPECT_EQ(orm_tool_program(OrmTool::prisma), "prisma");
}

}  // namespace
}  // namespace pgmig::client
