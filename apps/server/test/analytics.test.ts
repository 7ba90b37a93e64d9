import { addDays, localToday, prng } from '@lifexp/analytics';
import {
  type CorrelationFinding,
  type CorrelationsResult,
  correlationsInput,
  type Insight,
  type TrendFinding,
} from '@lifexp/contracts';
import { XP_METRICS_CAP, XP_PER_DAY, XP_PER_METRIC, XP_STREAK_CAP } from '@lifexp/db';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { RECOMPUTE_QUEUE } from '../src/jobs';
import { type PlantedUser, plantUser } from './planted';
import { call, describeServer, errorOf, eventually, httpClient, signUp, type TestServer } from './support';

type Client = Awaited<ReturnType<typeof signUp>>['client'];

type CorrelationsQuery = Parameters<Client['analytics']['correlations']['query']>[0];
/** One page of the largest size the server allows by default (200). */
const correlations = async (client: Client, input: CorrelationsQuery = {}) =>
  (await client.analytics.correlations.query({ limit: 200, ...input })) as CorrelationsResult;
/** Every page, followed by its cursor, joined into one answer. */
async function everyCorrelation(client: Client, input: CorrelationsQuery = {}): Promise<CorrelationsResult> {
  const first = await correlations(client, input);
  const findings = [...first.findings];
  let cursor = first.nextCursor;
  while (cursor !== null) {
    const page = await correlations(client, { ...input, cursor });
    expect(page.total).toBe(first.total);
    findings.push(...page.findings);
    cursor = page.nextCursor;
  }
  expect(findings).toHaveLength(first.total);
  return { ...first, findings, nextCursor: null };
}
const trends = async (client: Client, input: Parameters<Client['analytics']['trends']['query']>[0] = {}) =>
  (await client.analytics.trends.query(input)) as TrendFinding[];

/**
 * Queues a recompute through the job queue (as the debounced write path and the daily sweep do) and
 * waits until the new set is the active one. The suite's own debounce is an hour, so nothing else
 * recomputes behind the tests' backs.
 */
async function recomputeThroughJob(server: TestServer, client: Client, userId: string): Promise<Insight[]> {
  const before = new Set((await client.analytics.insights.query()).map((insight) => insight.id));
  await server.server.deps.jobs.boss.send(RECOMPUTE_QUEUE, { userId });
  return eventually(async () => {
    const now = await client.analytics.insights.query();
    return now.length > 0 && now.every((insight) => !before.has(insight.id)) ? now : undefined;
  }, 'the recompute job');
}

const sameFinding = (finding: CorrelationFinding, a: string, b: string, lag: number) =>
  finding.a.id === a && finding.b.id === b && finding.lag === lag;

describeServer(
  'analytics',
  (ctx) => {
    describe('a user with planted effects', () => {
      let user: Awaited<ReturnType<typeof signUp>>;
      let planted: PlantedUser;
      beforeAll(async () => {
        user = await signUp(ctx().url);
        planted = await plantUser(user.client, { seed: 20_240_601, days: 200, noiseMetrics: 12 });
      }, 120_000);

      it('correlations find Sleep → next-day Mood: Spearman, positive, significant, with honest n and q', async () => {
        const truth = planted.truths.sleepMood!;
        const result = await correlations(user.client);
        // (The user's today; a UTC midnight between planting and asking would move it by a day.)
        expect([planted.to, addDays(planted.to, 1)]).toContain(result.to);
        expect(result.from).toBe(planted.from);
        // 16 usable series: C(16,2) pairs × (lag 0 + lag 1 both ways).
        expect(result.testsRun).toBe(((16 * 15) / 2) * 3);
        const finding = result.findings.find((f) => sameFinding(f, truth.a, truth.b, 1));
        expect(finding).toBeDefined();
        expect(finding).toMatchObject({
          a: { id: truth.a, name: 'Sleep' },
          b: { id: truth.b, name: 'Mood' },
          lag: 1,
          method: 'spearman',
          significant: true,
          tentative: false,
          // Exactly the days with Sleep on d − 1 and Mood on d, as the generator logged them.
          n: truth.pairedDays,
          sentence: 'On days after your Sleep is higher than usual for that period, your Mood is higher too',
        });
        // The planted latent correlation is 0.7/√(0.7² + 0.9²·(2/7)(5/7) + 0.7²) ≈ 0.65 before the
        // rounding to 1..5; anything above 0.3 is unmistakably the planted effect, not noise (|ρ| of
        // noise at n ≈ 180 has an sd of ≈ 0.075).
        expect(finding!.effect).toBeGreaterThan(0.3);
        expect(['moderate', 'strong']).toContain(finding!.strength);
        expect(finding!.ci95[0]).toBeGreaterThan(0);
        expect(finding!.ci95[1]).toBeLessThanOrEqual(1);
        expect(finding!.p).toBeLessThan(1e-6);
        expect(finding!.q).toBeGreaterThanOrEqual(finding!.p);
        expect(finding!.q).toBeLessThanOrEqual(Math.min(1, finding!.p * result.testsRun));
        expect(finding!.nEff).toBeGreaterThan(2);
        expect(finding!.nEff).toBeLessThanOrEqual(finding!.n * 1.5);
        // Only significant findings are reported by default, each with a sentence.
        for (const f of result.findings) {
          expect(f.significant).toBe(true);
          expect(f.q).toBeLessThanOrEqual(0.05);
          expect(f.sentence.length).toBeGreaterThan(10);
        }
        // Sleep is independent from day to day: the reverse direction and the same day are nulls.
        // Everything else reported is a false discovery; BH at q = 0.05 with one true effect keeps
        // the expected number of those well below 1 (a fixed seed makes this deterministic).
        const falseFindings = result.findings.filter((f) => !sameFinding(f, truth.a, truth.b, 1));
        expect(falseFindings.length).toBeLessThanOrEqual(2);
      });

      it('with all: true every test is listed, and the method can be forced', async () => {
        const truth = planted.truths.sleepMood!;
        const all = await everyCorrelation(user.client, { all: true, maxLag: 2 });
        expect(all.findings.length).toBe(all.testsRun);
        expect(all.testsRun).toBe(((16 * 15) / 2) * 5);
        expect(all.findings.some((f) => !f.significant)).toBe(true);
        const pearson = await correlations(user.client, { method: 'pearson' });
        const finding = pearson.findings.find((f) => sameFinding(f, truth.a, truth.b, 1));
        expect(finding?.method).toBe('pearson');
        const sameDay = await correlations(user.client, { maxLag: 0, all: true });
        expect(sameDay.findings.every((f) => f.lag === 0)).toBe(true);
        expect(sameDay.testsRun).toBe((16 * 15) / 2);
        // A yes/no metric is reported as point-biserial with the means on days with and without.
        const coffee = all.findings.find(
          (f) => f.a.id === planted.metrics.coffee && f.b.id === planted.metrics.mood,
        );
        expect(coffee?.method).toBe('point-biserial');
        expect(typeof coffee?.meanWith).toBe('number');
        expect(typeof coffee?.meanWithout).toBe('number');
      });

      it('a from/to range narrows the days', async () => {
        const truth = planted.truths.sleepMood!;
        const from = addDays(planted.to, -99);
        const result = await correlations(user.client, { from, to: planted.to, all: true });
        expect(result.from).toBe(from);
        expect(result.to).toBe(planted.to);
        const finding = result.findings.find((f) => sameFinding(f, truth.a, truth.b, 1))!;
        // Sleep on d ≥ from and Mood on d + 1 ≤ to.
        const inRange = truth.pairedDates.filter((date) => date > from && date <= planted.to);
        expect(finding.n).toBe(inRange.length);
        expect(finding.n).toBeLessThan(truth.pairedDays);
      });

      it('trends report Weight rising at the planted slope, in kg', async () => {
        const truth = planted.truths.weightTrend!;
        const all = await trends(user.client);
        const weight = all.find((trend) => trend.metric.id === truth.metric);
        expect(weight).toMatchObject({
          metric: { id: truth.metric, name: 'Weight' },
          direction: 'up',
          unit: 'kg',
          n: truth.days,
          tentative: false,
        });
        // Theil–Sen on ~160 days with noise sd 0.35 kg: its standard error is about
        // 7 · 0.35 / √(n · var(t)) ≈ 7 · 0.35 / √(160 · 200²/12) ≈ 0.0034 kg a week, so ±0.02 kg
        // (about 6 standard errors, and 20% of the slope) is tight enough to catch a wrong unit or
        // a per-day slope (7× off) and loose enough never to flake.
        expect(Math.abs(weight!.slopePerWeek - truth.slopePerWeek)).toBeLessThan(0.02);
        expect(weight!.p).toBeLessThan(1e-6);
        expect(weight!.tau).toBeGreaterThan(0.3);
        expect(weight!.sentence).toMatch(/^Your Weight has been rising by about 0\.\d+ kg a week$/);
        // Units follow the metric: Sleep in its display unit (hours), Mood in points.
        expect(all.find((trend) => trend.metric.id === planted.metrics.sleep)?.unit).toBe('h');
        expect(all.find((trend) => trend.metric.id === planted.metrics.mood)?.unit).toBe('points');
        // Sleep is drawn around 7.2 h: its Theil–Sen slope is near zero in hours (not seconds).
        expect(
          Math.abs(all.find((trend) => trend.metric.id === planted.metrics.sleep)!.slopePerWeek),
        ).toBeLessThan(0.05);
        // One metric on request.
        const one = await trends(user.client, { metricId: truth.metric });
        expect(one.map((trend) => trend.metric.id)).toEqual([truth.metric]);
        expect(one[0]).toEqual(weight);
      });

      it('after a recompute, insights hold the weekend pattern, the Weight trend, the correlation and a grounded recommendation', async () => {
        const insights = await recomputeThroughJob(ctx(), user.client, user.user.id);
        const sleepMood = planted.truths.sleepMood!;
        const weekend = planted.truths.weekend!;

        const pattern = insights.find(
          (insight) =>
            insight.type === 'pattern' && (insight.data.metric as { id: string }).id === weekend.metric,
        );
        expect(pattern).toBeDefined();
        expect(weekend.highest).toContain(pattern!.data.highest);
        expect(pattern!.data.n).toBe(weekend.moodDays);
        expect(pattern!.data.sentence).toMatch(
          /^Your Mood is highest on (Saturdays|Sundays) and lowest on (Mon|Tues|Wednes|Thurs|Fri)days \(q = [^,]+, n = \d+\)$/,
        );

        const trend = insights.find(
          (insight) =>
            insight.type === 'trend' &&
            (insight.data.metric as { id: string }).id === planted.truths.weightTrend!.metric,
        );
        expect(trend?.data).toMatchObject({ direction: 'up', unit: 'kg' });

        const correlation = insights.find(
          (insight) =>
            insight.type === 'correlation' &&
            sameFinding(insight.data as unknown as CorrelationFinding, sleepMood.a, sleepMood.b, 1),
        );
        expect(correlation).toBeDefined();
        expect(correlation!.data.sentence).toBe(
          'On days after your Sleep is higher than usual for that period, your Mood is higher too',
        );

        const recommendations = insights.filter((insight) => insight.type === 'recommendation');
        const sleepTip = recommendations.find(
          (insight) => (insight.data.basedOn as { a: { id: string } }).a.id === sleepMood.a,
        );
        expect(sleepTip).toBeDefined();
        const match =
          /^Try more Sleep: on days after your Sleep is higher than usual for that period, your Mood is higher too \(based on (\d+) days, q = ([^)]+)\)$/.exec(
            sleepTip!.data.sentence,
          );
        expect(match).not.toBeNull();
        expect(Number(match![1])).toBe(sleepMood.pairedDays);
        expect(Number(match![2])).toBeLessThanOrEqual(0.05);
        // Every recommendation rests on a stored, significant, non-tentative correlation of this set.
        const correlations = insights
          .filter((insight) => insight.type === 'correlation')
          .map((insight) => insight.data as unknown as CorrelationFinding);
        for (const recommendation of recommendations) {
          const basedOn = recommendation.data.basedOn as {
            a: { id: string };
            b: { id: string };
            lag: number;
            n: number;
            q: number;
          };
          expect(basedOn.q).toBeLessThanOrEqual(0.05);
          const ground = correlations.find((f) => sameFinding(f, basedOn.a.id, basedOn.b.id, basedOn.lag));
          expect(ground).toBeDefined();
          expect(ground).toMatchObject({ significant: true, tentative: false, n: basedOn.n, q: basedOn.q });
          expect(recommendation.data.sentence).toContain(`(based on ${basedOn.n} days, q = `);
        }

        // The filter by type.
        const onlyPatterns = await user.client.analytics.insights.query({ types: ['pattern'] });
        expect(onlyPatterns.length).toBeGreaterThan(0);
        expect(onlyPatterns.every((insight) => insight.type === 'pattern')).toBe(true);
      });
    });

    describe('false discoveries', () => {
      // 25 pure-noise metrics over 200 days, 900 tests each (300 pairs × lag 0 and lag 1 both ways), five
      // seeds. Everything reported as significant is a false discovery. Under this complete null the FDR
      // equals P(at least one discovery), and Benjamini–Hochberg keeps it at or below q = 0.1 for
      // independent or positively dependent tests. So the number of seeds with any discovery is at most
      // Binomial(5, 0.1): P(≥ 3 of 5) < 0.9%. And the raw p-values must be calibrated (uniform), so about
      // 10% of the 900 tests have p < 0.1 — which shows the correction, not luck, keeps the list empty.
      const seeds = [101, 202, 303, 404, 505];
      const results: CorrelationsResult[] = [];
      beforeAll(async () => {
        for (const seed of seeds) {
          const { client } = await signUp(ctx().url);
          await plantUser(client, { seed, days: 200, noiseMetrics: 25, planted: false });
          results.push(await everyCorrelation(client, { q: 0.1, all: true }));
        }
      }, 240_000);

      it('the share of false findings stays at or below q across seeds', () => {
        let seedsWithAny = 0;
        let falseFindings = 0;
        let rawBelow = 0;
        let tests = 0;
        for (const result of results) {
          expect(result.testsRun).toBe(900);
          expect(result.findings).toHaveLength(900);
          const significant = result.findings.filter((f) => f.significant);
          for (const f of significant) expect(f.q).toBeLessThanOrEqual(0.1);
          for (const f of result.findings) expect(f.q).toBeGreaterThanOrEqual(f.p);
          if (significant.length > 0) seedsWithAny += 1;
          falseFindings += significant.length;
          const below = result.findings.filter((f) => f.p < 0.1).length;
          // Per seed, the count of p < 0.1 is about 90 ± 9 (more spread from shared series).
          expect(below).toBeGreaterThan(45);
          expect(below).toBeLessThan(135);
          rawBelow += below;
          tests += result.findings.length;
        }
        expect(seedsWithAny).toBeLessThanOrEqual(2);
        // The average number of false findings per user: small (at most one on average).
        expect(falseFindings / seeds.length).toBeLessThanOrEqual(1);
        // Pooled over 4,500 tests: 10% ± 1.4% (3 standard errors, inflated for dependence).
        expect(rawBelow / tests).toBeGreaterThan(0.07);
        expect(rawBelow / tests).toBeLessThan(0.13);
      });

      it('without all, only the significant findings are listed and the family size is still reported', async () => {
        const { client } = await signUp(ctx().url);
        await plantUser(client, { seed: 606, days: 120, noiseMetrics: 8, planted: false });
        const result = await correlations(client, { q: 0.1 });
        expect(result.testsRun).toBe(((8 * 7) / 2) * 3);
        expect(result.findings.every((f) => f.significant && f.q <= 0.1)).toBe(true);
        expect(result.findings.length).toBeLessThanOrEqual(2);
      });
    });

    describe('the cache', () => {
      it('serves repeated calls from the cache and never a stale answer after a write', async () => {
        const { client } = await signUp(ctx().url);
        const yesterday = addDays(localToday('UTC'), -1);
        const planted = await plantUser(client, { seed: 77, days: 60, noiseMetrics: 1, to: yesterday });
        const analytics = ctx().server.deps.analytics;
        const sleep = planted.metrics.sleep!;
        const mood = planted.metrics.mood!;
        const pairOf = (result: CorrelationsResult) =>
          result.findings.find(
            (f) =>
              f.lag === 0 &&
              new Set([f.a.id, f.b.id]).size === 2 &&
              [f.a.id, f.b.id].includes(sleep) &&
              [f.a.id, f.b.id].includes(mood),
          )!;

        const start = analytics.cacheStats();
        const first = await correlations(client, { all: true });
        const afterFirst = analytics.cacheStats();
        expect(afterFirst.misses).toBe(start.misses + 1);
        expect(afterFirst.hits).toBe(start.hits);
        const second = await correlations(client, { all: true });
        const afterSecond = analytics.cacheStats();
        expect(afterSecond.hits).toBe(afterFirst.hits + 1);
        expect(afterSecond.misses).toBe(afterFirst.misses);
        expect(second).toEqual(first);
        // Defaults filled in or given explicitly are the same question.
        await correlations(client, { all: true, method: 'auto', maxLag: 1, minN: 14, q: 0.05 });
        expect(analytics.cacheStats().hits).toBe(afterSecond.hits + 1);
        // Different parameters are a different answer.
        await correlations(client, { all: true, q: 0.2 });
        expect(analytics.cacheStats().misses).toBe(afterSecond.misses + 1);

        // New data: today's Sleep and Mood. The very next call sees them.
        const n = pairOf(first).n;
        const today = localToday('UTC');
        const created = await client.entries.createMany.mutate({
          entries: [
            { metricId: sleep, value: 8 * 3600, date: today },
            { metricId: mood, value: 4, date: today },
          ],
        });
        const third = await correlations(client, { all: true });
        expect(pairOf(third).n).toBe(n + 1);
        expect([today, addDays(today, 1)]).toContain(third.to);

        // Trends too: cached, then fresh after a write.
        const weightBefore = (await trends(client, { metricId: planted.metrics.weight! }))[0]!;
        const hits = analytics.cacheStats().hits;
        await trends(client, { metricId: planted.metrics.weight! });
        expect(analytics.cacheStats().hits).toBe(hits + 1);
        await client.entries.create.mutate({ metricId: planted.metrics.weight!, value: 90, date: today });
        const weightAfter = (await trends(client, { metricId: planted.metrics.weight! }))[0]!;
        expect(weightAfter.n).toBe(weightBefore.n + 1);

        // A deletion is a write as well.
        await client.entries.delete.mutate({ id: created[1]!.id, baseVersion: created[1]!.version });
        const fourth = await correlations(client, { all: true });
        expect(pairOf(fourth).n).toBe(n);
      });
      it("does not serve yesterday's answer after midnight: the open-ended range moves with the day", async () => {
        const { client, user } = await signUp(ctx().url);
        const analytics = ctx().server.deps.analytics;
        // Two metrics whose missing days are zero: every day up to today counts, so the same data
        // gives one more paired day once the user's date has moved on, with no write at all.
        const today = localToday('UTC');
        const ids: string[] = [];
        for (const name of ['Drinks', 'Cigarettes']) {
          const metric = await client.metrics.create.mutate({
            name,
            type: 'number',
            category: 'habits',
            config: { aggregation: 'sum', missing: 'zero' },
          });
          ids.push(metric.id);
        }
        const random = prng(13);
        await client.entries.createMany.mutate({
          entries: Array.from({ length: 30 }, (_, i) => addDays(today, i - 30)).flatMap((date) =>
            ids.map((metricId) => ({ metricId, value: Math.round(random.uniform() * 4), date })),
          ),
        });
        const params = correlationsInput.parse({ all: true, maxLag: 0 });
        const first = (await analytics.correlations(user.id, params)) as CorrelationsResult;
        expect(first.to).toBe(today);
        expect(first.findings[0]!.n).toBe(31);
        const tomorrow = new Date(Date.now() + 86_400_000);
        vi.useFakeTimers({ toFake: ['Date'] });
        try {
          vi.setSystemTime(tomorrow);
          const next = (await analytics.correlations(user.id, params)) as CorrelationsResult;
          expect(next.to).toBe(addDays(today, 1));
          expect(next.findings[0]!.n).toBe(32);
        } finally {
          vi.useRealTimers();
        }
      });
    });

    describe('isolation', () => {
      it("each user's analytics and progress rest only on their own metrics and entries", async () => {
        const alice = await signUp(ctx().url);
        const bob = await signUp(ctx().url);
        const a = await plantUser(alice.client, { seed: 1, days: 60, noiseMetrics: 2 });
        const b = await plantUser(bob.client, { seed: 2, days: 90, noiseMetrics: 3 });
        const idsOf = (planted: PlantedUser) =>
          new Set([
            planted.metrics.sleep!,
            planted.metrics.mood!,
            planted.metrics.weight!,
            planted.metrics.coffee!,
            ...planted.metrics.noise,
          ]);
        for (const [person, planted, other] of [
          [alice, a, b],
          [bob, b, a],
        ] as const) {
          const own = idsOf(planted);
          const foreign = idsOf(other);
          const result = await correlations(person.client, { all: true });
          expect(result.from).toBe(planted.from);
          expect(result.findings.length).toBeGreaterThan(0);
          for (const f of result.findings) {
            expect(own.has(f.a.id) && own.has(f.b.id)).toBe(true);
            expect(f.n).toBeLessThanOrEqual(planted.days);
          }
          const sleepMood = result.findings.find((f) =>
            sameFinding(f, planted.truths.sleepMood!.a, planted.truths.sleepMood!.b, 1),
          );
          expect(sleepMood?.n).toBe(planted.truths.sleepMood!.pairedDays);
          const trendList = await trends(person.client);
          expect(trendList.length).toBe(own.size);
          for (const trend of trendList) expect(own.has(trend.metric.id)).toBe(true);
          const weight = trendList.find((trend) => trend.metric.name === 'Weight')!;
          expect(weight.metric.id).toBe(planted.metrics.weight);
          expect(weight.n).toBe(planted.truths.weightTrend!.days);
          // Another user's metric id is simply not found among one's own.
          expect(await trends(person.client, { metricId: other.metrics.weight! })).toEqual([]);

          const insights = await recomputeThroughJob(ctx(), person.client, person.user.id);
          for (const insight of insights) {
            const text = JSON.stringify(insight.data);
            for (const id of foreign) expect(text).not.toContain(id);
          }
          const progress = await person.client.analytics.progress.query();
          // Coffee is logged every day: one logged day per generated day.
          expect(progress.daysLogged).toBe(planted.days);
          expect(progress.entries).toBe(planted.entries);
        }
      }, 120_000);
    });

    describe('bad input', () => {
      it('is refused with BAD_REQUEST and a message naming the field, never a 500', async () => {
        const { client, token } = await signUp(ctx().url);
        const cases: [string, unknown, RegExp][] = [
          ['analytics.correlations', { maxLag: 31 }, /^maxLag: .*<=30$/],
          ['analytics.correlations', { maxLag: 4 }, /^maxLag may be at most 3$/],
          ['analytics.correlations', { maxLag: -1 }, /^maxLag: .*>=0$/],
          ['analytics.correlations', { minN: 3 }, /^minN: .*>=7$/],
          ['analytics.correlations', { q: 0 }, /^q: .*>0$/],
          ['analytics.correlations', { q: 1.5 }, /^q: .*<=1$/],
          ['analytics.correlations', { method: 'kendall' }, /^method: .*"spearman"/],
          ['analytics.correlations', { from: '2026-02-30' }, /^from: must be a real calendar date$/],
          [
            'analytics.correlations',
            { from: '2026-03-10', to: '2026-03-01' },
            /^to: from must not be after to$/,
          ],
          ['analytics.correlations', { surprise: true }, /Unrecognized key: "surprise"/],
          ['analytics.trends', { from: '2026-03-10', to: '2026-03-01' }, /^to: from must not be after to$/],
          ['analytics.trends', { metricId: 'weight' }, /^metricId: must be a UUID$/],
          ['analytics.insights', { types: ['horoscope'] }, /^types\.0: .*"recommendation"/],
          ['analytics.insights', { types: [] }, /^types: .*>=1 items$/],
        ];
        for (const [procedure, input, message] of cases) {
          const response = await call(ctx().url, procedure, input, {
            type: 'query',
            headers: { authorization: `Bearer ${token}` },
          });
          expect(response.status, `${procedure} ${JSON.stringify(input)}`).toBe(400);
          expect(response.error?.data.code).toBe('BAD_REQUEST');
          expect(response.error?.message).toMatch(message);
        }
        // Through the typed client as well.
        const error = await errorOf(client.analytics.correlations.query({ maxLag: 31 } as never));
        expect(error.code).toBe('BAD_REQUEST');
        expect(error.message).toMatch(/^maxLag: /);
      });

      it('an unknown metricId in trends is an empty answer, as for entries.list', async () => {
        const { client } = await signUp(ctx().url);
        expect(await trends(client, { metricId: '00000000-0000-4000-8000-000000000000' })).toEqual([]);
      });

      it('analytics needs a session', async () => {
        const anonymous = httpClient(ctx().url);
        for (const attempt of [
          () => anonymous.analytics.correlations.query({}),
          () => anonymous.analytics.trends.query({}),
          () => anonymous.analytics.insights.query({}),
          () => anonymous.analytics.progress.query(),
        ]) {
          const error = await errorOf(attempt());
          expect(error.code).toBe('UNAUTHORIZED');
          expect(error.message).toBe('not signed in');
        }
      });
    });

    describe('progress', () => {
      it('gives exact XP, level and streaks for a hand-made log', async () => {
        const { client } = await signUp(ctx().url);
        const names = ['Mood', 'Sleep', 'Steps', 'Water', 'Read', 'Walk', 'Notes'];
        const ids: string[] = [];
        for (const name of names) {
          const metric =
            name === 'Notes'
              ? await client.metrics.create.mutate({ name, type: 'text', category: 'custom' })
              : await client.metrics.create.mutate({ name, type: 'number', category: 'custom' });
          ids.push(metric.id);
        }
        const today = localToday('UTC');
        // Days before today → distinct metrics logged that day (and how many entries in all).
        const log: { ago: number; metrics: number; entries: number }[] = [];
        // A 13-day run (the streak bonus reaches its cap of 10), one metric a day...
        for (let ago = 40; ago >= 28; ago--) log.push({ ago, metrics: 1, entries: 1 });
        // ...a 2-day run with 3 and 2 metrics (one logged twice)...
        log.push({ ago: 20, metrics: 3, entries: 3 }, { ago: 19, metrics: 2, entries: 3 });
        // ...and the current 4-day run, its last day (today) with all 7 metrics (capped at 5).
        log.push(
          { ago: 3, metrics: 2, entries: 2 },
          { ago: 2, metrics: 1, entries: 2 },
          { ago: 1, metrics: 4, entries: 4 },
          { ago: 0, metrics: 7, entries: 8 },
        );
        const entries = log.flatMap(({ ago, metrics, entries: count }) =>
          Array.from({ length: count }, (_, i) => {
            const metricId = ids[i % metrics]!;
            return {
              metricId,
              value: metricId === ids[6] ? 'a note' : i + 1,
              date: addDays(today, -ago),
            };
          }),
        );
        const created = await client.entries.createMany.mutate({ entries });
        // A deleted entry counts for nothing: one extra entry on a day logged anyway.
        const extra = await client.entries.create.mutate({
          metricId: ids[0]!,
          value: 9,
          date: addDays(today, -40),
        });
        await client.entries.delete.mutate({ id: extra.id, baseVersion: extra.version });

        // The formula, from its constants: per logged day XP_PER_DAY + XP_PER_METRIC · min(metrics, cap)
        // + min(run − 1, streak cap); level L needs 100 · (L − 1) · L / 2 in all.
        let xp = 0;
        let run = 0;
        let longest = 0;
        let previousAgo: number | null = null;
        for (const day of log) {
          run = previousAgo !== null && previousAgo - 1 === day.ago ? run + 1 : 1;
          longest = Math.max(longest, run);
          xp +=
            XP_PER_DAY +
            XP_PER_METRIC * Math.min(day.metrics, XP_METRICS_CAP) +
            Math.min(run - 1, XP_STREAK_CAP);
          previousAgo = day.ago;
        }
        const needed = (level: number) => (100 * (level - 1) * level) / 2;
        let level = 1;
        while (needed(level + 1) <= xp) level += 1;
        // Written out by hand as a check on the loop above: 13 days of 12 XP plus a bonus of 0+1+…+10
        // and 10 + 10 at the cap; then 16 + 15; then 14 + 13 + 20 + 23 (7 metrics count as 5).
        expect(xp).toBe(13 * 12 + (55 + 10 + 10) + (16 + 15) + (14 + 13 + 20 + 23));
        expect(xp).toBe(332);
        expect(level).toBe(3);

        const progress = await client.analytics.progress.query();
        expect(progress).toEqual({
          xp,
          level,
          xpIntoLevel: xp - needed(level),
          xpForNextLevel: needed(level + 1) - needed(level),
          daysLogged: log.length,
          entries: created.length,
          currentStreak: 4,
          longestStreak: longest,
        });
        expect(longest).toBe(13);
      });

      it('a new user starts at level 1 with nothing', async () => {
        const { client } = await signUp(ctx().url);
        expect(await client.analytics.progress.query()).toEqual({
          xp: 0,
          level: 1,
          xpIntoLevel: 0,
          xpForNextLevel: 100,
          daysLogged: 0,
          entries: 0,
          currentStreak: 0,
          longestStreak: 0,
        });
      });
    });
  },
  {
    INSIGHTS_DEBOUNCE_SECONDS: '3600',
    JOBS_POLL_SECONDS: '1',
    // The hourly sweep recomputes (UTC) users at this local hour: keep it away from the test run.
    INSIGHTS_LOCAL_HOUR: String((new Date().getUTCHours() + 12) % 24),
  },
);
