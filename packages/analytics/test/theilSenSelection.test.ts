// Theil–Sen's slope selection against the all-pairs definition, on the shapes that used to need O(n²)
// memory: heavy ties, all-tied data, long zero-filled series, and the rounding-prone ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlopeSelector, slopeOrderStatistics, theilSenOf } from '../src/theilSen';

/**
 * Reference: every pairwise slope, oriented with Δx > 0 as scipy.stats.theilslopes computes them, sorted;
 * + 0 makes a −0 slope +0 (they are the same value, and the estimator reports +0).
 */
function sortedSlopes(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const s: number[] = [];
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      if (x[j]! > x[i]!) s.push((y[j]! - y[i]!) / (x[j]! - x[i]!) + 0);
      else if (x[j]! < x[i]!) s.push((y[i]! - y[j]!) / (x[i]! - x[j]!) + 0);
    }
  }
  return Float64Array.from(s).sort();
}

/** The reference median (mean of the two middle slopes for an even count). */
function referenceMedian(slopes: Float64Array): number {
  const N = slopes.length;
  return N % 2 ? slopes[(N - 1) / 2]! : (slopes[N / 2 - 1]! + slopes[N / 2]!) / 2;
}

// Above 32,768 slopes (n ≥ 257) the slopes are selected, not materialised.
const N_MIN = 260;
const N_MAX = 420;
const days = (n: number) => Array.from({ length: n }, (_, i) => i);
const runs = { numRuns: 25 };

/** Checks the middle two, the extremes and a random rank against the sorted slopes. */
function expectExact(x: number[], y: number[], extra: number): void {
  const slopes = sortedSlopes(x, y);
  const N = slopes.length;
  const ranks = [0, (N >> 1) - 1, N >> 1, N - 1, extra % N];
  expect(slopeOrderStatistics(x, y, N, ranks)).toEqual(ranks.map((k) => slopes[k]));
  expect(theilSenOf(x, y).slope).toBe(referenceMedian(slopes));
}

const length = fc.integer({ min: N_MIN, max: N_MAX });

describe('Theil–Sen slope selection equals the sorted all-pairs slopes', () => {
  it('on random values (inexact differences, so the rounding checks run)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: N_MIN, maxLength: N_MAX }),
        fc.nat(),
        (y, k) => expectExact(days(y.length), y, k),
      ),
      runs,
    );
  });

  it('on heavily tied values, with ties in x too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: -2, max: 2 })), {
          minLength: N_MIN,
          maxLength: N_MAX,
        }),
        fc.nat(),
        (ps, k) =>
          expectExact(
            ps.map((p) => p[0]),
            ps.map((p) => p[1] / 10),
            k,
          ),
      ),
      runs,
    );
  });

  it('on all-tied values', () => {
    fc.assert(
      fc.property(length, fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.nat(), (n, v, k) =>
        expectExact(days(n), new Array<number>(n).fill(v), k),
      ),
      { numRuns: 10 },
    );
  });

  it('on a zero-filled series with two non-zero values', () => {
    fc.assert(
      fc.property(
        length,
        fc.tuple(fc.nat(), fc.nat()),
        fc.tuple(
          fc.double({ min: -500, max: 500, noNaN: true }),
          fc.double({ min: -500, max: 500, noNaN: true }),
        ),
        fc.nat(),
        (n, [i, j], [a, b], k) => {
          const y = new Array<number>(n).fill(0);
          y[i % n] = a;
          y[j % n] = b;
          expectExact(days(n), y, k);
        },
      ),
      runs,
    );
  });

  it('on steep, huge-offset and gapped-x series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: N_MIN,
          maxLength: N_MAX,
        }),
        fc.constantFrom('steep', 'offset', 'gapped'),
        fc.nat(),
        (ps, shape, k) => {
          const x: number[] = [];
          for (const [gap] of ps) x.push((x.at(-1) ?? 0) + (shape === 'gapped' ? gap : 1));
          const y = ps.map(([, r], i) =>
            shape === 'steep'
              ? 1e6 * x[i]! + r
              : shape === 'offset'
                ? 1e12 + 1e-3 * x[i]! + r
                : -0.01 * x[i]! + 5 * r,
          );
          expectExact(x, y, k);
        },
      ),
      runs,
    );
  });

  it('on exactly linear series whose slopes differ only by rounding', () => {
    for (const [name, f] of [
      ['tenths', (i: number) => i / 10],
      ['thirds', (i: number) => i / 3],
      ['offset thirds', (i: number) => 100 + i / 3],
    ] as const) {
      const x = days(300);
      const y = x.map(f);
      const slopes = sortedSlopes(x, y);
      const N = slopes.length;
      const ranks = [0, (N >> 1) - 1, N >> 1, N - 1];
      expect(slopeOrderStatistics(x, y, N, ranks), name).toEqual(ranks.map((k) => slopes[k]));
    }
  });
});

describe('Theil–Sen counts', () => {
  it('allocates for the slopes there are: x tied but for one point among 3,000', () => {
    const x = days(3000).map((i) => (i === 1234 ? 1 : 0));
    const y = days(3000).map((i) => Math.cos(i));
    const slopes = sortedSlopes(x, y);
    expect(slopes.length).toBe(2999);
    expect(theilSenOf(x, y).slope).toBe(referenceMedian(slopes));
  });

  it('takes the middle ranks right beyond 2³¹ slopes (n = 70,000)', () => {
    // 2,449,965,000 slopes: 1, 0 and −1 per day from the two non-zero days, the rest 0.
    const n = 70_000;
    const y = new Float64Array(n);
    y[10] = 4;
    y[n - 10] = -4;
    const r = theilSenOf(days(n), y);
    expect(r.slope).toBe(0);
    expect(r.slopeCI95).toEqual([0, 0]);
  });
});

describe('SlopeSelector', () => {
  it('settles ordinary data without the O(n²) streaming pass', () => {
    const x = days(500);
    const y = x.map((i) => Math.sin(i) * 3 + 0.01 * i);
    const slopes = sortedSlopes(x, y);
    const N = slopes.length;
    const ks = [(N >> 1) - 1, N >> 1];
    expect(new SlopeSelector(x, y, N).select(ks)).toEqual(ks.map((k) => slopes[k]));
  });

  it('its streaming last resort is exact too, with and without ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -3, max: 3 })), {
          minLength: 30,
          maxLength: 120,
        }),
        fc.nat(),
        fc.boolean(),
        (ps, k, tied) => {
          const x = ps.map((p) => p[0]);
          const y = ps.map((p, i) => (tied ? p[1] : p[1] + Math.sin(i) / 7));
          const slopes = sortedSlopes(x, y);
          if (slopes.length === 0) return;
          const rank = k % slopes.length;
          expect(new SlopeSelector(x, y, slopes.length).streamingSelect(rank)).toBe(slopes[rank]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('its streaming last resort narrows by sampling when the slopes are too many to keep', () => {
    // 300 points: 44,850 slopes, above the 16,384 kept at once.
    const x = days(300);
    for (const [name, y] of [
      ['all tied', x.map(() => 3)],
      ['zero-filled', x.map((i) => (i === 7 ? 2.5 : i === 290 ? -1.25 : 0))],
      ['noise', x.map((i) => Math.sin(i * 1.3) + i / 1000)],
    ] as const) {
      const slopes = sortedSlopes(x, y);
      const selector = new SlopeSelector(x, y, slopes.length);
      for (const k of [0, slopes.length >> 1, slopes.length - 1]) {
        expect(selector.streamingSelect(k), `${name} rank ${k}`).toBe(slopes[k]);
      }
    }
  });
});
