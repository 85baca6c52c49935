// The app's schema, described with Drizzle ORM: pgmig diffs the database against what drizzle-kit export
// makes of this file.
import { pgEnum, pgTable, serial, text, integer, timestamp, boolean, index, uniqueIndex } from "drizzle-orm/pg-core";

export const role = pgEnum("role", ["reader", "author", "admin"]);

export const users = pgTable(
  "users",
  {
    id: serial("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name"),
    role: role("role").notNull().default("reader"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("users_email_key").on(t.email)],
);

export const posts = pgTable(
  "posts",
  {
    id: serial("id").primaryKey(),
    authorId: integer("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    published: boolean("published").notNull().default(false),
  },
  (t) => [index("posts_author_id_idx").on(t.authorId)],
);
