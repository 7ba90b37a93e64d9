import { localToday } from '@lifexp/analytics';
import { createKeyedBuckets, type KeyedBuckets, loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { correlationsInput } from '@lifexp/contracts';
import {
  createDemoDocument,
  createEntry,
  importDocument,
  listActiveInsights,
  listMetrics,
  registerUser,
} from '@lifexp/db';
import { describeEachDriver } from '@lifexp/db/testing';
import { afterAll, expect, it } from 'vitest';
import { createPacer, type PacerClock } from '../src/pacer';
import { createAnalyticsService } from '../src/service';

const today = localToday('UTC');
let accounts = 0;

/**
 * A clock for the pacer that holds every rest until released: a paced recompute then stops between
 * two of its steps for as long as a test wants, whatever the machine's speed.
 */
function heldClock() {
  let time = 0;
  let release: () => void = () => {};
  let held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const rests: number[] = [];
  let resting: () => void = () => {};
  const firstRest = new Promise<void>((resolve) => {
    resting = resolve;
  });
  const clock: PacerClock = {
    // Each reading moves on: every step takes some time, so every step owes a rest.
    now: () => (time += 1),
    async sleep(ms) {
      rests.push(ms);
      resting();
      await held;
    },
  };
  return {
    clock,
    rests,
    /** Resolves once a step is waiting for its rest. */
    firstRest,
    release() {
      release();
      held = Promise.resolve();
    },
  };
}

/** What an insight says, without what the store gives it (id, time). */
const contents = (rows: Awaited<ReturnType<typeof listActiveInsights>>) =>
  rows
    .map(({ type, confidence, dateFrom, dateTo, data }) => ({ type, confidence, dateFrom, dateTo, data }))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

describeEachDriver('paced recomputes', (ctx) => {
  const { log } = memoryLog();
  const services: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(services.map((service) => service.close())));

  function service(percent: number, clock?: PacerClock, allowance?: KeyedBuckets) {
    const config = loadConfig({ NODE_ENV: 'test', INSIGHTS_RECOMPUTE_PERCENT: String(percent) });
    const created = createAnalyticsService(config, ctx().database, log, {
      ...(clock ? { pacer: createPacer(percent, clock) } : {}),
      ...(allowance ? { allowance } : {}),
    });
    services.push(created);
    return created;
  }

  async function account(days: number) {
    accounts += 1;
    const user = await registerUser(ctx().db, {
      email: `paced-${accounts}-${Date.now()}@example.com`,
      password: 'correct horse battery staple',
    });
    await importDocument(ctx().db, user.id, createDemoDocument({ days, end: today, seed: 11 + accounts }));
    return user.id;
  }

  it('a paced recompute stores the same insights as an unpaced one', async () => {
    const userId = await account(120);
    const unpaced = await service(100).recompute(userId);
    const first = contents(await listActiveInsights(ctx().db, userId));
    expect(unpaced.count).toBeGreaterThan(0);
    expect(first).toHaveLength(unpaced.count);

    const { clock, rests, release } = heldClock();
    release();
    const paced = await service(5, clock).recompute(userId);
    expect(paced.setId).not.toBe(unpaced.setId);
    expect(contents(await listActiveInsights(ctx().db, userId))).toEqual(first);
    // At 5 %, each step owes 19 times its time at rest. Every step takes one tick of this clock, and
    // one more has passed when the next step asks: 18 each, between every two of the recompute's
    // steps (the user, the metric list, each metric's series, the math, the store).
    expect(rests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(rests)).toEqual(new Set([18]));
  }, 120_000);

  it('calls that differ only in their parameters load the series once; a write loads them anew', async () => {
    const userId = await account(120);
    const analytics = service(100);
    const strict = await analytics.correlations(userId, correlationsInput.parse({ q: 0.01 }));
    const loose = await analytics.correlations(userId, correlationsInput.parse({ q: 0.5, maxLag: 2 }));
    const trends = await analytics.trends(userId, {});
    expect(analytics.cacheStats().series).toMatchObject({ misses: 1, hits: 2 });
    expect(analytics.cacheStats().series.bytes).toBeGreaterThan(0);
    // The answers are those of a service that loads everything afresh.
    const fresh = service(100);
    expect(await fresh.correlations(userId, correlationsInput.parse({ q: 0.01 }))).toEqual(strict);
    expect(await fresh.correlations(userId, correlationsInput.parse({ q: 0.5, maxLag: 2 }))).toEqual(loose);
    expect(await fresh.trends(userId, {})).toEqual(trends);
    expect(loose.testsRun).toBeGreaterThan(strict.testsRun);
    // A write moves the data version on: the next call reads the database again.
    const metrics = await listMetrics(ctx().db, userId, { includeArchived: false });
    const rating = metrics.find((metric) => metric.type === 'rating');
    await createEntry(ctx().db, userId, { metricId: rating!.id, date: today, value: 3, time: '23:59' });
    await analytics.correlations(userId, correlationsInput.parse({ q: 0.01 }));
    expect(analytics.cacheStats().series).toMatchObject({ misses: 2, hits: 2 });
    // Another range is another entry.
    await analytics.trends(userId, { from: '2020-01-01' });
    expect(analytics.cacheStats().series).toMatchObject({ misses: 3, hits: 2 });
  }, 120_000);

  it('pages of one correlation question are cut from one scan; another question or a write scans again', async () => {
    const userId = await account(120);
    const analytics = service(100);
    const question = { q: 0.5, maxLag: 2, all: true };
    const ask = (extra: { limit: number; cursor?: number }) =>
      analytics.correlations(userId, correlationsInput.parse({ ...question, ...extra }));
    const whole = await ask({ limit: 200 });
    expect(whole.total).toBeGreaterThan(9);
    expect(whole.nextCursor).toBeNull();
    expect(analytics.cacheStats().ranked).toMatchObject({ misses: 1, hits: 0 });
    expect(analytics.cacheStats().ranked.bytes).toBeGreaterThan(0);

    const paged: unknown[] = [];
    let pages = 0;
    for (let cursor: number | undefined; ; ) {
      const page = await ask({ limit: 4, ...(cursor === undefined ? {} : { cursor }) });
      pages += 1;
      expect(page.total).toBe(whole.total);
      expect(page.testsRun).toBe(whole.testsRun);
      paged.push(...page.findings);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(whole.findings);
    expect(analytics.cacheStats().ranked).toMatchObject({ misses: 1, hits: pages });
    // A page cut from the kept ranking is the page a fresh scan gives.
    const fresh = service(100);
    expect(await ask({ limit: 4, cursor: 4 })).toEqual(
      await fresh.correlations(userId, correlationsInput.parse({ ...question, limit: 4, cursor: 4 })),
    );

    // Another question is another scan; so is the same one after a write.
    await analytics.correlations(userId, correlationsInput.parse({ ...question, q: 0.2 }));
    expect(analytics.cacheStats().ranked.misses).toBe(2);
    const metrics = await listMetrics(ctx().db, userId, { includeArchived: false });
    const rating = metrics.find((metric) => metric.type === 'rating');
    await createEntry(ctx().db, userId, { metricId: rating!.id, date: today, value: 4, time: '23:58' });
    await ask({ limit: 4, cursor: 4 });
    expect(analytics.cacheStats().ranked.misses).toBe(3);
    // Forgetting the user drops its rankings.
    analytics.forgetUser(userId);
    expect(analytics.cacheStats().ranked.bytes).toBe(0);
  }, 120_000);

  it('calls arriving together share one load of the series', async () => {
    const userId = await account(90);
    const analytics = service(100);
    const answers = await Promise.all([
      analytics.correlations(userId, correlationsInput.parse({ q: 0.01 })),
      analytics.correlations(userId, correlationsInput.parse({ q: 0.2 })),
      analytics.trends(userId, {}),
    ]);
    expect(analytics.cacheStats().series).toMatchObject({ misses: 1, hits: 2 });
    const fresh = service(100);
    expect(await fresh.correlations(userId, correlationsInput.parse({ q: 0.2 }))).toEqual(answers[1]);
    expect(await fresh.trends(userId, {})).toEqual(answers[2]);
  }, 120_000);

  it("an account's computed answers are charged to its share; beyond it, refused until it refills", async () => {
    const userId = await account(90);
    const other = await account(60);
    let now = 0;
    // The defaults' share: 100 ms of compute a second of real time, 5,000 ms at once.
    const allowance = createKeyedBuckets({ perSecond: 100, capacity: 5000, now: () => now });
    const analytics = service(100, undefined, allowance);
    const first = await analytics.correlations(userId, correlationsInput.parse({ q: 0.05 }));
    // The series load and the worker's time were charged.
    const spent = 5000 - allowance.available(userId);
    expect(spent).toBeGreaterThan(0);
    // An account that has used its share (here: taken at once) is refused a fresh computation...
    allowance.take(userId, 5000);
    const refused = await analytics.correlations(userId, correlationsInput.parse({ q: 0.2 })).catch((e) => e);
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect(refused.message).toMatch(/used its share of compute time \(10 %\); ask again in \d+ s/);
    expect(refused.details.retryAfterSeconds).toBe(allowance.retryAfterSeconds(userId));
    // The debt is the first call's time, paid off at 100 ms a second.
    expect(refused.details.retryAfterSeconds).toBe(Math.max(1, Math.ceil(spent / 100)));
    // ...but not an answer it has already been given, and not another account.
    expect(await analytics.correlations(userId, correlationsInput.parse({ q: 0.05 }))).toEqual(first);
    // Nor another page of a question it has asked: cut from the kept ranking, it costs nothing.
    expect(first.findings.length).toBeGreaterThan(0);
    const page = await analytics.correlations(userId, correlationsInput.parse({ q: 0.05, limit: 1 }));
    expect(page.findings).toEqual(first.findings.slice(0, 1));
    expect(page.total).toBe(first.total);
    await expect(analytics.trends(other, {})).resolves.toBeDefined();
    // Once the debt is paid off, it computes again.
    now += refused.details.retryAfterSeconds * 1000 + 1;
    await expect(analytics.correlations(userId, correlationsInput.parse({ q: 0.2 }))).resolves.toBeDefined();
  }, 120_000);

  it('interactive calls are answered while a paced recompute rests, and are not paced', async () => {
    const userId = await account(90);
    const other = await account(60);
    const held = heldClock();
    const analytics = service(25, held.clock);
    let settled = false;
    const recompute = analytics.recompute(userId).finally(() => {
      settled = true;
    });
    await held.firstRest;
    const restsBefore = held.rests.length;

    // The same user's and another user's questions are answered while the recompute waits.
    const mine = await analytics.correlations(userId, correlationsInput.parse({}));
    const theirs = await analytics.trends(other, {});
    expect(mine.testsRun).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(settled).toBe(false);
    expect(held.rests).toHaveLength(restsBefore);

    held.release();
    const stored = await recompute;
    expect(stored.count).toBeGreaterThan(0);
    expect(await listActiveInsights(ctx().db, userId)).toHaveLength(stored.count);
  }, 120_000);
});
