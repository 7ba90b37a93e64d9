// Run as a child process by hostile.test.ts, with a heap limit: pathological accounts against the
// analytics service with the default limits. Prints one JSON line of outcomes; a blow-up kills this
// process (and fails the test), never the test runner.
//
// DATABASE_URL: a migrated PostgreSQL database; without it an in-memory PGlite is used.

import { addDays, localToday } from '@lifexp/analytics';
import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { correlationsInput, trendsInput } from '@lifexp/contracts';
import { createDb, DomainError, registerUser, rowsOf } from '@lifexp/db';
import { createAnalyticsService } from '@lifexp/insights';
import { sql } from 'drizzle-orm';

const database = await createDb(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL, poolMax: 4 } : {},
);
// Each pathological account asks its heaviest questions back to back, on a machine busy with other
// tests: the per-account compute share (service.test.ts, bench hostile) is lifted so that what is
// checked here is the answer at each limit, not the share.
const config = loadConfig({ NODE_ENV: 'test', ANALYTICS_WORKERS: '1', ANALYTICS_ACCOUNT_BURST_MS: '600000' });
const analytics = createAnalyticsService(config, database, memoryLog().log);
const { db } = database;
const today = localToday('UTC');

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

let userCount = 0;
async function account(): Promise<string> {
  userCount += 1;
  const user = await registerUser(db, {
    email: `hostile-${userCount}-${Date.now()}@example.com`,
    password: 'correct horse battery staple',
  });
  return user.id;
}

/** Metrics written straight to the tables (as an import could): no limit is checked on the way in. */
async function metric(userId: string, name: string, config: Record<string, unknown>): Promise<string> {
  const result = await db.execute(sql`
    insert into metrics (user_id, name, type, category, config)
    values (${userId}::uuid, ${name}, 'number', 'other', ${JSON.stringify(config)}::jsonb) returning id`);
  return rowsOf<{ id: string }>(result)[0]!.id;
}

/** One entry per day from `from` for `days` days, every `step` days, with `value(i)`. */
async function entries(
  userId: string,
  metricId: string,
  from: string,
  days: number,
  step: number,
  value: string,
): Promise<void> {
  await db.execute(sql`
    insert into entries (user_id, metric_id, value, numeric_value, date)
    select ${userId}::uuid, ${metricId}::uuid, to_jsonb(v), v, ${from}::date + i
    from generate_series(0, ${days - 1}, ${step}) as i, lateral (select ${sql.raw(value)} as v) x`);
}

type Outcome = { name: string; outcome: string; detail?: unknown };
const outcomes: Outcome[] = [];

async function attempt(name: string, run: () => Promise<unknown>, describe?: (answer: never) => unknown) {
  try {
    const answer = await run();
    outcomes.push({
      name,
      outcome: 'ok',
      detail: {
        bytes: Buffer.byteLength(JSON.stringify(answer)),
        ...(describe ? (describe(answer as never) as object) : {}),
      },
    });
  } catch (error) {
    outcomes.push({
      name,
      outcome: error instanceof DomainError ? error.code : `crash: ${(error as Error).message}`,
      detail: (error as Error).message,
    });
  }
}

const correlations = (userId: string, input: Record<string, unknown>) =>
  analytics.correlations(userId, correlationsInput.parse(input));
const trends = (userId: string, input: Record<string, unknown>) =>
  analytics.trends(userId, trendsInput.parse(input));
const page = (answer: {
  findings: unknown[];
  total: number;
  testsRun: number;
  nextCursor: number | null;
}) => ({
  findings: answer.findings.length,
  total: answer.total,
  testsRun: answer.testsRun,
  nextCursor: answer.nextCursor,
});
const trendSummary = (answer: { n: number }[]) => ({ trends: answer.length, n: answer.map((t) => t.n) });

try {
  const max = config.metricsMaxActive;

  // -- hundreds of metrics: one over the limit, then exactly at it
  const many = await account();
  const ids: string[] = [];
  for (let i = 0; i <= max; i++)
    ids.push(await metric(many, `Metric ${i}`, { aggregation: 'mean', missing: 'unknown' }));
  for (const id of ids) await entries(many, id, addDays(today, -29), 30, 1, 'random() * 10 + i * 0');
  const worst = { all: true, maxLag: config.analyticsMaxLag, minN: 7, limit: config.analyticsPageMax };
  await attempt('metrics over the limit: correlations', () => correlations(many, worst));
  await attempt('metrics over the limit: trends', () => trends(many, {}));
  await attempt('metrics over the limit: recompute', () => analytics.recompute(many));
  await db.execute(sql`update metrics set is_active = false where id = ${ids[0]!}::uuid`);
  let total = 0;
  await attempt(
    'metrics at the limit: correlations, worst parameters',
    async () => {
      const answer = (await correlations(many, worst)) as { total: number };
      total = answer.total;
      return answer;
    },
    page,
  );
  await attempt(
    'metrics at the limit: correlations, last page',
    () => correlations(many, { ...worst, cursor: Math.max(0, total - 1) }),
    page,
  );
  await attempt('metrics at the limit: maxLag beyond', () =>
    correlations(many, { ...worst, maxLag: config.analyticsMaxLag + 1 }),
  );
  await attempt('metrics at the limit: limit beyond', () =>
    correlations(many, { ...worst, limit: config.analyticsPageMax + 1 }),
  );
  await attempt('metrics at the limit: trends', () => trends(many, {}), trendSummary);
  await attempt('metrics at the limit: recompute', () => analytics.recompute(many));

  // -- a century-wide span: two entries of a zero-filled metric, 1900 and today
  const wide = await account();
  const sparse = await metric(wide, 'Sparse', { aggregation: 'sum', missing: 'zero' });
  await entries(wide, sparse, '1900-01-01', 1, 1, '1');
  await entries(wide, sparse, today, 1, 1, '2');
  const span = config.analyticsMaxDays;
  await attempt('century span: trends, open-ended', () => trends(wide, {}), trendSummary);
  await attempt('century span: trends from 1900', () => trends(wide, { from: '1900-01-01' }));
  await attempt('century span: trends to 2500', () => trends(wide, { to: '2500-01-01' }));
  await attempt('century span: to tomorrow', () => trends(wide, { to: addDays(today, 1) }), trendSummary);
  await attempt('century span: to the day after tomorrow', () => trends(wide, { to: addDays(today, 2) }));
  await attempt(
    'century span: a window of the limit',
    () => trends(wide, { from: addDays(today, -(span - 1)), to: today }),
    trendSummary,
  );
  await attempt('century span: a window one day longer', () =>
    trends(wide, { from: addDays(today, -span), to: today }),
  );
  await attempt('century span: correlations, open-ended', () => correlations(wide, worst), page);
  await attempt('century span: recompute', () => analytics.recompute(wide));

  // -- all-tied values: the same value every day for the whole window and more
  const tied = await account();
  for (const name of ['Tied A', 'Tied B']) {
    const id = await metric(tied, name, { aggregation: 'mean', missing: 'unknown' });
    // One day in a thousand differs: almost every pair of days is a tie.
    await entries(
      tied,
      id,
      addDays(today, -(span + 999)),
      span + 1000,
      1,
      'case when i % 1000 = 0 then 6 else 5 end',
    );
  }
  await attempt('all tied: trends', () => trends(tied, {}), trendSummary);
  await attempt('all tied: correlations', () => correlations(tied, worst), page);
  await attempt('all tied: recompute', () => analytics.recompute(tied));

  // -- zero-filled decades: an entry every 100 days for 40 years, zero on every other day
  const decades = await account();
  for (const name of ['Decades A', 'Decades B', 'Decades C']) {
    const id = await metric(decades, name, { aggregation: 'sum', missing: 'zero' });
    await entries(decades, id, addDays(today, -40 * 365), 40 * 365, 100, '1 + random() + i * 0');
  }
  await attempt('zero-filled decades: trends', () => trends(decades, {}), trendSummary);
  await attempt('zero-filled decades: correlations', () => correlations(decades, worst), page);
  await attempt('zero-filled decades: recompute', () => analytics.recompute(decades));
} finally {
  clearInterval(sampler);
  await analytics.close();
  await database.close();
}
console.log(JSON.stringify({ outcomes, peakRssMb: Math.round(peakRss / 1048576) }));
