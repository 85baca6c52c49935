// The desired schema described by an ORM (schema = "drizzle:..." or "prisma:..."): the project's own tool
// (drizzle-kit, prisma) turns it into SQL, which is then loaded into the shadow like a schema file.
#pragma once

#include "client/diff/shadow.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::client {

enum class OrmTool { drizzle, prisma };

struct OrmSchemaSource {
    OrmTool tool;
    std::string path;  // the schema file (or drizzle.config.*), relative to the project folder or absolute
    std::string text;  // as the user wrote it: "drizzle:src/db/schema.ts"
};

// "drizzle:PATH" or "prisma:PATH" (the prefix in lower case); nullopt for anything else (a schema folder,
// a connection string). Throws Error(usage) for a prefix without a path.
std::optional<OrmSchemaSource> parse_orm_schema_source(std::string_view value);

// The package name of the tool, its program in node_modules/.bin, and what to npm install -D.
std::string_view orm_tool_program(OrmTool tool);
std::string_view orm_tool_install_hint(OrmTool tool);

// The arguments pgmig passes to the tool (after the program), for `schema` (relative to the package folder).
// `prisma_major` chooses the flag of Prisma's datamodel (--to-schema-datamodel before 7, --to-schema from 7).
std::vector<std::string> orm_tool_arguments(OrmTool tool, const std::string& schema, int prisma_major);

// The environment of the tool: this process's, without the variables libpq and node-postgres read (every
// PG* name: PGPASSWORD, PGHOST, ..., and pgmig's own PGMIG_*), with the tools' telemetry and update checks
// and colours turned off. Exposed for the unit tests.
std::vector<std::string> orm_tool_environment(const std::vector<std::string>& environment);

// Runs the tool from the project's node_modules/.bin (never a global install, never npx) in the schema's
// package folder (the nearest folder holding package.json, from the schema file up) with a timeout
// ($PGMIG_ORM_TIMEOUT seconds, default 300), and returns its SQL as one schema file named after the source.
// Throws Error(orm_schema_failed) when the schema file is missing, the tool is not installed (naming the
// folders it looked in and the npm install -D to run), Node.js is missing, or the tool fails or prints
// no SQL (with its stderr, trimmed).
SchemaFile orm_schema_file(const OrmSchemaSource& source);

}  // namespace pgmig::client
