import { describe, expect, it } from 'vitest';
import { kendall, linearRegression, pearson, spearman, theilSen } from '../src/index';
import ref from './fixtures/reference.json';
import { computed, expectJsonSafe, expectRel, significantDigits } from './helpers';

describe.each(ref.datasets.sets)('reference data set $name (scipy)', (set) => {
  it('pearson: r, p and Fisher interval (scipy.stats.pearsonr)', () => {
    const r = computed(pearson(set.x, set.y));
    expect(r.n).toBe(set.n);
    expectRel(r.r, set.pearson.r, 1e-13, 'r');
    expectRel(r.p, set.pearson.p, 1e-10, 'p');
    expectRel(r.ci95[0], set.pearson.ci95[0]!, 1e-12, 'ci low');
    expectRel(r.ci95[1], set.pearson.ci95[1]!, 1e-12, 'ci high');
  });

  it('spearman with average ranks (scipy.stats.spearmanr)', () => {
    const r = computed(spearman(set.x, set.y));
    expectRel(r.rho, set.spearman.rho, 1e-13, 'rho');
    expectRel(r.p, set.spearman.p, 1e-10, 'p');
  });

  it("kendall tau-b (scipy.stats.kendalltau variant='b', method='auto')", () => {
    const r = computed(kendall(set.x, set.y));
    expectRel(r.tau, set.kendall.tau, 1e-13, 'tau');
    expectRel(r.p, set.kendall.p, 1e-10, 'p');
  });

  it('linear regression (scipy.stats.linregress)', () => {
    const r = computed(linearRegression(set.x, set.y));
    const e = set.regression;
    expectRel(r.slope, e.slope, 1e-12, 'slope');
    expectRel(r.intercept, e.intercept, 1e-11, 'intercept');
    expectRel(r.slopeSE, e.slopeSE, 1e-12, 'slopeSE');
    expectRel(r.interceptSE, e.interceptSE, 1e-12, 'interceptSE');
    expectRel(r.rSquared, e.rSquared, 1e-11, 'R²');
    expectRel(r.residualSD, e.residualSD, 1e-12, 'residual SD');
    expectRel(r.p, e.p, 1e-10, 'p');
  });

  it('Theil–Sen slope, intercept and Sen interval (scipy.stats.theilslopes)', () => {
    const r = computed(theilSen(set.x, set.y));
    expectRel(r.slope, set.theilSen.slope, 1e-14, 'slope');
    expectRel(r.intercept, set.theilSen.intercept, 1e-12, 'intercept');
    expect(r.slopeCI95[0]).toBe(set.theilSen.low);
    expect(r.slopeCI95[1]).toBe(set.theilSen.high);
  });
});

describe('NIST StRD Norris (certified values)', () => {
  const { x, y, certified } = ref.norris;
  const r = computed(linearRegression(x, y));
  it.each([
    ['slope', r.slope, certified.slope],
    ['intercept', r.intercept, certified.intercept],
    ['slope SD', r.slopeSE, certified.slopeSE],
    ['intercept SD', r.interceptSE, certified.interceptSE],
    ['residual SD', r.residualSD, certified.residualSD],
    ['R-squared', r.rSquared, certified.rSquared],
  ])('%s matches to at least 9 significant digits', (_, actual, expected) => {
    expect(significantDigits(actual, expected)).toBeGreaterThanOrEqual(9);
  });
  it('has all 36 observations', () => expect(r.n).toBe(36));
});

describe("Anscombe's quartet (Anscombe 1973): same summary statistics, different data", () => {
  const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
  const quartet: [number[], number[]][] = [
    [x, [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]],
    [x, [9.14, 8.14, 8.74, 8.77, 9.26, 8.1, 6.13, 3.1, 9.13, 7.26, 4.74]],
    [x, [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]],
    [
      [8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8],
      [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.5, 5.56, 7.91, 6.89],
    ],
  ];
  it.each(quartet.map((q, i) => [i + 1, ...q] as const))(
    'set %i: r ≈ 0.816, slope 0.500, intercept 3.00',
    (_, xs, ys) => {
      const c = computed(pearson(xs, ys));
      const l = computed(linearRegression(xs, ys));
      expect(Math.abs(c.r - 0.816)).toBeLessThan(6e-4);
      expect(l.slope.toFixed(3)).toBe('0.500');
      expect(l.intercept.toFixed(2)).toBe('3.00');
    },
  );
});

describe('not computable inputs', () => {
  const cases: [string, (number | null)[], (number | null)[], 'too-few' | 'constant', number][] = [
    ['constant x', [2, 2, 2, 2, 2], [1, 2, 3, 4, 5], 'constant', 5],
    ['constant y', [1, 2, 3, 4, 5], [7, 7, 7, 7, 7], 'constant', 5],
    ['two pairs', [1, 2], [3, 5], 'too-few', 2],
    ['empty', [], [], 'too-few', 0],
    ['all missing', [Number.NaN, null, Number.NaN], [1, 2, 3], 'too-few', 0],
    ['pairwise only two', [1, null, 3, 4], [1, 2, Number.NaN, 5], 'too-few', 2],
  ];
  const fns = { pearson, spearman, kendall, linearRegression, theilSen };
  for (const [label, x, y, reason, n] of cases) {
    for (const [name, fn] of Object.entries(fns)) {
      it(`${name}: ${label} → ${reason}`, () => {
        const r = fn(x, y);
        expect(r).toEqual({ ok: false, reason, n });
        expectJsonSafe(r);
      });
    }
  }

  it('perfect correlation stays JSON-safe (p ≈ 0, finite t, interval at r)', () => {
    const r = computed(pearson([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]));
    expect(r.r).toBeCloseTo(1, 15);
    expect(r.p).toBeLessThan(1e-20);
    expect(r.ci95[0]).toBeGreaterThan(0.999999);
    expectJsonSafe(r);
    const exact = computed(pearson([0, 1, 2], [0, 1, 2]));
    expect(exact.r).toBe(1);
    expect(exact.p).toBe(0);
    expect(exact.ci95).toEqual([1, 1]);
    expectJsonSafe(exact);
    const l = computed(linearRegression([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]));
    expect(l.p).toBeLessThan(1e-20);
    expectJsonSafe(l);
  });

  it('n = 3 gives the uninformative interval [-1, 1]', () => {
    expect(computed(pearson([1, 2, 3], [1, 3, 2])).ci95).toEqual([-1, 1]);
  });

  it('accepts Float64Array and (number | null)[] alike', () => {
    const a = computed(pearson(new Float64Array([1, 2, 3, 4, 6]), new Float64Array([2, 1, 4, 3, 7])));
    const b = computed(pearson([1, 2, null, 3, 4, 6], [2, 1, 5, 4, 3, 7]));
    expect(b.r).toBe(a.r);
    expectJsonSafe(a);
  });

  it('throws on mismatched lengths (a programming error, not data)', () => {
    expect(() => pearson([1, 2, 3], [1, 2])).toThrow(RangeError);
  });
});
