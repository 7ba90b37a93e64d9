// Shared pieces of the server benchmarks (api.ts, sync.ts): the machine line, percentiles, command-line
// flags, a throwaway PostgreSQL database per run, the in-process server and the tRPC-over-HTTP calls.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { createLogger, loadConfig } from '@lifexp/config';
import { type RunningServer, startServer } from '@lifexp/server/runtime';
import postgres from 'postgres';

export const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Date, Node version, CPU model and the 1/5/15-minute load averages, on one line. */
export function machineLine(): string {
  const load = loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  return (
    `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ` +
    `${cpus()[0]?.model ?? 'unknown CPU'} · load average ${load}`
  );
}

/** `--name=value` or `--name value` from process.argv, as a number within [min, max]; the default otherwise. */
export function numberFlag(name: string, fallback: number, min = 0, max = Number.POSITIVE_INFINITY): number {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let raw: string | undefined;
    if (arg.startsWith(`--${name}=`)) raw = arg.slice(name.length + 3);
    else if (arg === `--${name}`) raw = args[i + 1];
    if (raw !== undefined) {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min || value > max) {
        throw new Error(`--${name} must be a number from ${min} to ${max} (got ${raw})`);
      }
      return value;
    }
  }
  return fallback;
}

/** Comma-separated numbers, e.g. `--sockets=1000,5000`. */
export function listFlag(name: string, fallback: number[]): number[] {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  if (!arg) return fallback;
  const values = arg.slice(prefix.length).split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--${name}: give positive numbers`);
  return values;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** a ÷ b as `1.23×`, or an empty cell when it cannot be computed. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${round(a / b)}×` : '';
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ThrowawayDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * Creates `lifexp_bench_<random>` on the local PostgreSQL; null (after printing why) when it cannot
 * be reached. `drop()` removes it with (force), so open connections do not keep it alive.
 */
export async function createThrowawayDatabase(): Promise<ThrowawayDatabase | null> {
  const admin = postgres(ADMIN_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  const name = `lifexp_bench_${randomBytes(6).toString('hex')}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    console.log(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(error as Error).message}): benchmark skipped`,
    );
    return null;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}

/**
 * Runs `body` with a fresh database, dropped at the end even on failure (and on Ctrl-C).
 * Prints a line and returns when PostgreSQL is unreachable.
 */
export async function withThrowawayDatabase(body: (db: ThrowawayDatabase) => Promise<void>): Promise<void> {
  const db = await createThrowawayDatabase();
  if (!db) return;
  const onSignal = () => {
    db.drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    await body(db);
  } finally {
    process.off('SIGINT', onSignal);
    await db.drop();
  }
}

/** Server settings shared by the benchmarks (environment-variable form, as loadConfig reads them). */
export function serverEnv(databaseUrl: string, poolMax: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: String(poolMax),
    // Each write still queues its debounced insights recompute (that cost is measured); the
    // recompute itself would run 30 s later in the middle of another case, so it is pushed past
    // the end of the run.
    INSIGHTS_DEBOUNCE_SECONDS: '3600',
    // Every simulated user and socket comes from 127.0.0.1: the per-address limits would refuse them.
    REGISTRATIONS_PER_ADDRESS: '100000',
    WS_MAX_SOCKETS_PER_ADDRESS: '100000',
    // Throughput runs drive one account far beyond what a person sends (hostile keeps the default).
    API_ACCOUNT_CALLS_BURST: '1000000',
    // Any setting can be changed for a run: BENCH_SERVER_<NAME>=value sets <NAME>.
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([name, value]) => name.startsWith('BENCH_SERVER_') && value !== undefined)
        .map(([name, value]) => [name.slice('BENCH_SERVER_'.length), value as string]),
    ),
  };
}

/** The real server, in this process. */
export async function startLifeXp(
  databaseUrl: string,
  poolMax: number,
  overrides: Record<string, string | undefined> = {},
): Promise<RunningServer> {
  return startServer(loadConfig({ ...serverEnv(databaseUrl, poolMax), ...overrides }), {
    log: createLogger({ logLevel: 'silent' }),
  });
}

/** One tRPC call over HTTP (mutation: POST with a JSON body; query: GET with ?input=); returns `result.data`. */
export async function trpc<T>(
  baseUrl: string,
  path: string,
  input: unknown,
  options: { token?: string; query?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  if (options.query) {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    response = await fetch(`${baseUrl}/trpc/${path}${qs}`, { headers });
  } else {
    headers['content-type'] = 'application/json';
    response = await fetch(`${baseUrl}/trpc/${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(input),
    });
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { result: { data: T } }).result.data;
}

/** Signs up through the API (argon2 and all); returns the user id and a bearer token. */
export async function signUp(baseUrl: string, email: string): Promise<{ userId: string; token: string }> {
  const data = await trpc<{ user: { id: string }; token: string }>(baseUrl, 'users.register', {
    email,
    password: `bench-${randomBytes(9).toString('base64url')}`,
  });
  return { userId: data.user.id, token: data.token };
}

export async function createMoodMetric(baseUrl: string, token: string): Promise<string> {
  const metric = await trpc<{ id: string }>(
    baseUrl,
    'metrics.create',
    { name: 'Mood', type: 'rating', category: 'mood' },
    { token },
  );
  return metric.id;
}

/** CPU time used so far, in ms: this process, and every PostgreSQL process on this machine (Linux /proc; null elsewhere). */
export async function cpuSnapshot(): Promise<{ processMs: number; postgresMs: number | null }> {
  const usage = process.cpuUsage();
  const processMs = (usage.user + usage.system) / 1000;
  try {
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    let ticks = 0;
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const close = stat.lastIndexOf(')');
      if (close < 0 || !stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    }
    return { processMs, postgresMs: ticks * tick };
  } catch {
    return { processMs, postgresMs: null };
  }
}
