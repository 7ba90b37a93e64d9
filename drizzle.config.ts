import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the Drizzle schema and committed; they run on PGlite and PostgreSQL alike.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/db/src/schema.ts',
  out: './packages/db/drizzle',
  strict: true,
  verbose: true,
});
