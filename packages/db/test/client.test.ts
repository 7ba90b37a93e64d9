import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('the data directory lock after a crash', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifexp-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const lockOf = (dir: string, owner: unknown) =>
    writeFileSync(join(dir, 'lifexp.lock'), JSON.stringify(owner));
  const procStat = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  };
  const boot = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const opens = async (dir: string) => {
    const database = await createDb({ dataDir: dir });
    await database.close();
    return true;
  };
  const running = async (command: string) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    const firstLine = await new Promise<string>((resolve) =>
      child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())),
    );
    return { child, firstLine };
  };

  it('takes over a lock that names our own pid (a container restarting as the same pid)', async () => {
    const dir = fresh();
    lockOf(dir, { pid: process.pid, start: '1', boot: 'another-boot' });
    expect(await opens(dir)).toBe(true);
    writeFileSync(join(dir, 'lifexp.lock'), String(process.pid));
    expect(await opens(dir)).toBe(true);
  }, 120_000);

  it.runIf(existsSync('/proc/self/stat'))(
    'takes over a lock whose pid now belongs to another process, or to a zombie',
    async () => {
      // A live process under the lock's pid, but started at another time: the pid was reused.
      const { child } = await running('echo up; exec sleep 60');
      const reused = fresh();
      lockOf(reused, { pid: child.pid, start: '1', boot: boot() });
      expect(await opens(reused)).toBe(true);
      const rebooted = fresh();
      lockOf(rebooted, { pid: child.pid, start: procStat(child.pid!).start, boot: 'an-earlier-boot' });
      expect(await opens(rebooted)).toBe(true);

      // A killed process its parent has not reaped yet (still in the process table, as a zombie).
      const { firstLine } = await running('sleep 60 & echo $!; kill -9 $!; exec sleep 60');
      const zombie = Number(firstLine);
      for (let i = 0; i < 500 && procStat(zombie).state !== 'Z'; i++)
        await new Promise((r) => setImmediate(r));
      expect(procStat(zombie).state).toBe('Z');
      const dir = fresh();
      lockOf(dir, { pid: zombie, start: procStat(zombie).start, boot: boot() });
      expect(await opens(dir)).toBe(true);
      writeFileSync(join(dir, 'lifexp.lock'), String(zombie));
      expect(await opens(dir)).toBe(true);
    },
    240_000,
  );

  it.runIf(existsSync('/proc/self/stat'))('still refuses a live owner', async () => {
    const { child } = await running('echo up; exec sleep 60');
    const dir = fresh();
    lockOf(dir, { pid: child.pid, start: procStat(child.pid!).start, boot: boot() });
    await expect(createDb({ dataDir: dir })).rejects.toThrow(/in use by another process/);
    writeFileSync(join(dir, 'lifexp.lock'), String(child.pid));
    await expect(createDb({ dataDir: dir })).rejects.toThrow(/in use by another process/);
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
