// Benchmark of insights on PostgreSQL: analytics.correlations for a heavy user (60 metrics × 3 years,
// ~57,000 entries) cold and cached, with the share spent in the database and in the math; then the
// p50/p99 latency of entries.create and of sync delivery while insights are recomputed for several
// heavy users, beside the same figures at rest (same run, same server).
// The recomputes run at each pace of --paces (INSIGHTS_RECOMPUTE_PERCENT; 100 is unpaced), each
// through its own analytics service on the same server and database, so the paces compare within
// one run; first one recompute alone at each pace, with where its CPU time goes.
// Flags: --users N heavy users (default 4: each takes ~15 s to import on 2 busy cores; the issue's
// figure is --users 20), --seconds S per paced phase (20), --rate R writes/s in all (20),
// --writers W light users the writes are spread over (5), --cold N (10), --cached N (30),
// --paces=100,10 (percent).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { localToday } from '@lifexp/analytics';
import { createLifeXPClient } from '@lifexp/client';
import { createLogger } from '@lifexp/config';
import { correlationsInput, type SyncEvent } from '@lifexp/contracts';
import {
  createDemoDocument,
  createSession,
  importDocument,
  loadDailySeries,
  registerUser,
  rowsOf,
} from '@lifexp/db';
import {
  type AnalyticsService,
  computeCorrelations,
  createAnalyticsService,
  toSeriesInput,
} from '@lifexp/insights';
import type { RunningServer } from '@lifexp/server/runtime';
import { sql } from 'drizzle-orm';
import WebSocket from 'ws';
import { listFlag, machineLine, numberFlag, startLifeXp, withThrowawayDatabase } from './support.ts';

const DAYS = 1095;
const NOISE_METRICS = 53; // + the demo's 7 = 60 metrics
const MAX_IN_FLIGHT = 200; // a paced write beyond this many unanswered ones is counted as failed
const MAX_STORM_ROUNDS = 50;
const SETUP_CONCURRENCY = 2;

// ---------------------------------------------------------------------------------------------
// Small helpers (copied, not shared: each bench file stands alone)

export function quantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const median = (values: number[]) => quantile(values, 0.5);
const round = (value: number, digits = 1) =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null;
const ratio = (value: number, base: number) =>
  Number.isFinite(value) && Number.isFinite(base) && base > 0 ? `${(value / base).toFixed(2)}×` : '';

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// HTTP, as a client would call it

async function call(url: string, init: RequestInit): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(url, init);
  const body = await response.text();
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${body.slice(0, 200)}`);
  return { ms: performance.now() - started, bytes: body.length };
}

const query = (base: string, token: string, path: string, input?: unknown) =>
  call(
    `${base}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
    { headers: { authorization: `Bearer ${token}` } },
  );

const createEntry = (base: string, token: string, input: Record<string, unknown>) =>
  call(`${base}/trpc/entries.create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });

// ---------------------------------------------------------------------------------------------

interface HeavyUser {
  id: string;
  /** A number metric of the user's, for the small writes that invalidate the cache. */
  metricId: string;
}

async function setUpHeavyUsers(server: RunningServer, count: number, today: string) {
  const db = server.deps.database.db;
  const users: HeavyUser[] = [];
  let entries = 0;
  let metrics = 0;
  const started = performance.now();
  // Two at a time: one document is validated in JavaScript while the other is written by PostgreSQL.
  for (let first = 0; first < count; first += SETUP_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(SETUP_CONCURRENCY, count - first) }, (_, k) => first + k);
    const done = await Promise.all(
      batch.map(async (i) => {
        const document = createDemoDocument({
          days: DAYS,
          end: today,
          noiseMetrics: NOISE_METRICS,
          seed: 1000 + i,
        });
        const user = await registerUser(db, {
          email: `heavy-${i}@bench.invalid`,
          password: 'bench-password-1',
        });
        const report = await importDocument(db, user.id, document);
        entries += report.entries.created;
        metrics = document.metrics.length;
        return { id: user.id, metricId: document.metrics.find((m) => m.name === 'Noise 1')!.id };
      }),
    );
    users.push(...done);
  }
  const setupMs = performance.now() - started;
  console.log(
    `setup: ${count} heavy user(s) × ${metrics} metrics × ${DAYS} days = ${entries} entries ` +
      `(${Math.round(entries / count)} per user): createDemoDocument + importDocument, ` +
      `${SETUP_CONCURRENCY} at a time, took ${(setupMs / 1000).toFixed(1)} s ` +
      `(${Math.round(entries / (setupMs / 1000))} entries/s)`,
  );
  return users;
}

/**
 * Where a cold answer's time goes: the same series load and the same math, each timed on its own
 * (the math here on the main thread, as the worker runs it).
 */
async function splitTimings(db: RunningServer['deps']['database']['db'], userId: string) {
  let started = performance.now();
  const loaded = await loadDailySeries(db, userId, {});
  const dbMs = performance.now() - started;
  started = performance.now();
  computeCorrelations(loaded.series.map(toSeriesInput), correlationsInput.parse({}));
  return { dbMs, mathMs: performance.now() - started };
}

async function correlationsFigures(server: RunningServer, heavy: HeavyUser, today: string, runs: number) {
  const { db } = server.deps.database;
  const { token } = await createSession(db, heavy.id);
  const base = server.url;

  // The very first call also starts the worker thread.
  const first = await query(base, token, 'analytics.correlations', {});
  const firstTimings = await splitTimings(db, heavy.id);

  const cold: number[] = [];
  const dbMs: number[] = [];
  const mathMs: number[] = [];
  let bytes = first.bytes;
  for (let i = 0; i < runs; i++) {
    // A small write moves the user's data version on: the next answer cannot come from the cache.
    await createEntry(base, token, { metricId: heavy.metricId, value: 3, date: today });
    const result = await query(base, token, 'analytics.correlations', {});
    cold.push(result.ms);
    bytes = result.bytes;
    const timings = await splitTimings(db, heavy.id);
    dbMs.push(timings.dbMs);
    mathMs.push(timings.mathMs);
  }
  const ping: number[] = [];
  for (let i = 0; i < 5; i++) await query(base, token, 'system.ping');
  for (let i = 0; i < runs * 2; i++) ping.push((await query(base, token, 'system.ping')).ms);
  return { ping, first: first.ms, firstTimings, cold, dbMs, mathMs, bytes, token };
}

async function cachedFigures(server: RunningServer, token: string, runs: number) {
  await query(server.url, token, 'analytics.correlations', {});
  const cached: number[] = [];
  for (let i = 0; i < runs; i++)
    cached.push((await query(server.url, token, 'analytics.correlations', {})).ms);
  return cached;
}

export interface PhaseFigures {
  createMs: number[];
  deliveryMs: number[];
  sent: number;
  failed: number;
  undelivered: number;
  loopP99Ms: number;
  loopMaxMs: number;
}

/**
 * Paced (open-loop) writes through HTTP entries.create while another device of the same user is
 * subscribed to sync.changes. Latencies run from each write's scheduled send time, so a stall is not
 * hidden by the sender waiting for it (no coordinated omission).
 */
export async function createWriterProbe(server: RunningServer, today: string, writerCount: number) {
  const { db } = server.deps.database;
  const pending = new Map<string, number>();
  let deliveries: number[] = [];
  const errors: string[] = [];
  const writers: { token: string; metricId: string }[] = [];
  const devices: { close(): Promise<void>; unsubscribe(): void }[] = [];
  for (let w = 0; w < writerCount; w++) {
    const writer = await registerUser(db, {
      email: `writer-${w}@bench.invalid`,
      password: 'bench-password-1',
    });
    const document = createDemoDocument({ days: 30, end: today, seed: 7 + w });
    await importDocument(db, writer.id, document);
    const metricId = document.metrics.find((m) => m.name === 'Steps')!.id;
    writers.push({ token: (await createSession(db, writer.id)).token, metricId });
    // The same user's other device, live on the sync stream.
    let ready = false;
    const device = createLifeXPClient({
      url: server.url,
      token: (await createSession(db, writer.id)).token,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const subscription = device.trpc.sync.changes.subscribe(undefined, {
      onData: (tracked) => {
        const event = tracked.data as SyncEvent;
        if (event.kind === 'ready') ready = true;
        if (event.kind !== 'change' || event.entity !== 'entry') return;
        const sentAt = pending.get(event.id);
        if (sentAt === undefined) return;
        pending.delete(event.id);
        deliveries.push(performance.now() - sentAt);
      },
      onError: (error) => {
        errors.push(error.message);
      },
    });
    devices.push({ close: () => device.close(), unsubscribe: () => subscription.unsubscribe() });
    if (!(await waitUntil(() => ready, 15_000)))
      throw new Error(`the sync subscription did not start: ${errors.join('; ') || 'no ready event'}`);
  }

  async function phase(seconds: number, rate: number): Promise<PhaseFigures> {
    const count = Math.max(1, Math.round(seconds * rate));
    const interval = 1000 / rate;
    const createMs: number[] = [];
    let failed = 0;
    deliveries = [];
    pending.clear();
    const inFlight = new Set<Promise<void>>();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const start = performance.now() + 50;
    for (let i = 0; i < count; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (inFlight.size >= MAX_IN_FLIGHT) {
        failed += 1;
        continue;
      }
      const id = randomUUID();
      pending.set(id, due);
      const writer = writers[i % writers.length]!;
      const write: Promise<void> = createEntry(server.url, writer.token, {
        id,
        metricId: writer.metricId,
        value: 3,
        date: today,
      })
        .then(() => {
          createMs.push(performance.now() - due);
        })
        .catch(() => {
          failed += 1;
          pending.delete(id);
        })
        .finally(() => inFlight.delete(write));
      inFlight.add(write);
    }
    // Unref'd: a pending 60 s timer would otherwise hold the process open after the run.
    await Promise.race([Promise.all(inFlight), sleep(60_000, undefined, { ref: false })]);
    await waitUntil(() => pending.size === 0, 15_000);
    loop.disable();
    const figures: PhaseFigures = {
      createMs,
      deliveryMs: deliveries,
      sent: count,
      failed,
      undelivered: pending.size,
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
    };
    pending.clear();
    return figures;
  }

  return {
    phase,
    errors,
    async close() {
      for (const device of devices) device.unsubscribe();
      await Promise.all(devices.map((device) => device.close()));
    },
  };
}

type StormMode = 'queued' | 'all at once';

/**
 * Keeps the heavy users' insights recomputing until told to stop. `queued`: one user after another,
 * as this server's job queue runs them (pg-boss works one job at a time per instance by default).
 * `all at once`: every user's recompute started together, round after round (many instances, or a
 * queue with more local concurrency): the harsher case.
 */
type StormHandle = ReturnType<typeof startRecomputeStorm>;

function startRecomputeStorm(analytics: AnalyticsService, users: HeavyUser[], mode: StormMode) {
  let stopping = false;
  let rounds = 0;
  let failures = 0;
  const durations: number[] = [];
  const started = performance.now();
  const recompute = async (user: HeavyUser) => {
    const t0 = performance.now();
    try {
      await analytics.recompute(user.id);
      durations.push(performance.now() - t0);
    } catch {
      failures += 1;
    }
  };
  const done = (async () => {
    while (!stopping && rounds < MAX_STORM_ROUNDS) {
      if (mode === 'all at once') await Promise.all(users.map(recompute));
      else
        for (const user of users) {
          if (stopping) break;
          await recompute(user);
        }
      rounds += 1;
    }
  })();
  return {
    async stop() {
      stopping = true;
      const stoppedAt = performance.now();
      await done;
      return {
        mode,
        rounds,
        failures,
        durations,
        elapsedS: (performance.now() - started) / 1000,
        drainS: (performance.now() - stoppedAt) / 1000,
      };
    },
  };
}

/** CPU seconds (user + system) of the PostgreSQL backends serving this database, from /proc. */
async function postgresCpuMs(db: RunningServer['deps']['database']['db']): Promise<number> {
  const result = await db.execute(sql`select pid from pg_stat_activity where datname = current_database()`);
  let ticks = 0;
  for (const { pid } of rowsOf<{ pid: number }>(result)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      return Number.NaN; // PostgreSQL on another machine or in another container
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * Where the time of one recompute goes, the machine otherwise idle: its wall time, the event loop's
 * busy time (the main thread's share), this process's CPU (the main thread and the worker) and the
 * PostgreSQL backends' CPU. Over `runs` recomputes in a row, per recompute.
 */
async function recomputeCost(
  server: RunningServer,
  analytics: AnalyticsService,
  users: HeavyUser[],
  runs: number,
) {
  const { db } = server.deps.database;
  const cpu0 = process.cpuUsage();
  const loop0 = perf.eventLoopUtilization();
  const pg0 = await postgresCpuMs(db);
  const started = performance.now();
  for (let i = 0; i < runs; i++) await analytics.recompute(users[i % users.length]!.id);
  const wallMs = performance.now() - started;
  const pg1 = await postgresCpuMs(db);
  const loop = perf.eventLoopUtilization(loop0);
  const cpu = process.cpuUsage(cpu0);
  return {
    wallMs: wallMs / runs,
    mainMs: loop.active / runs,
    processMs: (cpu.user + cpu.system) / 1000 / runs,
    postgresMs: (pg1 - pg0) / runs,
  };
}

export async function runInsightsBench(): Promise<void> {
  const userCount = numberFlag('users', 4, 1, 100);
  const seconds = numberFlag('seconds', 20, 1, 600);
  const rate = numberFlag('rate', 20, 1, 500);
  const writerCount = numberFlag('writers', 5, 1, 100);
  const coldRuns = numberFlag('cold', 10, 1, 200);
  const cachedRuns = numberFlag('cached', 30, 1, 1000);
  const paces = listFlag('paces', [100, 10]);
  if (paces.some((pace) => !Number.isInteger(pace) || pace > 100))
    throw new Error('--paces: whole percentages, 1–100');
  console.log(`insights — start: ${machineLine()}`);

  await withThrowawayDatabase(async ({ url }) => {
    const server = await startLifeXp(url, 10);
    let probe: Awaited<ReturnType<typeof createWriterProbe>> | undefined;
    try {
      const { config } = server.deps;
      const today = localToday('UTC');
      const users = await setUpHeavyUsers(server, userCount, today);
      // Settle the fresh tables (visibility map, statistics) rather than race autovacuum.
      await server.deps.database.db.execute(sql`vacuum analyze`);

      // -- correlations, cold and cached
      const c = await correlationsFigures(server, users[0]!, today, coldRuns);
      const cached = await cachedFigures(server, c.token, cachedRuns);
      const coldMedian = median(c.cold);
      const dbMedian = median(c.dbMs);
      const mathMedian = median(c.mathMs);
      const share = (part: number) => `${Math.round((100 * part) / coldMedian)}%`;
      console.log(
        `analytics.correlations over HTTP for one heavy user, input {} (auto method, lag ≤ 1): ` +
          `${c.cold.length} cold calls (each after an entries.create), ${cached.length} cached; ` +
          `answer ${Math.round(c.bytes / 1024)} KiB; ${config.analyticsWorkers} analytics worker(s)`,
      );
      const cachedMedian = median(cached);
      console.table([
        {
          call: 'system.ping (HTTP floor)',
          'median ms': round(median(c.ping), 2),
          'p90 ms': round(quantile(c.ping, 0.9), 2),
          '÷ cached': ratio(median(c.ping), cachedMedian),
          'db ms': '',
          'math ms': '',
          'db share': '',
          'math share': '',
          'rest share': '',
        },
        {
          call: 'correlations, first call (worker start)',
          'median ms': round(c.first),
          'p90 ms': '',
          '÷ cached': ratio(c.first, cachedMedian),
          'db ms': round(c.firstTimings.dbMs),
          'math ms': round(c.firstTimings.mathMs),
          'db share': '',
          'math share': '',
          'rest share': '',
        },
        {
          call: 'correlations, cold',
          'median ms': round(coldMedian),
          'p90 ms': round(quantile(c.cold, 0.9)),
          '÷ cached': ratio(coldMedian, cachedMedian),
          'db ms': round(dbMedian),
          'math ms': round(mathMedian),
          'db share': share(dbMedian),
          'math share': share(mathMedian),
          'rest share': share(Math.max(0, coldMedian - dbMedian - mathMedian)),
        },
        {
          call: 'correlations, cached (baseline)',
          'median ms': round(cachedMedian, 2),
          'p90 ms': round(quantile(cached, 0.9), 2),
          '÷ cached': ratio(cachedMedian, cachedMedian),
          'db ms': '',
          'math ms': '',
          'db share': '',
          'math share': '',
          'rest share': '',
        },
      ]);

      // -- writes and sync at rest, then while insights are recomputed
      probe = await createWriterProbe(server, today, writerCount);
      await probe.phase(2, rate); // warm-up
      const rest = await probe.phase(seconds, rate);
      const loaded: {
        label: string;
        figures: PhaseFigures;
        storm: Awaited<ReturnType<StormHandle['stop']>>;
      }[] = [];
      const costs: Record<string, string | number | null>[] = [];
      const silent = createLogger({ logLevel: 'silent' });
      for (const pace of paces) {
        const analytics = createAnalyticsService(
          { ...config, insightsRecomputePercent: pace },
          server.deps.database,
          silent,
        );
        try {
          await analytics.recompute(users[0]!.id); // starts the worker
          const cost = await recomputeCost(server, analytics, users, Math.min(users.length, 4));
          costs.push({
            pace: `${pace}%`,
            'wall ms': round(cost.wallMs),
            'main thread busy ms': round(cost.mainMs),
            'process CPU ms (main + worker)': round(cost.processMs),
            'PostgreSQL CPU ms': round(cost.postgresMs),
            'CPU ÷ wall': ratio(cost.processMs + cost.postgresMs, cost.wallMs),
          });
          for (const mode of ['queued', 'all at once'] as const) {
            const storm = startRecomputeStorm(analytics, users, mode);
            await sleep(1_000); // let the recomputes get going (series loading, worker queue)
            const figures = await probe.phase(seconds, rate);
            loaded.push({ label: `${mode} @${pace}%`, figures, storm: await storm.stop() });
          }
        } finally {
          await analytics.close();
        }
      }
      console.log(
        'one recompute alone (per recompute, over a few in a row), at each pace (INSIGHTS_RECOMPUTE_PERCENT):',
      );
      console.table(costs);
      if (probe.errors.length > 0) console.log(`subscription errors: ${probe.errors.join('; ')}`);
      console.log(
        `entries.create over HTTP, paced at ${rate}/s for ${seconds} s per phase, round-robin over ` +
          `${writerCount} light user(s), each with another device on sync.changes (WebSocket, same ` +
          `process); latencies from each write's scheduled send time`,
      );
      for (const { label, storm } of loaded) {
        console.log(
          `load "${label}": analytics.recompute of ${users.length} heavy users, ${storm.rounds} ` +
            `pass(es), ${storm.durations.length} recomputes (median ` +
            `${(median(storm.durations) / 1000).toFixed(1)} s each, ${storm.failures} failed) over ` +
            `${storm.elapsedS.toFixed(1)} s, the last ${storm.drainS.toFixed(1)} s after the phase ended`,
        );
      }
      const row = (figure: string, pick: (phase: PhaseFigures) => number, digits = 1) => {
        const base = pick(rest);
        const out: Record<string, string | number | null> = { figure, 'at rest': round(base, digits) };
        for (const { label, figures } of loaded) {
          out[label] = round(pick(figures), digits);
          out[`${label} ÷ rest`] = ratio(pick(figures), base);
        }
        return out;
      };
      const max = (values: number[]) => (values.length ? Math.max(...values) : Number.NaN);
      console.table([
        row('entries.create p50 ms', (f) => median(f.createMs)),
        row('entries.create p99 ms', (f) => quantile(f.createMs, 0.99)),
        row('entries.create max ms', (f) => max(f.createMs)),
        row('sync delivery p50 ms', (f) => median(f.deliveryMs)),
        row('sync delivery p99 ms', (f) => quantile(f.deliveryMs, 0.99)),
        row('sync delivery max ms', (f) => max(f.deliveryMs)),
        row('event-loop delay p99 ms', (f) => f.loopP99Ms),
        row('writes sent', (f) => f.sent, 0),
        row('writes failed', (f) => f.failed, 0),
        row('changes not delivered', (f) => f.undelivered, 0),
      ]);
    } finally {
      await probe?.close().catch(() => {});
      await server.close();
    }
  });
  console.log(`insights — end: ${machineLine()}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runInsightsBench();
