// Benchmark of the HTTP API on PostgreSQL: entries.create and entries.list through the real server
// (Hono + tRPC + Drizzle, session check, one transaction with the per-user seq, change_log row and
// pg_notify, the debounced insights job) at 64 concurrent connections, beside a bare Hono route that
// does the same insert / select with postgres.js — the ceiling — measured in the same run.
//
//   pnpm exec tsx src/api.ts [--duration=10] [--warmup=3] [--connections=64] [--users=16] [--rounds=1]
//     [--baseline=<dir>]
//
// With --rounds=N each case measures Life XP and the bare route N times, taking turns, and reports
// the medians. With --baseline=<dir> (a checkout of earlier code with the same dependencies) a
// server started from <dir>/apps/server/src/runtime.ts takes its turn as well, on the same database,
// so a change is measured against the code before it in one process and under the same load.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import type { createLogger as createLoggerType, loadConfig as loadConfigType } from '@lifexp/config';
import type { startServer as startServerType } from '@lifexp/server/runtime';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import postgres from 'postgres';
import {
  createMoodMetric,
  machineLine,
  numberFlag,
  ratio,
  round,
  serverEnv,
  signUp,
  sleep,
  startLifeXp,
  withThrowawayDatabase,
} from './support.ts';

/** Seconds of measurement per case. */
const DURATION = numberFlag('duration', 10);
/** Seconds of warm-up per case (results discarded). */
const WARMUP = numberFlag('warmup', 3);
const CONNECTIONS = numberFlag('connections', 64);
/** Users the "spread" create case divides its connections over. */
const USERS = numberFlag('users', 16);
/** Pool size of the server and of the bare route alike. */
export const POOL = 20;
export const LIST_LIMIT = 50;
/** Turns per case (medians reported). */
const ROUNDS = numberFlag('rounds', 1);
const BASELINE = process.argv.find((arg) => arg.startsWith('--baseline='))?.slice('--baseline='.length);
const ENTRY_DATE = '2026-03-01';

interface Account {
  userId: string;
  token: string;
  metricId: string;
}

interface Figures {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** What one autocannon client sends; the clients take the targets in turn. */
interface Target {
  headers: Record<string, string>;
  body?: string;
}

async function cannon(url: string, method: 'GET' | 'POST', targets: Target[], seconds: number) {
  let next = 0;
  const result = await autocannon({
    url,
    method,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    headers: targets[0]!.headers,
    ...(targets[0]!.body === undefined ? {} : { body: targets[0]!.body }),
    // Each connection is one user's client: 64 connections over 16 users give 4 per user.
    setupClient: (client) => {
      const target = targets[next++ % targets.length]!;
      client.setHeadersAndBody(target.headers, target.body);
    },
  });
  return result;
}

async function measure(
  url: string,
  method: 'GET' | 'POST',
  targets: Target[],
  warmup = WARMUP,
): Promise<Figures> {
  if (warmup > 0) await cannon(url, method, targets, warmup);
  const r = await cannon(url, method, targets, DURATION);
  return {
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    total: r.requests.total,
  };
}

/** The ceiling: the same insert and select, straight to postgres.js, with no auth, validation or log. */
export function bareApp(sql: postgres.Sql) {
  const app = new Hono();
  app.post('/entries', async (c) => {
    const userId = c.req.header('x-user-id')!;
    const body = await c.req.json<{ metricId: string; value: number; date: string }>();
    const [row] = await sql`
      insert into entries (id, user_id, metric_id, value, numeric_value, date)
      values (${randomUUID()}, ${userId}, ${body.metricId}, ${JSON.stringify(body.value)}::jsonb,
              ${body.value}, ${body.date})
      returning *`;
    return c.json(row);
  });
  app.get('/entries', async (c) => {
    const userId = c.req.header('x-user-id')!;
    const { limit } = JSON.parse(c.req.query('input') ?? '{}') as { limit: number };
    // One row more than the page, as listEntries reads (to know whether another page follows).
    const rows = await sql`
      select * from entries
      where user_id = ${userId} and deleted_at is null
      order by date desc, coalesce(time, '00:00'::time) desc, id desc
      limit ${limit + 1}`;
    return c.json({ items: rows.slice(0, limit) });
  });
  return app;
}

export async function listen(app: Hono): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
  });
}

/** One request through each target before measuring: a 401 or 400 would otherwise be benchmarked. */
async function check(url: string, method: 'GET' | 'POST', targets: Target[]): Promise<void> {
  for (const target of targets) {
    const response = await fetch(url, {
      method,
      headers: target.headers,
      ...(target.body === undefined ? {} : { body: target.body }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${text.slice(0, 300)}`);
  }
}

/** A server from a checkout of earlier code (its own modules, the same database). */
async function startBaseline(dir: string, databaseUrl: string) {
  const runtime = (await import(pathToFileURL(`${dir}/apps/server/src/runtime.ts`).href)) as {
    startServer: typeof startServerType;
  };
  const configModule = (await import(pathToFileURL(`${dir}/packages/config/src/index.ts`).href)) as {
    loadConfig: typeof loadConfigType;
    createLogger: typeof createLoggerType;
  };
  return runtime.startServer(configModule.loadConfig(serverEnv(databaseUrl, POOL)), {
    log: configModule.createLogger({ logLevel: 'silent' }),
  });
}

export async function runApiBench(): Promise<void> {
  console.log(machineLine());
  await withThrowawayDatabase(async (database) => {
    const server = await startLifeXp(database.url, POOL);
    const baseline = BASELINE ? await startBaseline(BASELINE, database.url) : null;
    const sql = postgres(database.url, { max: POOL, onnotice: () => {} });
    const bare = await listen(bareApp(sql));
    try {
      const accounts: Account[] = [];
      for (let i = 0; i < Math.max(1, USERS); i++) {
        const { userId, token } = await signUp(server.url, `bench-api-${i}@example.com`);
        accounts.push({ userId, token, metricId: await createMoodMetric(server.url, token) });
      }
      const entryBody = (a: Account) => JSON.stringify({ metricId: a.metricId, value: 3, date: ENTRY_DATE });
      const lifeXpHeaders = (a: Account) => ({
        authorization: `Bearer ${a.token}`,
        'content-type': 'application/json',
      });
      const bareHeaders = (a: Account) => ({ 'x-user-id': a.userId, 'content-type': 'application/json' });
      const one = accounts.slice(0, 1);
      const listQuery = `input=${encodeURIComponent(JSON.stringify({ limit: LIST_LIMIT }))}`;

      const cases = [
        {
          name: 'entries.create · 1 user',
          method: 'POST' as const,
          lifeXp: { url: `${server.url}/trpc/entries.create`, accounts: one },
          bare: { url: `${bare.url}/entries`, accounts: one },
          body: true,
        },
        {
          name: `entries.create · ${accounts.length} users`,
          method: 'POST' as const,
          lifeXp: { url: `${server.url}/trpc/entries.create`, accounts },
          bare: { url: `${bare.url}/entries`, accounts },
          body: true,
        },
        {
          name: `entries.list · ${LIST_LIMIT} rows · 1 user`,
          method: 'GET' as const,
          lifeXp: { url: `${server.url}/trpc/entries.list?${listQuery}`, accounts: one },
          bare: { url: `${bare.url}/entries?${listQuery}`, accounts: one },
          body: false,
        },
      ];

      console.log(
        `${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per case; pools of ${POOL} ` +
          'connections for the server and the bare route; autocannon, both servers and PostgreSQL share ' +
          'this machine',
      );
      const figures: Record<string, string | number>[] = [];
      const ratios: Record<string, string | number>[] = [];
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
      const medianOf = (runs: Figures[]): Figures => ({
        reqPerSec: median(runs.map((f) => f.reqPerSec)),
        p50: median(runs.map((f) => f.p50)),
        p99: median(runs.map((f) => f.p99)),
        errors: runs.reduce((sum, f) => sum + f.errors, 0),
        non2xx: runs.reduce((sum, f) => sum + f.non2xx, 0),
        total: runs.reduce((sum, f) => sum + f.total, 0),
      });
      for (const c of cases) {
        const targetsOf = (list: Account[], headers: (a: Account) => Record<string, string>): Target[] =>
          list.map((a) => (c.body ? { headers: headers(a), body: entryBody(a) } : { headers: headers(a) }));
        const lxTargets = targetsOf(c.lifeXp.accounts, lifeXpHeaders);
        const bareTargets = targetsOf(c.bare.accounts, bareHeaders);
        const baselineUrl = baseline ? c.lifeXp.url.replace(server.url, baseline.url) : null;
        await check(c.lifeXp.url, c.method, lxTargets);
        await check(c.bare.url, c.method, bareTargets);
        if (baselineUrl) await check(baselineUrl, c.method, lxTargets);
        const runs: {
          lx: Figures[];
          bare: Figures[];
          before: Figures[];
          lxRatio: number[];
          beforeRatio: number[];
        } = {
          lx: [],
          bare: [],
          before: [],
          lxRatio: [],
          beforeRatio: [],
        };
        for (let round = 0; round < Math.max(1, ROUNDS); round++) {
          // The warm-up is paid once per server and case; later rounds go straight to measuring.
          const warmup = round === 0 ? WARMUP : 0;
          const lx = await measure(c.lifeXp.url, c.method, lxTargets, warmup);
          const before = baselineUrl ? await measure(baselineUrl, c.method, lxTargets, warmup) : null;
          const ceiling = await measure(c.bare.url, c.method, bareTargets, warmup);
          runs.lx.push(lx);
          runs.bare.push(ceiling);
          runs.lxRatio.push(lx.reqPerSec / ceiling.reqPerSec);
          if (before) {
            runs.before.push(before);
            runs.beforeRatio.push(before.reqPerSec / ceiling.reqPerSec);
          }
        }
        const lx = medianOf(runs.lx);
        const ceiling = medianOf(runs.bare);
        const before = runs.before.length > 0 ? medianOf(runs.before) : null;
        for (const [who, f] of [
          ['Life XP (tRPC)', lx],
          ...(before ? [['Life XP, baseline code', before] as const] : []),
          ['bare Hono + postgres.js', ceiling],
        ] as const) {
          figures.push({
            case: c.name,
            server: who,
            'req/s': round(f.reqPerSec, 0),
            'p50 ms': f.p50,
            'p99 ms': f.p99,
            'errors/non-2xx': `${f.errors}/${f.non2xx}`,
            requests: f.total,
          });
        }
        ratios.push({
          case: c.name,
          'req/s ÷ bare': ratio(lx.reqPerSec, ceiling.reqPerSec),
          'p50 ÷ bare': ratio(lx.p50, ceiling.p50),
          'p99 ÷ bare': ratio(lx.p99, ceiling.p99),
          ...(ROUNDS > 1
            ? { 'req/s ÷ bare, per round': runs.lxRatio.map((r) => r.toFixed(2)).join(' ') }
            : {}),
          ...(before
            ? {
                'baseline req/s ÷ bare': ratio(before.reqPerSec, ceiling.reqPerSec),
                'baseline p99 ÷ bare': ratio(before.p99, ceiling.p99),
                'req/s ÷ baseline': ratio(lx.reqPerSec, before.reqPerSec),
              }
            : {}),
        });
      }
      console.table(figures);
      console.log('Life XP against the bare route (the ceiling):');
      console.table(ratios);
      const perUser = await sql<{ n: number }[]>`
        select count(*)::int as n from entries group by user_id order by n`;
      const total = perUser.reduce((sum, row) => sum + row.n, 0);
      console.log(
        `${total} entries in the table, per user ${perUser[0]?.n ?? 0}…${perUser.at(-1)?.n ?? 0} ` +
          `(the first user also took the 1-user cases); ${machineLine()}`,
      );
    } finally {
      // Let fire-and-forget work (the insights job requests) finish before the pools close.
      await sleep(1000);
      await bare.close();
      await sql.end({ timeout: 5 });
      await server.close();
      await baseline?.close();
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runApiBench();
