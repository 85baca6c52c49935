// Prisma's settings for this app. By default Prisma uses its schema engine program, which `prisma` downloads
// on first use. Where that download cannot be made (pgmig's CI reaches only the npm registry), set
// PRISMA_JS_SCHEMA_ENGINE=1: Prisma then runs its JavaScript schema engine (shipped in the npm package)
// through @prisma/adapter-pg, which connects to DATABASE_URL (a database without a password; nothing is
// written to it: `migrate diff --from-empty --to-schema-datamodel` only reads the schema file).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

const schema = "prisma/schema.prisma";

export default process.env.PRISMA_JS_SCHEMA_ENGINE === "1"
  ? defineConfig({
      experimental: { adapter: true },
      engine: "js",
      schema,
      adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
    })
  : defineConfig({ schema });
