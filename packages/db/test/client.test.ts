import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, DatabaseOpenError } from '../src/client';
import { users } from '../src/schema';
import { describeEachDriver } from '../src/testing';

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
