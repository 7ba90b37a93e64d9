// "Hostile account" benchmark on PostgreSQL: one account with as many metrics as the limit allows
// (METRICS_MAX_ACTIVE, 30 days each) plus a zero-filled metric logged in 1900 and today hammers
// analytics with the worst parameters allowed (all pairs, the largest maxLag and page, a fresh `q`
// per call so the cache never answers), from several connections at once, while light users write
// and sync. Reports the server's peak RSS and the light users' p99 beside the same run at rest.
// Flags: --seconds S per phase (20), --rate R writes/s (20), --writers W light users (5),
// --hammers H concurrent hostile callers (8), --retry-ms how soon a refused caller asks again (100).

import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { addDays, localToday } from '@lifexp/analytics';
import { createSession, registerUser } from '@lifexp/db';
import type { RunningServer } from '@lifexp/server/runtime';
import { sql } from 'drizzle-orm';
import { createWriterProbe, type PhaseFigures, quantile } from './insights.ts';
import { cpuSnapshot, machineLine, numberFlag, startLifeXp, withThrowawayDatabase } from './support.ts';

const round = (value: number, digits = 1) =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null;
const ratio = (value: number, base: number) =>
  Number.isFinite(value) && Number.isFinite(base) && base > 0 ? `${(value / base).toFixed(2)}×` : '';

async function setUpHostile(server: RunningServer, today: string) {
  const { db } = server.deps.database;
  const { config } = server.deps;
  const user = await registerUser(db, { email: 'hostile@bench.invalid', password: 'bench-password-1' });
  // Written straight to the tables, as fast as possible: the limit is what analytics meets.
  await db.execute(sql`
    insert into metrics (user_id, name, type, category, config)
    select ${user.id}::uuid, 'Metric ' || k, 'number', 'custom', '{"aggregation":"mean","missing":"unknown"}'::jsonb
    from generate_series(1, ${config.metricsMaxActive - 1}) as k`);
  await db.execute(sql`
    insert into entries (user_id, metric_id, value, numeric_value, date)
    select m.user_id, m.id, to_jsonb(v), v, ${today}::date - i
    from metrics m, generate_series(0, 29) as i, lateral (select random() * 10 + i * 0 as v) x
    where m.user_id = ${user.id}::uuid`);
  await db.execute(sql`
    with m as (
      insert into metrics (user_id, name, type, category, config)
      values (${user.id}::uuid, 'Sparse', 'number', 'custom', '{"aggregation":"sum","missing":"zero"}'::jsonb)
      returning id, user_id)
    insert into entries (user_id, metric_id, value, numeric_value, date)
    select user_id, id, '1'::jsonb, 1, d::date from m, (values ('1900-01-01'), (${today})) as days(d)`);
  return { id: user.id, token: (await createSession(db, user.id)).token };
}

interface HammerFigures {
  byStatus: Record<string, number>;
  okMs: number[];
}

interface HammerJob {
  url: string;
  token: string;
  hammers: number;
  analyticsMaxDays: number;
  analyticsMaxLag: number;
  analyticsPageMax: number;
  retryMs: number;
}

const HAMMER_ENV = 'LIFEXP_BENCH_HAMMER_JOB';

/**
 * H concurrent callers, each asking a fresh question as soon as the last is answered, until the
 * parent says stop. They run in a process of their own, as an abuser's client runs on a machine of
 * its own: their CPU is not the server's event loop.
 */
async function hammerChild(job: HammerJob): Promise<void> {
  // The abuser's client would run on a machine of its own: here it takes the CPU only when the
  // server and the database leave it some.
  setPriority(19);
  const today = localToday('UTC');
  const figures: HammerFigures = { byStatus: {}, okMs: [] };
  let stop = false;
  process.on('message', () => {
    stop = true;
  });
  let n = 0;
  const questions = () => {
    n += 1;
    const q = 0.05 + (n % 1000) / 10_000; // a fresh q: a fresh cache key
    return n % 3 === 2
      ? ['analytics.trends', { from: addDays(today, -(job.analyticsMaxDays - 2)), to: addDays(today, 1) }]
      : [
          'analytics.correlations',
          {
            all: true,
            maxLag: job.analyticsMaxLag,
            minN: 7,
            q,
            limit: job.analyticsPageMax,
            cursor: n % 5000,
          },
        ];
  };
  const loop = async () => {
    while (!stop) {
      const [path, input] = questions();
      const started = performance.now();
      const response = await fetch(
        `${job.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
        { headers: { authorization: `Bearer ${job.token}` } },
      ).catch(() => null);
      const status = response ? String(response.status) : 'network';
      await response?.arrayBuffer();
      figures.byStatus[status] = (figures.byStatus[status] ?? 0) + 1;
      if (status === '200') figures.okMs.push(performance.now() - started);
      // A refused caller ignores Retry-After: it comes back after --retry-ms (100 ms).
      if (status === '429') await new Promise((resolve) => setTimeout(resolve, job.retryMs));
    }
  };
  await Promise.all(Array.from({ length: job.hammers }, loop));
  await new Promise<void>((resolve, reject) =>
    process.send!(figures, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

function startHammers(job: HammerJob) {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [HAMMER_ENV]: JSON.stringify(job) },
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const done = new Promise<HammerFigures>((resolve, reject) => {
    let figures: HammerFigures | undefined;
    child.on('message', (message) => {
      figures = message as HammerFigures;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (figures && code === 0) resolve(figures);
      else reject(new Error(`the hostile callers' process ended with ${signal ?? `code ${code}`}`));
    });
  });
  return {
    stop(): Promise<HammerFigures> {
      child.send('stop');
      return done;
    },
  };
}

/** The main thread's garbage-collection pauses (ms) from now until stop(). */
function watchGc() {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return pauses;
    },
  };
}

export async function runHostileBench(): Promise<void> {
  const seconds = numberFlag('seconds', 20, 1, 600);
  const rate = numberFlag('rate', 20, 1, 500);
  const writerCount = numberFlag('writers', 5, 1, 100);
  const hammers = numberFlag('hammers', 8, 1, 64);
  const retryMs = numberFlag('retry-ms', 100, 0, 60_000);
  console.log(`hostile — start: ${machineLine()}`);
  await withThrowawayDatabase(async ({ url }) => {
    // The account call rate as deployed: it is one of the limits measured here.
    const server = await startLifeXp(url, 10, {
      API_ACCOUNT_CALLS_BURST: process.env.BENCH_SERVER_API_ACCOUNT_CALLS_BURST, // unset: the default
    });
    let probe: Awaited<ReturnType<typeof createWriterProbe>> | undefined;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    try {
      const today = localToday('UTC');
      const { config } = server.deps;
      const hostile = await setUpHostile(server, today);
      probe = await createWriterProbe(server, today, writerCount);
      await probe.phase(2, rate); // warm-up
      peakRss = process.memoryUsage().rss;
      const cpuAtStart = await cpuSnapshot();
      const restGc = watchGc();
      const rest = await probe.phase(seconds, rate);
      const restPauses = restGc.stop();
      const cpuAfterRest = await cpuSnapshot();
      const restRss = peakRss;
      const hammer = startHammers({
        url: server.url,
        token: hostile.token,
        hammers,
        analyticsMaxDays: config.analyticsMaxDays,
        analyticsMaxLag: config.analyticsMaxLag,
        analyticsPageMax: config.analyticsPageMax,
        retryMs,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const cpuBeforeHostile = await cpuSnapshot();
      const underGc = watchGc();
      const under = await probe.phase(seconds, rate);
      const underPauses = underGc.stop();
      const cpuAfterHostile = await cpuSnapshot();
      const hammered = await hammer.stop();
      const stats = server.deps.analytics.cacheStats();
      const underRss = peakRss;
      console.log(
        `hostile account: ${config.metricsMaxActive} metrics (30 days each, one zero-filled from 1900), ` +
          `${hammers} concurrent callers of analytics.correlations {all, maxLag ${config.analyticsMaxLag}, ` +
          `minN 7, limit ${config.analyticsPageMax}, a fresh q each} and trends over ${config.analyticsMaxDays} days; ` +
          `answers by HTTP status: ${JSON.stringify(hammered.byStatus)}, 200s median ` +
          `${round(quantile(hammered.okMs, 0.5))} ms; answer cache ${stats.hits} hits, ${stats.misses} misses, ` +
          `${round(stats.bytes / 1048576)} MiB held; ` +
          `series cache ${stats.series.hits} hits, ${stats.series.misses} misses, ` +
          `${Math.round(stats.series.bytes / 1048576)} MiB held; light users: entries.create paced at ${rate}/s for ` +
          `${seconds} s, round-robin over ${writerCount}, each with a device on sync.changes`,
      );
      const row = (figure: string, pick: (f: PhaseFigures) => number, digits = 1) => ({
        figure,
        'at rest': round(pick(rest), digits),
        'hostile account': round(pick(under), digits),
        'hostile ÷ rest': ratio(pick(under), pick(rest)),
      });
      const perSecond = (
        from: Awaited<ReturnType<typeof cpuSnapshot>>,
        to: Awaited<ReturnType<typeof cpuSnapshot>>,
        pick: (c: Awaited<ReturnType<typeof cpuSnapshot>>) => number | null,
      ) => {
        const a = pick(from);
        const b = pick(to);
        return a === null || b === null ? Number.NaN : (b - a) / seconds;
      };
      const gcRow = (figure: string, pick: (pauses: number[]) => number) => ({
        figure,
        'at rest': round(pick(restPauses)),
        'hostile account': round(pick(underPauses)),
        'hostile ÷ rest': ratio(pick(underPauses), pick(restPauses)),
      });
      const cpuRow = (
        figure: string,
        pick: (c: Awaited<ReturnType<typeof cpuSnapshot>>) => number | null,
      ) => {
        const restValue = perSecond(cpuAtStart, cpuAfterRest, pick);
        const underValue = perSecond(cpuBeforeHostile, cpuAfterHostile, pick);
        return {
          figure,
          'at rest': round(restValue, 0),
          'hostile account': round(underValue, 0),
          'hostile ÷ rest': ratio(underValue, restValue),
        };
      };
      console.table([
        row('entries.create p50 ms', (f) => quantile(f.createMs, 0.5)),
        row('entries.create p99 ms', (f) => quantile(f.createMs, 0.99)),
        row('sync delivery p50 ms', (f) => quantile(f.deliveryMs, 0.5)),
        row('sync delivery p99 ms', (f) => quantile(f.deliveryMs, 0.99)),
        row('event-loop delay p99 ms', (f) => f.loopP99Ms),
        row('writes failed', (f) => f.failed, 0),
        row('changes not delivered', (f) => f.undelivered, 0),
        gcRow('main-thread GC pauses, total ms', (p) => p.reduce((sum, ms) => sum + ms, 0)),
        gcRow('main-thread GC pauses, longest ms', (p) => Math.max(0, ...p)),
        gcRow('main-thread GC pauses over 10 ms', (p) => p.filter((ms) => ms > 10).length),
        cpuRow('server and light users, CPU ms per s', (c) => c.processMs),
        cpuRow('PostgreSQL (all processes), CPU ms per s', (c) => c.postgresMs),
        {
          figure: 'peak RSS MiB (server and bench, one process)',
          'at rest': Math.round(restRss / 1048576),
          'hostile account': Math.round(underRss / 1048576),
          'hostile ÷ rest': ratio(underRss, restRss),
        },
      ]);
    } finally {
      clearInterval(sampler);
      await probe?.close().catch(() => {});
      await server.close();
    }
  });
  console.log(`hostile — end: ${machineLine()}`);
}

const hammerJob = process.env[HAMMER_ENV];
if (hammerJob) {
  hammerChild(JSON.parse(hammerJob) as HammerJob).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
