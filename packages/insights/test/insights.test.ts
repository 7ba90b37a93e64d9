import { isMainThread, threadId } from 'node:worker_threads';
import { addDays, prng, seededRandom } from '@lifexp/analytics';
import { memoryLog } from '@lifexp/config/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createLruCache } from '../src/cache';
import {
  computeCorrelations,
  computeInsights,
  computeTrends,
  type MetricMeta,
  type SeriesInput,
  strengthOf,
  TENTATIVE_BELOW,
} from '../src/compute';
import { createAnalyticsPool } from '../src/pool';

const START = '2025-01-01';

function meta(name: string, type: MetricMeta['type'], unit: string | null = null): MetricMeta {
  return { id: `id-${name.toLowerCase()}`, name, type, unit };
}

function input(metric: MetricMeta, values: number[], start = START): SeriesInput {
  return { metric, start, values: Float64Array.from(values) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const defaults = { method: 'auto', maxLag: 1, minN: 14, q: 0.05, all: false } as const;

describe('strength labels', () => {
  it('follow Cohen’s conventions on |effect|: 0.1 weak, 0.3 moderate, 0.5 strong', () => {
    const cases: [number, string][] = [
      [0, 'negligible'],
      [0.099, 'negligible'],
      [-0.099, 'negligible'],
      [0.1, 'weak'],
      [-0.29, 'weak'],
      [0.3, 'moderate'],
      [-0.49, 'moderate'],
      [0.5, 'strong'],
      [-1, 'strong'],
    ];
    for (const [effect, label] of cases) expect(strengthOf(effect), String(effect)).toBe(label);
  });
});

describe('computeTrends', () => {
  const weight = meta('Weight', 'number', 'kg');

  it('reports a rising series with its slope per week, in its unit, and a sentence', () => {
    const [trend] = computeTrends([
      input(
        weight,
        range(100).map((i) => 70 + 0.1 * i),
      ),
    ]);
    expect(trend).toMatchObject({
      metric: { id: weight.id, name: 'Weight' },
      direction: 'up',
      slopePerWeek: 0.7,
      unit: 'kg',
      tau: 1,
      strength: 'strong',
      n: 100,
      tentative: false,
      sentence: 'Your Weight has been rising by about 0.7 kg a week',
    });
    expect(trend!.p).toBeLessThan(1e-10);
  });

  it('reports a falling series over its present days only, and leaves the unit out when there is none', () => {
    const steps = meta('Steps', 'number');
    // Every third day missing: the slope is still per calendar day, so gaps keep their spacing.
    const values = range(90).map((i) => (i % 3 === 2 ? Number.NaN : 9000 - 50 * i));
    const [trend] = computeTrends([input(steps, values)]);
    expect(trend).toMatchObject({
      direction: 'down',
      slopePerWeek: -350,
      unit: null,
      n: 60,
      tentative: false,
      sentence: 'Your Steps has been falling by about 350 a week',
    });
  });

  it('calls a patternless series flat, marks fewer than 60 days tentative, and skips what cannot be computed', () => {
    const mood = meta('Mood', 'rating', 'points');
    const [flat] = computeTrends([
      input(
        mood,
        range(80).map((i) => (i % 2 === 0 ? 2 : 4)),
      ),
    ]);
    expect(flat).toMatchObject({
      direction: 'flat',
      sentence: 'No clear trend in your Mood',
      unit: 'points',
    });
    expect(flat!.strength).toBe('negligible');

    const short = computeTrends([
      input(
        weight,
        range(TENTATIVE_BELOW - 1).map((i) => 70 + 0.1 * i),
      ),
    ]);
    expect(short[0]).toMatchObject({ n: 59, tentative: true, direction: 'up' });
    const enough = computeTrends([
      input(
        weight,
        range(TENTATIVE_BELOW).map((i) => 70 + 0.1 * i),
      ),
    ]);
    expect(enough[0]).toMatchObject({ n: 60, tentative: false });

    // Constant, or under 10 present days: no trend at all (rather than a made-up one).
    expect(
      computeTrends([
        input(
          weight,
          range(50).map(() => 70),
        ),
      ]),
    ).toEqual([]);
    expect(
      computeTrends([
        input(
          weight,
          range(9).map((i) => 70 + i),
        ),
      ]),
    ).toEqual([]);
  });
});

describe('computeCorrelations', () => {
  const sleep = meta('Sleep', 'duration', 'h');
  const mood = meta('Mood', 'rating', 'points');
  const focus = meta('Focus', 'number', 'points');
  const coffee = meta('Coffee', 'binary');

  it('words the direction and the lag, and labels the strength', () => {
    const random = prng(7);
    const x = range(120).map(() => random.normal(7, 1));
    const same = x.map((value) => value + random.normal(0, 0.5));
    const next = x.map((_, i) => (i === 0 ? 5 : -x[i - 1]! + random.normal(0, 0.5)));
    const later = x.map((_, i) => (i < 2 ? 5 : x[i - 2]! + random.normal(0, 0.5)));
    const result = computeCorrelations(
      [input(sleep, x), input(meta('Energy', 'number'), same), input(meta('Stress', 'number'), next)],
      defaults,
    );
    const find = (b: string, lag: number) => result.findings.find((f) => f.b.name === b && f.lag === lag);
    expect(find('Energy', 0)).toMatchObject({
      a: { name: 'Sleep' },
      method: 'pearson',
      strength: 'strong',
      significant: true,
      tentative: false,
      n: 120,
      sentence: 'On days when your Sleep is higher than usual for that period, your Energy is higher too',
      tested: 'deviations',
    });
    expect(find('Stress', 1)).toMatchObject({
      a: { name: 'Sleep' },
      strength: 'strong',
      sentence: 'On days after your Sleep is higher than usual for that period, your Stress is lower',
    });
    expect(find('Stress', 1)!.effect).toBeLessThan(-0.5);
    // Three pairs, lag 0 and lag 1 both ways.
    expect(result.testsRun).toBe(9);

    const two = computeCorrelations([input(sleep, x), input(focus, later)], { ...defaults, maxLag: 2 });
    expect(two.findings.find((f) => f.lag === 2)).toMatchObject({
      a: { name: 'Sleep' },
      b: { name: 'Focus' },
      n: 118,
      sentence: '2 days after your Sleep is higher than usual for that period, your Focus is higher too',
    });
    // A rating on either side makes auto choose Spearman.
    const rated = computeCorrelations(
      [
        input(sleep, x),
        input(
          mood,
          same.map((v) => Math.round(v)),
        ),
      ],
      defaults,
    );
    expect(rated.findings.find((f) => f.lag === 0)?.method).toBe('spearman');
  });

  it('does not report two metrics that merely drifted together, and keeps their raw r, labelled apart', () => {
    const random = prng(21);
    // Two unrelated metrics that both rise over the year: raw r is high, their day-to-day variation unrelated.
    const steps = range(365).map((i) => 6000 + 8 * i + random.normal(0, 400));
    const weight = range(365).map((i) => 80 - 0.02 * i + random.normal(0, 0.3));
    const result = computeCorrelations(
      [input(meta('Steps', 'number'), steps), input(meta('Weight', 'number', 'kg'), weight)],
      { ...defaults, maxLag: 0, all: true },
    );
    const [finding] = result.findings;
    expect(finding).toBeDefined();
    expect(finding!.tested).toBe('deviations');
    expect(Math.abs(finding!.rawR!)).toBeGreaterThan(0.8);
    expect(finding!.significant).toBe(false);
    expect(Math.abs(finding!.effect)).toBeLessThan(0.2);
  });

  it('a yes/no metric gives a point-biserial finding with the means on days with and without', () => {
    const random = prng(11);
    const had = range(150).map((i) => (random.chance(0.5) || i === 0 ? 1 : 0));
    const score = had.map((value) => 5 + 1.5 * value + random.normal(0, 1));
    const result = computeCorrelations([input(coffee, had), input(focus, score)], { ...defaults, all: true });
    const sameDay = result.findings.find((f) => f.a.id === coffee.id && f.lag === 0)!;
    const expectedWith = mean(score.filter((_, i) => had[i] === 1));
    const expectedWithout = mean(score.filter((_, i) => had[i] === 0));
    expect(sameDay.method).toBe('point-biserial');
    expect(sameDay.meanWith).toBeCloseTo(expectedWith, 3);
    expect(sameDay.meanWithout).toBeCloseTo(expectedWithout, 3);
    expect(sameDay.effect).toBeGreaterThan(0.4);
    const difference = Math.round((sameDay.meanWith! - sameDay.meanWithout!) * 100) / 100;
    expect(difference).toBeGreaterThan(1);
    expect(sameDay.sentence).toBe(
      `On days with Coffee, your Focus is higher than usual for that period (${difference} points higher than on days without)`,
    );

    // The day after: Focus of day d + 1 by Coffee on day d (no effect planted, so only the wording).
    const nextDay = result.findings.find((f) => f.a.id === coffee.id && f.lag === 1)!;
    expect(nextDay.method).toBe('point-biserial');
    expect(nextDay.meanWith).toBeCloseTo(mean(score.slice(1).filter((_, i) => had[i] === 1)), 3);
    expect(nextDay.meanWithout).toBeCloseTo(mean(score.slice(1).filter((_, i) => had[i] === 0)), 3);
    expect(nextDay.sentence).toMatch(
      /^The day after Coffee, your Focus is (higher|lower) than usual for that period( \([\d.]+ points (higher|lower) than on days without\))?$/,
    );
    // With the yes/no metric on the other side: point-biserial too, but no means (they'd be of Coffee).
    const reverse = result.findings.find((f) => f.b.id === coffee.id)!;
    expect(reverse.method).toBe('point-biserial');
    expect(reverse.meanWith).toBeUndefined();
  });

  it('is tentative below 60 paired days and lists only findings with q ≤ the asked rate unless all', () => {
    const random = prng(3);
    const makePair = (days: number) => {
      const x = range(days).map(() => random.normal(0, 1));
      return [
        input(sleep, x),
        input(
          focus,
          x.map((value) => value + random.normal(0, 0.3)),
        ),
      ];
    };
    const short = computeCorrelations(makePair(59), { ...defaults, maxLag: 0 });
    expect(short.findings[0]).toMatchObject({ n: 59, tentative: true, significant: true });
    const enough = computeCorrelations(makePair(60), { ...defaults, maxLag: 0 });
    expect(enough.findings[0]).toMatchObject({ n: 60, tentative: false });

    const noise = range(6).map((k) =>
      input(
        meta(`Noise ${k}`, 'number'),
        range(100).map(() => random.normal(0, 1)),
      ),
    );
    const all = computeCorrelations(noise, { ...defaults, all: true });
    expect(all.findings).toHaveLength(all.testsRun);
    for (const f of all.findings) expect(f.significant).toBe(f.q <= 0.05);
    const strict = computeCorrelations(noise, defaults);
    expect(strict.findings).toEqual(all.findings.filter((f) => f.significant));
  });
});

describe('computeInsights', () => {
  const to = addDays(START, 119);

  it('recommends only from significant, non-tentative findings with a chosen first side and a rating outcome', () => {
    const random = prng(5);
    const hours = range(120).map(() => random.normal(7, 1));
    const moodValues = hours.map((h) =>
      Math.min(5, Math.max(1, Math.round(3 + (h - 7) + random.normal(0, 0.5)))),
    );
    const energy = moodValues.map((m) => Math.min(5, Math.max(1, m + (random.chance(0.2) ? 1 : 0))));
    const drafts = computeInsights(
      [
        input(meta('Sleep', 'duration', 'h'), hours),
        input(meta('Mood', 'rating', 'points'), moodValues),
        input(meta('Energy', 'rating', 'points'), energy),
      ],
      { q: 0.05, minN: 14, to },
    );
    const recommendations = drafts.filter((draft) => draft.type === 'recommendation');
    // Sleep → Mood and Sleep → Energy (a duration one can change, a rating outcome), never Mood → Energy.
    expect(recommendations.map((r) => (r.data.basedOn as { b: { name: string } }).b.name).sort()).toEqual([
      'Energy',
      'Mood',
    ]);
    for (const r of recommendations) {
      const basedOn = r.data.basedOn as { a: { name: string }; n: number; q: number };
      expect(basedOn.a.name).toBe('Sleep');
      expect(basedOn.q).toBeLessThanOrEqual(0.05);
      expect(r.data.sentence).toMatch(
        new RegExp(
          `^Try more Sleep: on days when your Sleep is higher than usual for that period, your (Mood|Energy) is higher too \\(based on ${basedOn.n} days, q = [^)]+\\)$`,
        ),
      );
    }
    expect(
      drafts.some(
        (d) => d.type === 'correlation' && (d.data as unknown as { a: { name: string } }).a.name === 'Mood',
      ),
    ).toBe(true);

    // The same effect over 40 days: a (tentative) correlation insight, but nothing to act on yet.
    const early = computeInsights(
      [
        input(meta('Sleep', 'duration', 'h'), hours.slice(0, 40)),
        input(meta('Mood', 'rating'), moodValues.slice(0, 40)),
      ],
      { q: 0.05, minN: 14, to: addDays(START, 39) },
    );
    expect(
      early.some((d) => d.type === 'correlation' && (d.data as unknown as { tentative: boolean }).tentative),
    ).toBe(true);
    expect(early.filter((d) => d.type === 'recommendation')).toEqual([]);
  });

  it('a yes/no habit that lowers a rating becomes "Try days without …", with the difference in points', () => {
    const random = prng(9);
    const had = range(120).map((i) => (random.chance(0.5) || i === 0 ? 1 : 0));
    const moodValues = had.map((h) =>
      Math.min(5, Math.max(1, Math.round(4 - 1.5 * h + random.normal(0, 0.6)))),
    );
    const drafts = computeInsights(
      [input(meta('Late snack', 'binary'), had), input(meta('Mood', 'rating', 'points'), moodValues)],
      { q: 0.05, minN: 14, to },
    );
    const tip = drafts.find((d) => d.type === 'recommendation');
    expect(tip?.data.sentence).toMatch(
      /^Try days without Late snack: on days with Late snack, your Mood is lower than usual for that period \([\d.]+ points lower than on days without\) \(based on 120 days, q = [^)]+\)$/,
    );
  });

  it('streaks are worded in days, with one day singular', () => {
    const walk = meta('Walk', 'binary');
    const weight = meta('Weight', 'number', 'kg');
    const drafts = computeInsights(
      [input(walk, [1, 1, 1, 1, 0, 1]), input(weight, [70, 70.2, 70.1, 70.4, 70.3, 70.5])],
      { q: 0.05, minN: 14, to: addDays(START, 5) },
    );
    const sentences = drafts.filter((d) => d.type === 'streak').map((d) => d.data.sentence);
    expect(sentences).toEqual([
      'Walk: current run 1 day, best 4 days',
      'Logging Weight: 6 days in a row, your best run yet',
    ]);
  });
});

/** A cache bounded by entries only (sizes of 1 byte each). */
const lru = <V>(capacity: number) => createLruCache<V>({ capacity, maxBytes: 1e9, sizeOf: () => 1 });

const poolOptions = { size: 1, taskTimeoutMs: 60_000, workerMemoryMb: 256, queueMax: 64 };

describe('the LRU cache', () => {
  it('keeps at most its capacity, evicting the least recently used', () => {
    const cache = lru<number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.size).toBe(3);
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('b'), cache.get('c'), cache.get('d')]).toEqual([2, 3, 4]);
  });

  it('a read or a rewrite makes an entry the most recent', () => {
    const cache = lru<string>(2);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // now b is the oldest
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    cache.set('c', 'C2'); // rewriting c makes a the oldest
    cache.set('d', 'D');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe('C2');
    expect(cache.get('d')).toBe('D');
    expect(cache.size).toBe(2);
  });

  it('a capacity of one holds the latest entry only', () => {
    const cache = lru<number>(1);
    cache.set('x', 1);
    cache.set('y', 2);
    expect(cache.get('x')).toBeUndefined();
    expect(cache.get('y')).toBe(2);
  });
});

describe('the worker pool', () => {
  const { lines, log } = memoryLog();
  const pool = createAnalyticsPool(poolOptions, log);
  afterAll(() => pool.close());

  it('runs tasks in a worker thread, with the same answers as on the main thread', async () => {
    expect(isMainThread).toBe(true);
    const probe = await pool.run({ kind: 'probe' });
    expect(probe.isMainThread).toBe(false);
    expect(probe.threadId).not.toBe(threadId);
    const inputs = [
      input(
        meta('Weight', 'number', 'kg'),
        range(100).map((i) => 70 + 0.1 * i + (i % 5) * 0.05),
      ),
    ];
    expect(await pool.run({ kind: 'trends', inputs })).toEqual(computeTrends(inputs));
    // One worker: the next task runs on the same thread.
    expect((await pool.run({ kind: 'probe' })).threadId).toBe(probe.threadId);
  }, 60_000);

  it('with transfer, the series move to the worker (not copied) and the answers are the same', async () => {
    const make = () => [
      input(
        meta('Sleep', 'number', 'h'),
        range(120).map((i) => 7 + Math.sin(i / 3)),
      ),
      input(
        meta('Mood', 'rating'),
        range(120).map((i) => 3 + Math.sin(i / 3) + (i % 4) * 0.1),
      ),
    ];
    const expected = computeCorrelations(make(), defaults);
    const moved = make();
    // Two inputs on one buffer: it moves once, and both arrive.
    const shared = new Float64Array(240).fill(1);
    const halves = [
      { metric: meta('Left', 'number'), start: START, values: shared.subarray(0, 120) },
      { metric: meta('Right', 'number'), start: START, values: shared.subarray(120) },
    ];
    expect(
      await pool.run({ kind: 'correlations', inputs: moved, params: defaults }, 'a', { transfer: true }),
    ).toEqual(expected);
    for (const sent of moved) expect(sent.values.byteLength).toBe(0);
    // Views into a larger buffer are copied, the caller keeps them.
    const trends = await pool.run({ kind: 'trends', inputs: halves }, 'a', { transfer: true });
    expect(trends).toEqual(computeTrends(halves));
    expect(shared.byteLength).toBe(240 * 8);
    // Without transfer, nothing is taken from the caller.
    const kept = make();
    await pool.run({ kind: 'correlations', inputs: kept, params: defaults }, 'a');
    expect(kept.map((sent) => sent.values.length)).toEqual([120, 120]);
  }, 60_000);

  it('a task that throws fails alone; the worker keeps serving', async () => {
    const before = await pool.run({ kind: 'probe' });
    const inputs = [input(meta('A', 'number'), range(30)), input(meta('B', 'number'), range(30))];
    await expect(
      pool.run({ kind: 'correlations', inputs, params: { ...defaults, maxLag: 9 } }),
    ).rejects.toThrow(/^analytics task failed: lags must be an integer 0\.\.7/);
    expect((await pool.run({ kind: 'probe' })).threadId).toBe(before.threadId);
  }, 60_000);

  it('survives a crashing worker: the task fails, a new worker takes the next ones', async () => {
    const before = await pool.run({ kind: 'probe' });
    const crashed = pool.run({ kind: 'probe', crash: true });
    const queued = pool.run({ kind: 'probe' });
    await expect(crashed).rejects.toThrow('analytics worker exited with code 70');
    const after = await queued;
    expect(after.isMainThread).toBe(false);
    expect(after.threadId).not.toBe(before.threadId);
    expect(lines.some((line) => line.msg === 'analytics worker failed' && line.task === 'probe')).toBe(true);
  }, 60_000);

  it('a task over its time limit fails and its worker is replaced', async () => {
    const quick = createAnalyticsPool({ ...poolOptions, taskTimeoutMs: 1 }, log);
    try {
      // A fresh worker needs far longer than 1 ms to start (it loads TypeScript through tsx).
      await expect(quick.run({ kind: 'probe' })).rejects.toThrow(/ran over its 0.001 s time budget/);
    } finally {
      await quick.close();
    }
  });

  it('refuses work once closed, and fails what was still waiting', async () => {
    const short = createAnalyticsPool(poolOptions, log);
    const running = short.run({ kind: 'probe' });
    const waiting = short.run({ kind: 'probe' });
    expect(short.queued()).toBe(1);
    const outcomes = Promise.allSettled([running, waiting]);
    await short.close();
    // The waiting one fails; the running one is cut off with its worker and fails too, rather than
    // never settling.
    const [cutOff, neverRan] = await outcomes;
    expect(cutOff).toMatchObject({ status: 'rejected', reason: { message: 'the analytics pool is closed' } });
    expect(neverRan).toMatchObject({
      status: 'rejected',
      reason: { message: 'the analytics pool is closed' },
    });
    await expect(short.run({ kind: 'probe' })).rejects.toThrow('the analytics pool is closed');
  });
});

describe('sentences with yes/no metrics', () => {
  const random = seededRandom(7);
  const days = 120;
  const coffee = range(days).map(() => (random() < 0.5 ? 1 : 0));
  const meditation = coffee.map((had) => (random() < (had ? 0.8 : 0.2) ? 1 : 0));
  const focus = coffee.map((had) => 120 + (had ? 40 : 0) + 10 * (random() - 0.5));

  it('puts the yes/no metric first at lag 0 and speaks of shares of days between two yes/no metrics', () => {
    const result = computeCorrelations(
      [
        input(meta('Focus', 'duration', 'min'), focus),
        input(meta('Coffee', 'binary'), coffee),
        input(meta('Meditation', 'binary'), meditation),
      ],
      { ...defaults, maxLag: 0 },
    );
    const focusCoffee = result.findings.find((f) => [f.a.name, f.b.name].sort().join() === 'Coffee,Focus')!;
    expect(focusCoffee.a.name).toBe('Coffee');
    expect(focusCoffee.sentence).toMatch(
      /^On days with Coffee, your Focus is higher than usual for that period \(\d+(\.\d+)? min higher than on days without\)$/,
    );
    const both = result.findings.find((f) => [f.a.name, f.b.name].sort().join() === 'Coffee,Meditation')!;
    expect(both.sentence).toMatch(
      /^On days with (Coffee|Meditation), you log (Coffee|Meditation) on \d+% of days \(\d+% otherwise\)$/,
    );
  });

  it('does not turn noise into trend or weekday insights across many metrics (BH per family)', () => {
    const noise = range(30).map((k) => {
      const r = seededRandom(100 + k);
      return input(
        meta(`Noise ${k}`, 'number'),
        range(200).map(() => r()),
      );
    });
    const drafts = computeInsights(noise, { q: 0.05, minN: 14, to: addDays(START, 199) });
    expect(
      drafts.filter((draft) => draft.type === 'trend' || draft.type === 'pattern').length,
    ).toBeLessThanOrEqual(1);
  });
});

describe('the answer cache in bytes', () => {
  const sized = (maxBytes: number, maxEntryBytes?: number) =>
    createLruCache<string>({
      capacity: 1000,
      maxBytes,
      ...(maxEntryBytes === undefined ? {} : { maxEntryBytes }),
      sizeOf: (value) => value.length,
    });

  it('holds at most its byte bound, evicting the least recently used', () => {
    const cache = sized(10);
    expect(cache.set('a', 'aaaa')).toBe(true);
    expect(cache.set('b', 'bbbb')).toBe(true);
    expect(cache.bytes).toBe(8);
    cache.get('a'); // b is now the oldest
    expect(cache.set('c', 'cc')).toBe(true); // exactly at the bound: nothing goes
    expect(cache.bytes).toBe(10);
    expect(cache.set('d', 'd')).toBe(true); // one byte over: b goes
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual(['aaaa', 'cc', 'd']);
    expect(cache.bytes).toBe(7);
    for (let i = 0; i < 100; i++) {
      cache.set(`k${i}`, 'x'.repeat(i % 7));
      expect(cache.bytes).toBeLessThanOrEqual(10);
    }
  });

  it('never holds an answer larger than the limit, and a rewrite frees the old size', () => {
    const cache = sized(100, 5);
    expect(cache.set('at', '12345')).toBe(true);
    expect(cache.set('over', '123456')).toBe(false);
    expect(cache.get('over')).toBeUndefined();
    expect(cache.set('at', '123456')).toBe(false); // too large now: the old value is gone too
    expect(cache.get('at')).toBeUndefined();
    expect(cache.bytes).toBe(0);
    expect(sized(4).set('whole', 'abcde')).toBe(false); // larger than the whole bound
  });

  it("drops one user's entries by prefix, and nothing else", () => {
    const cache = sized(100);
    cache.set('u1:1:a', 'x');
    cache.set('u1:2:b', 'yy');
    cache.set('u10:1:a', 'zzz');
    expect(cache.deletePrefix('u1:')).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(3);
    expect(cache.get('u10:1:a')).toBe('zzz');
  });
});

describe("the caches' share per account", () => {
  const owned = (maxOwnerBytes: number) =>
    createLruCache<string>({
      capacity: 1000,
      maxBytes: 100,
      sizeOf: (value) => value.length,
      ownerOf: (key) => key.slice(0, key.indexOf(':')),
      maxOwnerBytes,
    });

  it("an account beyond its share loses its own oldest entries, never another account's", () => {
    const cache = owned(10);
    cache.set('quiet:1', 'qqqqqq');
    for (let i = 0; i < 50; i++) {
      cache.set(`loud:${i}`, 'xxxx');
      expect(cache.bytesOf('loud')).toBeLessThanOrEqual(10);
    }
    expect(cache.get('quiet:1')).toBe('qqqqqq');
    expect(cache.bytesOf('quiet')).toBe(6);
    // The loud account keeps its two newest answers.
    expect([cache.get('loud:48'), cache.get('loud:49'), cache.get('loud:47')]).toEqual([
      'xxxx',
      'xxxx',
      undefined,
    ]);
    expect(cache.bytes).toBe(14);
  });

  it('an answer read recently is kept over an older one of the same account', () => {
    const cache = owned(8);
    cache.set('a:1', 'aaaa');
    cache.set('a:2', 'bbbb');
    cache.get('a:1');
    cache.set('a:3', 'cccc');
    expect([cache.get('a:1'), cache.get('a:2'), cache.get('a:3')]).toEqual(['aaaa', undefined, 'cccc']);
  });

  it('never holds an answer larger than the share, and frees the share when entries go', () => {
    const cache = owned(5);
    expect(cache.set('a:big', '123456')).toBe(false);
    expect(cache.set('a:1', '12345')).toBe(true);
    expect(cache.deletePrefix('a:')).toBe(1);
    expect(cache.bytesOf('a')).toBe(0);
    expect(cache.set('a:2', '12345')).toBe(true);
  });
});

describe('fair and contained scheduling', () => {
  const { log } = memoryLog();

  it("a slow account's queued work waits its turn: another account is served after at most one of its tasks", async () => {
    const pool = createAnalyticsPool(poolOptions, log);
    try {
      await pool.run({ kind: 'probe' }); // the worker is up
      const order: string[] = [];
      const track = (tag: string, account: string, spinMs: number) =>
        pool.run({ kind: 'probe', spinMs, tag }, account).then((result) => order.push(result.tag!));
      const slow = [track('slow 1', 'slow', 300), track('slow 2', 'slow', 300), track('slow 3', 'slow', 300)];
      const other = track('other', 'other', 0);
      // Another task of the slow account, after the other's: it still comes after the other's.
      const slowLater = track('slow 4', 'slow', 0);
      await Promise.all([...slow, other, slowLater]);
      expect(order).toEqual(['slow 1', 'other', 'slow 2', 'slow 3', 'slow 4']);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('runs one task per account at a time, even with free workers', async () => {
    const pool = createAnalyticsPool({ ...poolOptions, size: 2 }, log);
    try {
      const first = pool.run({ kind: 'probe', spinMs: 3000, tag: 'a1' }, 'a');
      const second = pool.run({ kind: 'probe', tag: 'a2' }, 'a');
      const other = pool.run({ kind: 'probe', tag: 'b1' }, 'b');
      // a2 waits for a1 although the second worker is free: b1 takes that worker.
      await other;
      expect(pool.queued()).toBe(1);
      await Promise.all([first, second]);
      expect(pool.queued()).toBe(0);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a full queue refuses with TOO_MANY_REQUESTS and a retry delay', async () => {
    const pool = createAnalyticsPool({ ...poolOptions, queueMax: 2 }, log);
    try {
      const running = pool.run({ kind: 'probe', spinMs: 100 }, 'a');
      // The first is taken by the worker at once (not waiting); two more may wait, the third may not.
      const waiting = [pool.run({ kind: 'probe' }, 'b'), pool.run({ kind: 'probe' }, 'c')];
      expect(pool.queued()).toBe(2);
      await expect(pool.run({ kind: 'probe' }, 'd')).rejects.toMatchObject({
        code: 'TOO_MANY_REQUESTS',
        details: { retryAfterSeconds: 5 },
      });
      await Promise.all([running, ...waiting]);
      await expect(pool.run({ kind: 'probe' }, 'd')).resolves.toMatchObject({ isMainThread: false });
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a task over its time budget is cut off (its worker replaced) and the next account is served', async () => {
    const pool = createAnalyticsPool({ ...poolOptions, taskTimeoutMs: 5_000 }, log);
    try {
      const before = await pool.run({ kind: 'probe' });
      const stuck = pool.run({ kind: 'probe', spinMs: 600_000 }, 'slow');
      const next = pool.run({ kind: 'probe', tag: 'next' }, 'other');
      await expect(stuck).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /5 s time budget/ });
      const after = await next;
      expect(after.tag).toBe('next');
      expect(after.threadId).not.toBe(before.threadId);
      expect(pool.started()).toBe(2);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('a blow-up over the heap limit ends that worker only, with a clear 4xx', async () => {
    const pool = createAnalyticsPool({ ...poolOptions, workerMemoryMb: 64 }, log);
    try {
      await pool.run({ kind: 'probe' });
      await expect(pool.run({ kind: 'probe', allocateMb: 1024 }, 'greedy')).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: /more than its 64 MB of memory/,
      });
      // A small one at the same account afterwards works, on a new worker.
      await expect(pool.run({ kind: 'probe', allocateMb: 8 }, 'greedy')).resolves.toMatchObject({
        isMainThread: false,
      });
      expect(pool.started()).toBe(2);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('an answer over the byte limit is refused with BAD_REQUEST, one at the limit passes', async () => {
    const pool = createAnalyticsPool(poolOptions, log);
    try {
      const inputs = [
        input(
          meta('Weight', 'number', 'kg'),
          range(100).map((i) => 70 + 0.1 * i + (i % 5)),
        ),
      ];
      const bytes = Buffer.byteLength(JSON.stringify(computeTrends(inputs)));
      await expect(pool.run({ kind: 'trends', inputs, maxAnswerBytes: bytes })).resolves.toHaveLength(1);
      await expect(pool.run({ kind: 'trends', inputs, maxAnswerBytes: bytes - 1 })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: new RegExp(`would be ${bytes} bytes, over the ${bytes - 1}-byte limit`),
      });
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('paged correlations', () => {
  const random = seededRandom(11);
  const inputs = range(6).map((k) =>
    input(
      meta(`M${k}`, 'number'),
      range(120).map((i) => Math.sin(i / (k + 2)) + random()),
    ),
  );
  const params = { ...defaults, all: true, maxLag: 2 };

  it('gives the strongest first, and the pages join into the whole list', () => {
    const whole = computeCorrelations(inputs, params);
    expect(whole.total).toBe(whole.testsRun);
    expect(whole.findings).toHaveLength(whole.total);
    for (let i = 1; i < whole.findings.length; i++) {
      expect(whole.findings[i]!.q).toBeGreaterThanOrEqual(whole.findings[i - 1]!.q);
    }
    const pages = [];
    let cursor: number | null = 0;
    while (cursor !== null) {
      const page = computeCorrelations(inputs, { ...params, limit: 7, cursor });
      expect(page.findings.length).toBeLessThanOrEqual(7);
      expect(page.total).toBe(whole.total);
      pages.push(...page.findings);
      cursor = page.nextCursor;
    }
    expect(pages).toEqual(whole.findings);
    const beyond = computeCorrelations(inputs, { ...params, limit: 7, cursor: whole.total + 5 });
    expect(beyond).toMatchObject({ findings: [], nextCursor: null, total: whole.total });
  });
});
