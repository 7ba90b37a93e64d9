// "Hostile account" benchmark on PostgreSQL: one account with as many metrics as the limit allows
// (METRICS_MAX_ACTIVE, 30 days each) plus a zero-filled metric logged in 1900 and today hammers
// analytics with the worst parameters allowed (all pairs, the largest maxLag and page, a fresh `q`
// per call so the cache never answers), from several connections at once, while light users write
// and sync. Reports the server's peak RSS and the light users' p99 beside the same run at rest.
// Flags: --seconds S per phase (20), --rate R writes/s (20), --writers W light users (5),
// --hammers H concurrent hostile callers (8).

import { addDays, localToday } from '@lifexp/analytics';
import { createSession, registerUser } from '@lifexp/db';
import type { RunningServer } from '@lifexp/server/runtime';
import { sql } from 'drizzle-orm';
import { createWriterProbe, type PhaseFigures, quantile } from './insights.ts';
import { machineLine, numberFlag, startLifeXp, withThrowawayDatabase } from './support.ts';

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

/** H concurrent callers, each asking a fresh question as soon as the last is answered. */
function startHammers(server: RunningServer, token: string, hammers: number) {
  const { config } = server.deps;
  const today = localToday('UTC');
  const figures: HammerFigures = { byStatus: {}, okMs: [] };
  let stop = false;
  let n = 0;
  const questions = () => {
    n += 1;
    const q = 0.05 + (n % 1000) / 10_000; // a fresh q: a fresh cache key
    return n % 3 === 2
      ? ['analytics.trends', { from: addDays(today, -(config.analyticsMaxDays - 2)), to: addDays(today, 1) }]
      : [
          'analytics.correlations',
          {
            all: true,
            maxLag: config.analyticsMaxLag,
            minN: 7,
            q,
            limit: config.analyticsPageMax,
            cursor: n % 5000,
          },
        ];
  };
  const loop = async () => {
    while (!stop) {
      const [path, input] = questions();
      const started = performance.now();
      const response = await fetch(
        `${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
        { headers: { authorization: `Bearer ${token}` } },
      ).catch(() => null);
      const status = response ? String(response.status) : 'network';
      await response?.arrayBuffer();
      figures.byStatus[status] = (figures.byStatus[status] ?? 0) + 1;
      if (status === '200') figures.okMs.push(performance.now() - started);
      // A refused caller honours Retry-After only in part: it comes back after 100 ms.
      if (status === '429') await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const running = Array.from({ length: hammers }, loop);
  return {
    async stop() {
      stop = true;
      await Promise.all(running);
      return figures;
    },
  };
}

export async function runHostileBench(): Promise<void> {
  const seconds = numberFlag('seconds', 20, 1, 600);
  const rate = numberFlag('rate', 20, 1, 500);
  const writerCount = numberFlag('writers', 5, 1, 100);
  const hammers = numberFlag('hammers', 8, 1, 64);
  console.log(`hostile — start: ${machineLine()}`);
  await withThrowawayDatabase(async ({ url }) => {
    const server = await startLifeXp(url, 10);
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
      const rest = await probe.phase(seconds, rate);
      const restRss = peakRss;
      const hammer = startHammers(server, hostile.token, hammers);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const under = await probe.phase(seconds, rate);
      const hammered = await hammer.stop();
      const underRss = peakRss;
      console.log(
        `hostile account: ${config.metricsMaxActive} metrics (30 days each, one zero-filled from 1900), ` +
          `${hammers} concurrent callers of analytics.correlations {all, maxLag ${config.analyticsMaxLag}, ` +
          `minN 7, limit ${config.analyticsPageMax}, a fresh q each} and trends over ${config.analyticsMaxDays} days; ` +
          `answers by HTTP status: ${JSON.stringify(hammered.byStatus)}, 200s median ` +
          `${round(quantile(hammered.okMs, 0.5))} ms; light users: entries.create paced at ${rate}/s for ` +
          `${seconds} s, round-robin over ${writerCount}, each with a device on sync.changes`,
      );
      const row = (figure: string, pick: (f: PhaseFigures) => number, digits = 1) => ({
        figure,
        'at rest': round(pick(rest), digits),
        'hostile account': round(pick(under), digits),
        'hostile ÷ rest': ratio(pick(under), pick(rest)),
      });
      console.table([
        row('entries.create p50 ms', (f) => quantile(f.createMs, 0.5)),
        row('entries.create p99 ms', (f) => quantile(f.createMs, 0.99)),
        row('sync delivery p50 ms', (f) => quantile(f.deliveryMs, 0.5)),
        row('sync delivery p99 ms', (f) => quantile(f.deliveryMs, 0.99)),
        row('event-loop delay p99 ms', (f) => f.loopP99Ms),
        row('writes failed', (f) => f.failed, 0),
        row('changes not delivered', (f) => f.undelivered, 0),
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
