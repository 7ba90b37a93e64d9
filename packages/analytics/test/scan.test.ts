import { describe, expect, it } from 'vitest';
import type { DailySeries, ScanFinding } from '../src/index';
import { correlationScan, pearson, spearman } from '../src/index';
import ref from './fixtures/reference.json';
import { computed, expectJsonSafe, expectRel } from './helpers';

const series = ref.scan.series as DailySeries[];

describe.each(['pearson', 'spearman'] as const)(
  'correlationScan (%s) against the numpy/scipy reference',
  (method) => {
    const expected = ref.scan[method];
    const result = correlationScan(series, {
      method,
      lags: ref.scan.lags,
      minN: ref.scan.minN,
      detrend: 'none',
    });
    const byKey = new Map(result.findings.map((f) => [`${f.x}|${f.y}|${f.lag}`, f]));

    it('runs exactly the reference tests (every pair, both orders for lags > 0)', () => {
      expect(result.testsRun).toBe(expected.tests.length);
      expect(result.findings.length).toBe(expected.tests.length);
      expect([...byKey.keys()].sort()).toEqual(expected.tests.map((t) => `${t.x}|${t.y}|${t.lag}`).sort());
    });

    it('matches n, nEff, effect, p, naive p and BH q', () => {
      for (const t of expected.tests) {
        const f = byKey.get(`${t.x}|${t.y}|${t.lag}`)!;
        expect(f.method).toBe(method);
        expect(f.n).toBe(t.n);
        expectRel(f.nEff, t.nEff, 1e-11, 'nEff');
        expectRel(f.effect, t.effect, 1e-12, `effect ${t.x}/${t.y}/${t.lag}`);
        expectRel(f.p, t.p, 1e-9, 'p');
        expectRel(f.pNaive, t.pNaive, 1e-9, 'pNaive');
        expectRel(f.q, t.q, 1e-9, 'q');
        expect(f.pNaive).toBeLessThanOrEqual(f.p);
        expect(f.q).toBeGreaterThanOrEqual(f.p);
      }
    });

    it('flags the constant and the too-short series instead of reporting them', () => {
      expect(result.skipped).toContainEqual({ kind: 'series', id: 'const', reason: 'constant', n: 90 });
      expect(result.skipped).toContainEqual({ kind: 'series', id: 'short', reason: 'too-short', n: 8 });
      expect(
        result.findings.some((f) => ['const', 'short'].includes(f.x) || ['const', 'short'].includes(f.y)),
      ).toBe(false);
    });

    it('finds the planted lag-1 relation (mood follows sleep by a day) first', () => {
      const top = result.findings[0]!;
      expect([top.x, top.y, top.lag]).toEqual(['sleep', 'mood', 1]);
      expect(top.q).toBeLessThan(1e-6);
    });

    it('sorts findings by p and is JSON-safe', () => {
      for (let i = 1; i < result.findings.length; i++) {
        expect(result.findings[i]!.p).toBeGreaterThanOrEqual(result.findings[i - 1]!.p);
      }
      expectJsonSafe(result);
    });
  },
);

describe('correlationScan semantics', () => {
  // Deterministic pseudo-random values (LCG) so the test data are not hand-made to pass.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const noise = (n: number) => Array.from({ length: n }, () => rand() - 0.5);

  it('lag L pairs x on day d with y on day d + L, across different start dates', () => {
    const x = noise(60);
    // y starts 3 days later and equals x two days earlier: y(d) = x(d − 2).
    const y = Array.from({ length: 50 }, (_, i) => 3 * (x[i + 1] ?? 0) + 1);
    const res = correlationScan(
      [
        { id: 'x', start: '2024-01-01', values: x },
        { id: 'y', start: '2024-01-04', values: y },
      ],
      { lags: 3, minN: 10, detrend: 'none' },
    );
    const f = res.findings.find((g) => g.x === 'x' && g.y === 'y' && g.lag === 2)!;
    expect(f.effect).toBeCloseTo(1, 12);
    expect(res.findings[0]).toBe(f);
    expect(res.testsRun).toBe(7); // lag 0 once, lags 1..3 in both directions
  });

  it('equals pearson()/spearman() on the pairwise-complete days when both series have gaps', () => {
    const n = 80;
    const a: (number | null)[] = noise(n);
    const b: (number | null)[] = a.map((v, i) => (v as number) * 0.5 + noise(1)[0]! + (i % 7 === 0 ? 5 : 0));
    for (const i of [3, 4, 10, 33, 60]) a[i] = null;
    for (const i of [4, 11, 12, 61, 79]) b[i] = Number.NaN;
    for (const method of ['pearson', 'spearman'] as const) {
      const res = correlationScan(
        [
          { id: 'a', start: '2023-06-01', values: a },
          { id: 'b', start: '2023-06-01', values: b },
        ],
        { lags: 1, minN: 14, method, detrend: 'none' },
      );
      const lag1 = res.findings.find((f) => f.x === 'b' && f.y === 'a' && f.lag === 1)!;
      const bx = b.slice(0, n - 1);
      const ay = a.slice(1);
      if (method === 'pearson') {
        const direct = computed(pearson(bx, ay));
        expectRel(lag1.effect, direct.r, 1e-13);
        expect(lag1.n).toBe(direct.n);
      } else {
        const direct = computed(spearman(bx, ay));
        expectRel(lag1.effect, direct.rho, 1e-13);
        expect(lag1.n).toBe(direct.n);
      }
    }
  });

  it('recomputes exactly when a pair covers a level shift far from the series mean', () => {
    // x jumps by 1e9 after 40 days: over the overlap with y (its first 40 days) x is nearly
    // constant relative to its global mean, the case where one-pass sums would cancel.
    const base = noise(40);
    const x = [...base.map((v) => v * 1e-3), ...noise(40).map((v) => 1e9 + v)];
    const y = base.map((v, i) => v + 0.1 * Math.sin(i));
    const res = correlationScan(
      [
        { id: 'x', start: '2024-01-01', values: x },
        { id: 'y', start: '2024-01-01', values: y },
      ],
      { minN: 10, detrend: 'none' },
    );
    expectRel(res.findings[0]!.effect, computed(pearson(x.slice(0, 40), y)).r, 1e-12);
  });

  it('uses a per-pair method resolver, and skips pairs with too few paired days', () => {
    const res = correlationScan(
      [
        { id: 'early', start: '2024-01-01', values: noise(30) },
        { id: 'late', start: '2024-01-25', values: noise(30) },
        { id: 'all', start: '2024-01-01', values: noise(60) },
      ],
      {
        minN: 14,
        detrend: 'none',
        method: (x, y) => (x === 'early' || y === 'early' ? 'spearman' : 'pearson'),
      },
    );
    expect(res.skipped).toContainEqual({
      kind: 'pair',
      x: 'early',
      y: 'late',
      lag: 0,
      reason: 'too-few',
      n: 6,
    });
    expect(res.findings.map((f) => `${f.x}-${f.y}:${f.method}`).sort()).toEqual([
      'early-all:spearman',
      'late-all:pearson',
    ]);
  });

  it('autocorrelated series get nEff < n and larger p than the naive test', () => {
    let u = 0;
    let v = 0;
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      u = 0.9 * u + noise(1)[0]!;
      v = 0.9 * v + noise(1)[0]!;
      x.push(u);
      y.push(v);
    }
    const [f] = correlationScan(
      [
        { id: 'x', start: '2024-01-01', values: x },
        { id: 'y', start: '2024-01-01', values: y },
      ],
      { detrend: 'none' },
    ).findings as [ScanFinding];
    expect(f.nEff).toBeLessThan(f.n / 3);
    expect(f.p).toBeGreaterThan(f.pNaive);
  });

  it('rejects invalid options and duplicate ids', () => {
    const s = { id: 'a', start: '2024-01-01', values: [1, 2, 3] };
    expect(() => correlationScan([s], { lags: 8 })).toThrow(RangeError);
    expect(() => correlationScan([s], { minN: 2 })).toThrow(RangeError);
    expect(() => correlationScan([s, s])).toThrow(RangeError);
    expect(correlationScan([])).toMatchObject({ testsRun: 0, findings: [], skipped: [] });
  });
});
