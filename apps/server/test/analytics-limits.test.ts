import { addDays, localToday } from '@lifexp/analytics';
import type { CorrelationsResult } from '@lifexp/contracts';
import { describe, expect, it } from 'vitest';
import { call, describeServer, errorOf, signUp } from './support';

// Every analytics limit at and beyond it, over HTTP, on both databases. The limits are set low here
// so that an ordinary account meets them; hostile.test.ts runs the defaults against pathological data.
const env = {
  METRICS_MAX_ACTIVE: '3',
  ANALYTICS_MAX_DAYS: '30',
  ANALYTICS_MAX_LAG: '2',
  ANALYTICS_PAGE_MAX: '50',
  ANALYTICS_QUEUE_PER_ACCOUNT: '1',
};

type Person = Awaited<ReturnType<typeof signUp>> & { url: string };

/** Three number metrics with a value every day for `days` days up to today. */
async function threeMetrics(person: Person, days: number): Promise<string[]> {
  const today = localToday('UTC');
  const ids: string[] = [];
  for (const name of ['A', 'B', 'C']) {
    ids.push((await person.client.metrics.create.mutate({ name, type: 'number', category: 'custom' })).id);
  }
  await person.client.entries.createMany.mutate({
    entries: Array.from({ length: days }, (_, i) => addDays(today, -i)).flatMap((date, i) =>
      ids.map((metricId, k) => ({ metricId, value: Math.sin(i * (k + 1)) * 10 + i, date })),
    ),
  });
  return ids;
}

const query = (person: Person, procedure: string, input: unknown) =>
  call(person.url, procedure, input, { type: 'query', headers: { authorization: `Bearer ${person.token}` } });

describeServer(
  'analytics limits',
  (ctx) => {
    const person = async () => ({ ...(await signUp(ctx().url)), url: ctx().url });

    describe('active metrics (METRICS_MAX_ACTIVE)', () => {
      it('creates up to the limit, refuses one more, and counts a restored metric', async () => {
        const p = await person();
        const made = [];
        for (const name of ['One', 'Two', 'Three']) {
          made.push(await p.client.metrics.create.mutate({ name, type: 'rating', category: 'mood' }));
        }
        const refused = await errorOf(
          p.client.metrics.create.mutate({ name: 'Four', type: 'text', category: 'custom' }),
        );
        expect(refused).toMatchObject({
          code: 'BAD_REQUEST',
          message: 'an account may have at most 3 active metrics; archive or delete one first',
          details: { limit: 3 },
        });
        // A retried create of an existing metric is not a new one.
        const again = await p.client.metrics.create.mutate({
          id: made[0]!.id,
          name: 'One',
          type: 'rating',
          category: 'mood',
        });
        expect(again.id).toBe(made[0]!.id);
        // Archiving frees a place; restoring while full is refused.
        const archived = await p.client.metrics.update.mutate({
          id: made[2]!.id,
          baseVersion: made[2]!.version,
          isActive: false,
        });
        await p.client.metrics.create.mutate({ name: 'Four', type: 'number', category: 'custom' });
        const restore = await errorOf(
          p.client.metrics.update.mutate({ id: archived.id, baseVersion: archived.version, isActive: true }),
        );
        expect(restore.code).toBe('BAD_REQUEST');
        expect(restore.message).toMatch(/at most 3 active metrics/);
      });
    });

    describe('the analysed window (ANALYTICS_MAX_DAYS, to ≤ tomorrow)', () => {
      it('takes a range of the limit and "to" tomorrow; refuses one day more and the day after', async () => {
        const p = await person();
        await threeMetrics(p, 60);
        const today = localToday('UTC');
        for (const procedure of ['analytics.correlations', 'analytics.trends']) {
          const atLimit = await query(p, procedure, { from: addDays(today, -29), to: today });
          expect(atLimit.status, procedure).toBe(200);
          const tomorrow = await query(p, procedure, { to: addDays(today, 1), from: addDays(today, -28) });
          expect(tomorrow.status, procedure).toBe(200);
          const longer = await query(p, procedure, { from: addDays(today, -30), to: today });
          expect(longer.status, procedure).toBe(400);
          expect(longer.error?.data.code).toBe('BAD_REQUEST');
          expect(longer.error?.message).toBe(
            'the range covers 31 days; analytics looks at most 30 days at once',
          );
          const later = await query(p, procedure, { to: addDays(today, 2) });
          expect(later.status, procedure).toBe(400);
          expect(later.error?.message).toBe(`"to" may be at most tomorrow (${addDays(today, 1)})`);
        }
      });

      it('an open-ended range is cut to the newest days of the limit', async () => {
        const p = await person();
        await threeMetrics(p, 60);
        const today = localToday('UTC');
        const answer = (await p.client.analytics.correlations.query({
          all: true,
          maxLag: 0,
        })) as CorrelationsResult;
        expect(answer.from).toBe(addDays(today, -29));
        for (const finding of answer.findings) expect(finding.n).toBe(30);
        const trends = (await p.client.analytics.trends.query({})) as { n: number }[];
        expect(trends.map((trend) => trend.n)).toEqual([30, 30, 30]);
      });
    });

    describe('maxLag (ANALYTICS_MAX_LAG) and the page size (ANALYTICS_PAGE_MAX)', () => {
      it('take their limits and refuse beyond them; the pages join into every finding', async () => {
        const p = await person();
        await threeMetrics(p, 30);
        const atLag = (await p.client.analytics.correlations.query({
          all: true,
          maxLag: 2,
        })) as CorrelationsResult;
        expect(atLag.testsRun).toBe(3 + 6 * 2);
        const overLag = await query(p, 'analytics.correlations', { maxLag: 3 });
        expect(overLag.status).toBe(400);
        expect(overLag.error?.message).toBe('maxLag may be at most 2');
        const overPage = await query(p, 'analytics.correlations', { limit: 51 });
        expect(overPage.status).toBe(400);
        expect(overPage.error?.message).toBe('limit may be at most 50 findings per page');
        const whole = (await p.client.analytics.correlations.query({
          all: true,
          maxLag: 2,
          limit: 50,
        })) as CorrelationsResult;
        expect(whole).toMatchObject({ total: 15, nextCursor: null });
        expect(whole.findings).toHaveLength(15);
        const joined = [];
        let cursor: number | null = 0;
        while (cursor !== null) {
          const page = (await p.client.analytics.correlations.query({
            all: true,
            maxLag: 2,
            limit: 4,
            cursor,
          })) as CorrelationsResult;
          expect(page.findings.length).toBeLessThanOrEqual(4);
          joined.push(...page.findings);
          cursor = page.nextCursor;
        }
        expect(joined).toEqual(whole.findings);
      });
    });

    describe('requests per account (ANALYTICS_QUEUE_PER_ACCOUNT)', () => {
      it('refuses distinct requests beyond the limit with 429 and Retry-After, and joins repeated ones', async () => {
        const p = await person();
        await threeMetrics(p, 30);
        const analytics = ctx().server.deps.analytics;
        // The same question five times at once: one computation, five answers.
        const before = analytics.cacheStats().misses;
        const same = await Promise.all(
          Array.from({ length: 5 }, () => query(p, 'analytics.correlations', { all: true, minN: 20 })),
        );
        expect(same.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
        expect(analytics.cacheStats().misses).toBe(before + 1);
        // Five different questions at once, with one allowed in progress: the rest wait their turn.
        const distinct = await Promise.all(
          [7, 8, 9, 10, 11].map((minN) => query(p, 'analytics.correlations', { all: true, minN })),
        );
        const refused = distinct.filter((response) => response.status === 429);
        expect(refused.length).toBeGreaterThan(0);
        expect(distinct.some((response) => response.status === 200)).toBe(true);
        for (const response of refused) {
          expect(response.error?.data.code).toBe('TOO_MANY_REQUESTS');
          expect(response.headers.get('retry-after')).toBe('5');
        }
        // Another account is not affected.
        const other = await person();
        expect((await query(other, 'analytics.trends', {})).status).toBe(200);
      });
    });

    describe('a deleted account', () => {
      it('its cached answers are dropped', async () => {
        const p = await person();
        await threeMetrics(p, 30);
        const analytics = ctx().server.deps.analytics;
        await p.client.analytics.correlations.query({ all: true });
        await p.client.analytics.trends.query({});
        const held = analytics.cacheStats();
        const deleted = await call(
          ctx().url,
          'users.deleteAccount',
          { password: 'correct horse battery' },
          { headers: { authorization: `Bearer ${p.token}` } },
        );
        expect(deleted.status).toBe(200);
        const after = analytics.cacheStats();
        expect(after.size).toBe(held.size - 2);
        expect(after.bytes).toBeLessThan(held.bytes);
      });
    });
  },
  env,
);
