import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../src/client';
import { createDb, DatabaseOpenError, rowsOf } from '../src/client';
import { users } from '../src/schema';
import type { TestDatabase } from '../src/testing';
import { createTestDatabase, describeEachDriver, testDrivers } from '../src/testing';

describeEachDriver('createDb', (ctx) => {
  it('applies every committed migration and reports ready', async () => {
    const { database } = ctx();
    expect(await database.isReady()).toBe(true);
  });

  it('enforces case-insensitive unique emails in the schema itself', async () => {
    const { db } = ctx();
    await db.insert(users).values({ email: 'Same@Example.test', passwordHash: 'x' });
    await expect(
      db.insert(users).values({ email: 'same@example.TEST', passwordHash: 'x' }),
    ).rejects.toThrow();
  });
});

describe('createDb on PGlite with a data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifexp-db-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('persists data across reopen and refuses a second open of the same directory', async () => {
    const first = await createDb({ dataDir: dir });
    try {
      await first.db.insert(users).values({ email: 'kept@example.test', passwordHash: 'x' });
      const second = createDb({ dataDir: dir });
      await expect(second).rejects.toBeInstanceOf(DatabaseOpenError);
      await expect(second).rejects.toThrow(/in use by another process/);
    } finally {
      await first.close();
    }
    const reopened = await createDb({ dataDir: dir });
    try {
      const rows = await reopened.db.select().from(users);
      expect(rows.map((row) => row.email)).toEqual(['kept@example.test']);
      expect(await reopened.isReady()).toBe(true);
    } finally {
      await reopened.close();
    }
    expect(await reopened.isReady()).toBe(false);
  });
});

describe('createDb on an unreachable PostgreSQL', () => {
  it('fails with one clear line naming the host', async () => {
    const attempt = createDb({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', connectTimeoutSeconds: 2 });
    await expect(attempt).rejects.toBeInstanceOf(DatabaseOpenError);
    await expect(attempt).rejects.toThrow(
      /^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none: .*ECONNREFUSED/,
    );
  });
});

if (testDrivers.includes('postgres')) {
  describe('createDb on PostgreSQL: prepared statements', () => {
    let handle: TestDatabase;
    beforeAll(async () => {
      handle = await createTestDatabase('postgres');
    });
    afterAll(() => handle.dispose());

    const preparedOnThisConnection = async (tx: Tx, text: string) => {
      const result = await tx.execute(
        sql`select count(*)::int as count from pg_prepared_statements where statement like ${`%${text}%`}`,
      );
      return rowsOf<{ count: number }>(result)[0]!.count;
    };

    it('prepares fixed-shape statements once per connection, in transactions too, but not bulk ones', async () => {
      const { db } = handle;
      await db.transaction(async (tx) => {
        // Drizzle would send these as unnamed statements (parsed every time); on this connection they
        // must now be named prepared statements.
        await tx.insert(users).values({ email: 'prepared@example.test', passwordHash: 'x' });
        const found = await tx.select().from(users).where(eq(users.email, 'prepared@example.test'));
        expect(found).toHaveLength(1);
        expect(await preparedOnThisConnection(tx, 'insert into "users"')).toBe(1);
        expect(await preparedOnThisConnection(tx, 'from "users" where "users"."email"')).toBe(1);
        // 30 rows × 3 columns = 90 parameters: over the limit, so not kept in the statement cache.
        const many = Array.from({ length: 30 }, (_, i) => ({
          email: `bulk-${i}@example.test`,
          passwordHash: 'x',
          timezone: 'UTC',
        }));
        await tx.insert(users).values(many);
        expect(await preparedOnThisConnection(tx, '$90')).toBe(0);
        // The same statement again reuses the prepared one instead of adding another.
        await tx.select().from(users).where(eq(users.email, 'bulk-3@example.test'));
        expect(await preparedOnThisConnection(tx, 'from "users" where "users"."email"')).toBe(1);
        // A nested transaction (a savepoint) goes through the same wrapper; it is rolled back.
        const nested = tx.transaction(async (inner) => {
          await inner.delete(users).where(eq(users.email, 'bulk-29@example.test'));
          expect(await preparedOnThisConnection(inner, 'delete from "users"')).toBe(1);
          inner.rollback();
        });
        await expect(nested).rejects.toThrow(/^Rollback$/);
      });
      expect(await db.select().from(users).where(eq(users.passwordHash, 'x'))).toHaveLength(31);
    });
  });
}
