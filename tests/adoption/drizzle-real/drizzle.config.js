// drizzle-kit migrate reads this; the tests set DATABASE_URL.
module.exports = {
  dialect: 'postgresql',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL },
};
