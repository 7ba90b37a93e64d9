// The fast algorithms against their obvious O(n²) definitions, on random data with many ties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { correlationScan, kendall, mannKendall, spearman, theilSen } from '../src/index';
import { kendallS } from '../src/kendall';
import { countInversions } from '../src/ranks';
import { slopeOrderStatistics } from '../src/theilSen';
import { computed } from './helpers';

const tiedValues = fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 3, maxLength: 80 });

function bruteS(x: number[], y: number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) s += Math.sign(x[j]! - x[i]!) * Math.sign(y[j]! - y[i]!);
  }
  return s;
}

/** Every pairwise slope, sorted: the definition Theil–Sen's order statistics must reproduce. */
function sortedSlopes(x: number[], y: number[]): Float64Array {
  const s: number[] = [];
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      // Oriented with Δx > 0, as scipy.stats.theilslopes computes them.
      if (x[j]! > x[i]!) s.push((y[j]! - y[i]!) / (x[j]! - x[i]!));
      else if (x[j]! < x[i]!) s.push((y[i]! - y[j]!) / (x[i]! - x[j]!));
    }
  }
  return Float64Array.from(s).sort();
}

describe('O(n log n) Kendall S and Mann–Kendall S equal the double sum', () => {
  it('with ties in x, in y and in both', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), {
          minLength: 2,
          maxLength: 60,
        }),
        (ps) => {
          const x = ps.map((p) => p[0]);
          const y = ps.map((p) => p[1]);
          expect(kendallS(x, y)).toBe(bruteS(x, y));
        },
      ),
    );
  });

  it('inversions count strict pairs only', () => {
    fc.assert(
      fc.property(tiedValues, (v) => {
        let brute = 0;
        for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) if (v[i]! > v[j]!) brute++;
        expect(countInversions(v)).toBe(brute);
      }),
    );
  });

  it('mannKendall S is Kendall S against time', () => {
    fc.assert(
      fc.property(tiedValues, (y) => {
        const r = mannKendall(y);
        if (r.ok)
          expect(r.s).toBe(
            bruteS(
              y.map((_, i) => i),
              y,
            ),
          );
      }),
    );
  });
});

describe('Theil–Sen order statistics', () => {
  it('the selection path for large n returns exactly the sorted-slope median, even with heavy ties', () => {
    // n = 400 gives 79,800 slopes: above the threshold for materialising them all.
    let seed = 7;
    const rand = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (const [ties, trend] of [
      [true, 0.01],
      [false, -0.003],
      [true, 0],
    ] as const) {
      const x = Array.from({ length: 400 }, (_, i) => i + (ties && i % 50 === 0 ? 1 : 0));
      const y = x.map((t) => {
        const v = trend * t + rand() * 3;
        return ties ? Math.round(v) : v;
      });
      const slopes = sortedSlopes(x, y);
      const N = slopes.length;
      const median = N % 2 ? slopes[(N - 1) / 2]! : (slopes[N / 2 - 1]! + slopes[N / 2]!) / 2;
      const r = computed(theilSen(x, y));
      expect(r.slope).toBe(median);
      expect(slopes.includes(r.slopeCI95[0])).toBe(true);
      expect(slopes.includes(r.slopeCI95[1])).toBe(true);
      expect(r.slopeCI95[0]).toBeLessThanOrEqual(r.slope);
      expect(r.slopeCI95[1]).toBeGreaterThanOrEqual(r.slope);
    }
  });

  it('slope selection returns exactly the sorted-slope order statistics', () => {
    // Daily-series shapes: plain noise, heavy ties (integer values: many slopes exactly 0 and the
    // median often 0 itself), a steep trend, a large offset with tiny variation, and gaps in x.
    let seed = 11;
    const rand = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const n = 700;
    const days = Array.from({ length: n }, (_, i) => i);
    const gappy = days.map((i) => i * 2 + (i % 7 === 0 ? 1 : 0));
    const cases: [string, number[], number[]][] = [
      ['noise', days, days.map(() => rand())],
      ['integer ties', days, days.map(() => Math.round(rand() * 4))],
      ['steep', days, days.map((t) => 250 * t + rand())],
      ['offset', days, days.map((t) => 1e9 + 1e-4 * t + 1e-3 * rand())],
      ['gaps', gappy, gappy.map((t) => -0.01 * t + rand() * 5)],
    ];
    for (const [name, x, y] of cases) {
      const slopes = sortedSlopes(x, y);
      const N = slopes.length;
      const ranks = [Math.floor(N * 0.47), (N >> 1) - 1, N >> 1, Math.floor(N * 0.53)];
      expect(slopeOrderStatistics(x, y, N, ranks), name).toEqual(ranks.map((k) => slopes[k]));
      const r = computed(theilSen(x, y));
      expect(r.slope, name).toBe((slopes[(N >> 1) - 1]! + slopes[N >> 1]!) / 2);
      expect(slopes.includes(r.slopeCI95[0]), name).toBe(true);
      expect(slopes.includes(r.slopeCI95[1]), name).toBe(true);
    }
  });

  it('small samples match the sorted slopes too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: -9, max: 9 })), {
          minLength: 3,
          maxLength: 40,
        }),
        (ps) => {
          const x = ps.map((p) => p[0]);
          const y = ps.map((p) => p[1]);
          const r = theilSen(x, y);
          if (!r.ok) return;
          const slopes = sortedSlopes(x, y);
          const N = slopes.length;
          expect(r.slope).toBe(N % 2 ? slopes[(N - 1) / 2]! : (slopes[N / 2 - 1]! + slopes[N / 2]!) / 2);
        },
      ),
    );
  });
});

describe('scan Spearman on tied, gappy data equals spearman() on the paired days', () => {
  it('for every pair and lag', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(null)), {
            minLength: 20,
            maxLength: 40,
          }),
          {
            minLength: 2,
            maxLength: 4,
          },
        ),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }),
        (columns, offsets) => {
          const series = columns.map((values, i) => ({
            id: `s${i}`,
            start: `2024-01-0${1 + offsets[i]!}`,
            values,
          }));
          const res = correlationScan(series, { method: 'spearman', lags: 2, minN: 5, detrend: 'none' });
          for (const f of res.findings) {
            const a = series.find((s) => s.id === f.x)!;
            const b = series.find((s) => s.id === f.y)!;
            // Lay both on a common grid, then shift y by the lag.
            const offA = Number(a.start.slice(-1));
            const offB = Number(b.start.slice(-1));
            const len = Math.max(offA + a.values.length, offB + b.values.length) + 2;
            const gridA = Array.from({ length: len }, (_, d) => a.values[d - offA] ?? null);
            const gridB = Array.from({ length: len }, (_, d) => b.values[d - offB + f.lag] ?? null);
            const direct = computed(spearman(gridA, gridB));
            expect(f.n).toBe(direct.n);
            expect(f.effect).toBeCloseTo(direct.rho, 12);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('kendall exact p-values for small samples without ties', () => {
  it('sum to 1 over the null distribution symmetry (p of S and −S agree)', () => {
    const x = [1, 2, 3, 4, 5, 6, 7];
    const up = computed(kendall(x, [1, 3, 2, 4, 5, 7, 6]));
    const down = computed(kendall(x, [7, 5, 6, 4, 3, 1, 2]));
    expect(up.pMethod).toBe('exact');
    expect(up.p).toBeCloseTo(down.p, 15);
    expect(computed(kendall(x, x)).p).toBeCloseTo(2 / 5040, 15);
  });
});
