import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgDialect, PgQueryResultHKT, PgSession } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema';

export type Schema = typeof schema;
/** One typed Drizzle handle, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;
export type DriverName = 'pglite' | 'postgres';

/** The committed migrations: in this package, or beside the server bundle (dist/drizzle), which sets LIFEXP_BUNDLED. */
export const migrationsFolder = fileURLToPath(
  new URL(
    (globalThis as { LIFEXP_BUNDLED?: boolean }).LIFEXP_BUNDLED ? './drizzle' : '../drizzle',
    import.meta.url,
  ),
);

export interface DbConfig {
  /** postgres:// URL. Without it the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; undefined means in memory (tests). */
  dataDir?: string | undefined;
  /** postgres.js pool size. */
  poolMax?: number | undefined;
  /** Apply the committed migrations before returning (default true). */
  migrate?: boolean | undefined;
  connectTimeoutSeconds?: number | undefined;
}

export interface Database {
  db: Db;
  driver: DriverName;
  /** The embedded client (PGlite only): the job queue shares it. */
  pglite?: PGlite;
  /** The connection URL (PostgreSQL only): the job queue opens its own small pool. */
  url?: string;
  /**
   * Subscribe to a NOTIFY channel; resolves once listening. `onListen` runs each time listening
   * (re)starts: after a lost connection, notifications sent meanwhile are gone, so catch up then.
   * Returns the unsubscribe function.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  /** True when the database answers and every committed migration has been applied. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

/** The database could not be reached or opened; the message is one line, fit for an operator. */
export class DatabaseOpenError extends Error {
  override name = 'DatabaseOpenError';
}

interface Opened {
  database: Database;
  migrate(): Promise<void>;
}

export async function createDb(config: DbConfig): Promise<Database> {
  const { database, migrate } = config.databaseUrl
    ? await openPostgres(config.databaseUrl, config)
    : await openPglite(config.dataDir);
  if (config.migrate !== false) {
    try {
      await migrate();
    } catch (error) {
      await database.close();
      throw new DatabaseOpenError(`cannot apply the database migrations: ${messageOf(error)}`);
    }
  }
  return database;
}

function migrationCount(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

async function appliedMigrationCount(db: Db): Promise<number> {
  const exists = await db.execute<{ present: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!rowsOf<{ present: boolean }>(exists)[0]?.present) return 0;
  const result = await db.execute<{ count: number }>(
    sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
  );
  return rowsOf<{ count: number }>(result)[0]?.count ?? 0;
}

/**
 * A statement of fixed shape whose text Drizzle builds once per database handle: `build` writes it with
 * `sql.placeholder(name)` for each value, and a run passes only the values. `db.execute(sql)` walks the
 * whole template (every table and column reference) again on each call; for the create statement that
 * was about a twentieth of the server's time per create. The result is what `db.execute` gives.
 */
export function fixedStatement(
  build: () => SQL,
): (db: Executor, values: Record<string, unknown>) => Promise<unknown> {
  const prepared = new WeakMap<Executor, { execute(values: Record<string, unknown>): Promise<unknown> }>();
  return (db, values) => {
    let statement = prepared.get(db);
    if (!statement) {
      // What PgDatabase.execute does on every call: the text and its parameter order, then a prepared
      // query of the driver's session (a transaction's own session inside a transaction).
      const { dialect, session } = db as unknown as { dialect: PgDialect; session: PgSession };
      statement = session.prepareQuery(dialect.sqlToQuery(build()), undefined, undefined, false);
      prepared.set(db, statement);
    }
    return statement.execute(values);
  };
}

/** postgres.js returns an array of rows, PGlite an object with `rows`: read either. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

async function openPglite(dataDir: string | undefined): Promise<Opened> {
  let releaseLock = () => {};
  let client: PGlite;
  if (dataDir) {
    const dir = resolve(dataDir);
    releaseLock = lockDataDir(dir);
    try {
      client = await PGlite.create(join(dir, 'pglite'));
    } catch (error) {
      releaseLock();
      throw new DatabaseOpenError(`cannot open the embedded database in ${dir}: ${messageOf(error)}`);
    }
  } else {
    client = await PGlite.create();
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  const database: Database = {
    db,
    driver: 'pglite',
    pglite: client,
    async listen(channel, onPayload, onListen) {
      const unlisten = await client.listen(channel, onPayload);
      onListen?.();
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    async isReady() {
      if (client.closed) return false;
      return (await appliedMigrationCount(db)) >= migrationCount();
    },
    async close() {
      if (!client.closed) await client.close();
      releaseLock();
    },
  };
  return { database, migrate: () => migratePglite(drizzlePglite({ client }), { migrationsFolder }) };
}

// Statements with at most this many parameters are prepared; bulk inserts (one parameter per cell) and
// long IN lists stay unnamed, so the per-connection statement caches hold a bounded set of query shapes.
const PREPARE_MAX_PARAMETERS = 64;

/**
 * The postgres.js client as Drizzle should see it: Drizzle asks for unnamed statements (`prepare:
 * false`), which costs every parameterized query a Parse/Describe round trip before its Bind/Execute, and
 * PostgreSQL a parse and plan each time. This wrapper lets postgres.js prepare the statements of fixed
 * shape once per connection (it re-prepares by itself when a schema change invalidates one), in
 * transactions and savepoints too.
 */
function preparing(sql: postgres.Sql): postgres.Sql {
  const unsafe = (query: string, parameters?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    sql.unsafe(query, parameters as postgres.ParameterOrJSON<never>[], {
      ...options,
      prepare: (parameters?.length ?? 0) <= PREPARE_MAX_PARAMETERS,
    });
  // begin(options?, body) and savepoint(name?, body): the body gets the wrapped transaction handle.
  const scoped =
    (run: (...args: unknown[]) => unknown) =>
    (...args: unknown[]) => {
      const body = args.pop() as (inner: postgres.Sql) => unknown;
      return run.call(sql, ...args, (inner: postgres.Sql) => body(preparing(inner)));
    };
  const overrides: Record<PropertyKey, unknown> = { unsafe, begin: scoped(sql.begin as never) };
  // Only a transaction handle has savepoint().
  const savepoint = (sql as { savepoint?: (...args: unknown[]) => unknown }).savepoint;
  if (savepoint) overrides.savepoint = scoped(savepoint);
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openPostgres(url: string, config: DbConfig): Promise<Opened> {
  const client = postgres(url, {
    max: config.poolMax ?? 10,
    connect_timeout: config.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
  });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 1 });
    throw new DatabaseOpenError(`cannot connect to PostgreSQL at ${describeUrl(url)}: ${messageOf(error)}`);
  }
  const db = drizzlePostgres({ client: preparing(client), schema }) as unknown as Db;
  let closed = false;
  const database: Database = {
    db,
    driver: 'postgres',
    url,
    async listen(channel, onPayload, onListen) {
      const request = await client.listen(channel, onPayload, onListen);
      return async () => {
        if (!closed) await request.unlisten();
      };
    },
    async isReady() {
      if (closed) return false;
      try {
        return (await appliedMigrationCount(db)) >= migrationCount();
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.end({ timeout: 5 });
    },
  };
  async function migrate() {
    // Several instances may start at once: one migrates, the others wait on the advisory lock,
    // which is held by a dedicated single connection for the whole run.
    const migrator = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await migrator`select pg_advisory_lock(7250001)`;
      await migratePostgres(drizzlePostgres({ client: migrator }), { migrationsFolder });
    } finally {
      await migrator.end({ timeout: 5 });
    }
  }
  return { database, migrate };
}

/** Data directories this process holds open: a second handle on one of them would corrupt it too. */
const lockedHere = new Set<string>();

/** Who holds a lock: the pid, and where the OS tells it, the process's start time and the boot it ran in. */
interface LockOwner {
  pid: number;
  start?: string | undefined;
  boot?: string | undefined;
}

/**
 * PGlite is single-process: a second process on the same directory would corrupt it. A lock file
 * records the owner's pid, its start time and the boot id (Linux), written atomically. A lock is
 * honoured only while that very process lives: a pid that is gone, a zombie (killed, not yet reaped),
 * a pid reused by another process (another start time, or another boot), or our own pid (a container
 * restarting as the same low pid) leave a stale lock, which is taken over. So a crashed server always
 * comes back, and two live servers never share a directory.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  if (lockedHere.has(dir)) {
    throw new DatabaseOpenError(
      `the data directory ${dir} is in use by another process or handle (pid ${process.pid}); the embedded ` +
        'database allows one server at a time: stop it, or use DATABASE_URL to run several instances',
    );
  }
  const lockPath = join(dir, 'lifexp.lock');
  const me = describeProcess(process.pid);
  const content = JSON.stringify(
    me && me !== 'gone' ? { pid: process.pid, start: me.start, boot: me.boot } : { pid: process.pid },
  );
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Written whole under a temporary name, then linked into place: link fails if a lock exists, and a
      // reader never sees a half-written file.
      const temporary = `${lockPath}.${process.pid}.${Date.now()}`;
      writeFileSync(temporary, content, { flag: 'wx' });
      try {
        linkSync(temporary, lockPath);
      } finally {
        unlinkSync(temporary);
      }
      lockedHere.add(dir);
      return () => {
        lockedHere.delete(dir);
        try {
          if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DatabaseOpenError(`cannot lock the data directory ${dir}: ${messageOf(error)}`);
      }
      let text: string;
      try {
        text = readFileSync(lockPath, 'utf8');
      } catch {
        continue; // released meanwhile: try again
      }
      const owner = parseLock(text);
      if (owner && ownerAlive(owner)) {
        throw new DatabaseOpenError(
          `the data directory ${dir} is in use by another process (pid ${owner.pid}); the embedded database ` +
            'allows one server at a time: stop it, or use DATABASE_URL to run several instances',
        );
      }
      // Stale: removed only if it is still the very lock judged stale (another starter may have won).
      try {
        if (readFileSync(lockPath, 'utf8') === text) unlinkSync(lockPath);
      } catch {
        // gone already
      }
    }
  }
  throw new DatabaseOpenError(`cannot lock the data directory ${dir}`);
}

/** A lock file's owner: the JSON form, or a bare pid (locks written by earlier versions). */
function parseLock(text: string): LockOwner | null {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed === 'number') return Number.isInteger(parsed) && parsed > 0 ? { pid: parsed } : null;
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      return { pid: parsed.pid, start: parsed.start, boot: parsed.boot };
    }
  } catch {
    // not JSON
  }
  return null;
}

/** Whether the process that wrote a lock still runs (see lockDataDir). */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return false;
  const now = describeProcess(owner.pid);
  if (now === null) return isAlive(owner.pid);
  if (now === 'gone') return false;
  if (now.state === 'Z' || now.state === 'X') return false;
  if (owner.boot && now.boot && owner.boot !== now.boot) return false;
  if (owner.start && owner.start !== now.start) return false;
  return true;
}

/**
 * What Linux's /proc says of a process: its state letter, start time (clock ticks since boot) and the
 * boot id; 'gone' when there is no such process; null where /proc is not available (then only the pid
 * is checked).
 */
function describeProcess(pid: number): { state: string; start: string; boot?: string } | 'gone' | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat')) return 'gone';
    return null;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '';
  const start = fields[19] ?? '';
  let boot: string | undefined;
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = undefined;
  }
  return { state, start, ...(boot ? { boot } : {}) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message || code || error.name;
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}

/** One round trip to the database. */
export async function ping(db: Executor): Promise<void> {
  await db.execute(sql`select 1`);
}
