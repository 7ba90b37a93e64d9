import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe } from 'vitest';
import { createDb, type Database, type Db, type DriverName } from './client';

// Test infrastructure reads its own switch: CI sets TEST_DATABASE_URL to run every database test on
// real PostgreSQL as well as on the embedded PGlite.
const adminUrl = process.env.TEST_DATABASE_URL;

/** The drivers every database test runs on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const testDrivers: DriverName[] = adminUrl ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  driver: DriverName;
  /** For PostgreSQL, the URL of the fresh database (a server under test can connect to it). */
  url: string | undefined;
  database: Database;
  db: Db;
  /** Closes the handle and, on PostgreSQL, drops the database. */
  dispose(): Promise<void>;
}

/** A fresh, migrated, isolated database: an in-memory PGlite or a new PostgreSQL database. */
export async function createTestDatabase(driver: DriverName): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await createDb({});
    return { driver, url: undefined, database, db: database.db, dispose: () => database.close() };
  }
  const url = await createPostgresDatabase();
  const database = await createDb({ databaseUrl: url, poolMax: 20 });
  return {
    driver,
    url,
    database,
    db: database.db,
    async dispose() {
      await database.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** Creates an empty PostgreSQL database next to TEST_DATABASE_URL's and returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `lifexp_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  if (!adminUrl) return;
  const name = new URL(url).pathname.slice(1);
  if (!/^lifexp_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/**
 * Declares the same suite once per test driver. Each suite gets its own fresh database, shared by the
 * tests of that suite (a fresh PGlite costs seconds, so tests isolate by using their own users).
 */
export function describeEachDriver(title: string, body: (ctx: () => TestDatabase) => void): void {
  for (const driver of testDrivers) {
    describe(`${title} [${driver}]`, () => {
      let current: TestDatabase | undefined;
      beforeAll(async () => {
        current = await createTestDatabase(driver);
      });
      afterAll(async () => {
        await current?.dispose();
      });
      body(() => {
        if (!current) throw new Error('the test database is not ready yet');
        return current;
      });
    });
  }
}
