// The scan tests deviations from each series' own trend: calibration on drifting and wandering series,
// a planted day-to-day effect under opposite trends, and the fields a sentence needs (rawR, trends).
import { describe, expect, it } from 'vitest';
import type { DailySeries, ScanOptions } from '../src/index';
import {
  autocorrelations,
  correlationPValue,
  correlationScan,
  effectiveSampleSizeAcf,
  pearson,
  residualValues,
} from '../src/index';
import { computed, expectJsonSafe, expectRel, noise } from './helpers';

const DAYS = 365;

function generator(seed: number) {
  const { rand, gauss, ar } = noise(seed, DAYS);
  /** AR(1) plus a straight line changing by `change` over the year. */
  const drift = (phi: number, change: number) => ar(phi).map((v, d) => v + (change * d) / (DAYS - 1));
  /** A random walk with unit steps plus white noise of sd `noise`. */
  const walk = (noise: number) => {
    let w = 0;
    return Float64Array.from({ length: DAYS }, () => {
      w += gauss();
      return w + noise * gauss();
    });
  };
  return { rand, gauss, ar, drift, walk };
}

const daily = (id: string, values: ArrayLike<number | null>): DailySeries => ({
  id,
  start: '2025-01-06',
  values,
});

/** Lag-0 p-value of x against y (two series, one test). */
function pOf(x: ArrayLike<number>, y: ArrayLike<number>, options: ScanOptions = {}): number {
  return correlationScan([daily('x', x), daily('y', y)], options).findings[0]!.p;
}

// Each calibration test runs PAIRS independent pairs, one lag-0 test each, and counts p < 0.05. Under a
// correct test the count is Binomial(PAIRS, 0.05): mean 75, sd √(1500·0.05·0.95) = 8.44. The bound is the
// mean plus 3 sd, 100 (6.7%); a correct test exceeds it with probability about 0.2% (normal
// approximation), and the data are seeded, so the outcome is fixed. The naive scan on the same pairs
// must exceed it by far, which shows the test can tell.
const PAIRS = 1500;
const BOUND = Math.floor(PAIRS * 0.05 + 3 * Math.sqrt(PAIRS * 0.05 * 0.95));

describe('correlationScan on series with trends of their own', () => {
  it(`independent linear drifts plus AR(1) noise: p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    const g = generator(1);
    let hits = 0;
    let naiveHits = 0;
    for (let i = 0; i < PAIRS; i++) {
      const sign = g.rand() < 0.5 ? -1 : 1;
      const x = g.drift(0.5, 1 + 2 * g.rand());
      const y = g.drift(0.5, sign * (1 + 2 * g.rand()));
      if (pOf(x, y) < 0.05) hits++;
      if (pOf(x, y, { detrend: 'none' }) < 0.05) naiveHits++;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
    expect(naiveHits).toBeGreaterThan(3 * BOUND);
  });

  it(`independent random walks: p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    const g = generator(2);
    let hits = 0;
    let naiveHits = 0;
    for (let i = 0; i < PAIRS; i++) {
      const x = g.walk(i % 2 ? 0 : 1);
      const y = g.walk(i % 2 ? 0 : 1);
      if (pOf(x, y) < 0.05) hits++;
      if (pOf(x, y, { detrend: 'none' }) < 0.05) naiveHits++;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
    expect(naiveHits).toBeGreaterThan(2 * BOUND);
  });

  it(`independent weekly rhythms: p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    const g = generator(3);
    let hits = 0;
    for (let i = 0; i < PAIRS; i++) {
      const px = Array.from({ length: 7 }, () => g.gauss());
      const py = Array.from({ length: 7 }, () => g.gauss());
      const x = g.ar(0.3).map((v, d) => v + px[d % 7]!);
      const y = g.ar(0.3).map((v, d) => v + py[d % 7]!);
      if (pOf(x, y) < 0.05) hits++;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
  });

  // 300 users × 6 unrelated stationary AR(1) metrics (φ from 0 to 0.9), lags 0..1: every discovery is
  // false, so the FDR is the share of users with any discovery at q ≤ 0.05. Binomial(300, 0.05): mean 15,
  // sd 3.77, bound mean + 3 sd = 26.
  it('keeps the false-discovery rate ≤ q on stationary autocorrelated data (at most 26 of 300 users)', () => {
    const g = generator(4);
    const phis = [0, 0.3, 0.6, 0.9];
    let users = 0;
    for (let u = 0; u < 300; u++) {
      const series = Array.from({ length: 6 }, (_, m) => daily(`m${m}`, g.ar(phis[m % 4]!)));
      const res = correlationScan(series, { lags: 1 });
      if (res.findings.some((f) => f.q <= 0.05)) users++;
    }
    expect(users).toBeLessThanOrEqual(26);
  });

  it('keeps ≥ 90% of the power of the ideal correction (true autocorrelation known) on stationary data', () => {
    const g = generator(5);
    let found = 0;
    let ideal = 0;
    const phi = 0.6;
    for (let i = 0; i < 600; i++) {
      const x = g.ar(phi);
      const e = g.ar(phi);
      const y = x.map((v, d) => 0.2 * v + Math.sqrt(1 - 0.04) * e[d]!);
      if (pOf(x, y) < 0.05) found++;
      // Both series have lag-1 autocorrelation φ exactly: n_eff = n(1 − φ²)/(1 + φ²).
      const r = computed(pearson(x, y)).r;
      if (correlationPValue(r, (DAYS * (1 - phi * phi)) / (1 + phi * phi) - 2) < 0.05) ideal++;
    }
    expect(ideal).toBeGreaterThan(100);
    expect(found).toBeGreaterThanOrEqual(0.9 * ideal);
  });

  it('finds a planted day-to-day effect riding on opposite trends, and keeps the raw r beside it', () => {
    const g = generator(6);
    const sx = g.ar(0.4);
    const noise = g.ar(0.4);
    // x rises by 6 sd over the year, y falls by 6 sd; day to day, y moves with x (β = 0.35).
    const x = sx.map((v, d) => 10 + v + (6 * d) / DAYS);
    const y = sx.map((v, d) => 5 + 0.35 * v + Math.sqrt(1 - 0.35 ** 2) * noise[d]! - (6 * d) / DAYS);
    const res = correlationScan([daily('x', x), daily('y', y)], { lags: 1 });
    const f = res.findings.find((h) => h.lag === 0)!;
    expect(f.detrended).toBe(true);
    expect(f.q).toBeLessThan(1e-6);
    expect(f.effect).toBeGreaterThan(0.2);
    // As recorded, the opposite trends dominate: the two look strongly negatively related.
    expect(f.rawR).toBeLessThan(-0.5);
    const trends = new Map(res.series.map((s) => [s.id, s.trend]));
    expect(trends.get('x')!.direction).toBe('up');
    expect(trends.get('y')!.direction).toBe('down');
    expectRel(trends.get('x')!.change, 6, 0.1, 'change');
    expect(res.detrend).toBe('auto');
    expect(res.weekday).toBe(true);
    expectJsonSafe(res);
    // The naive scan sees only the trends.
    const naive = correlationScan([daily('x', x), daily('y', y)], { detrend: 'none' }).findings[0]!;
    expect(naive.effect).toBeLessThan(-0.5);
    expect(naive.detrended).toBe(false);
    expect(naive.rawR).toBe(naive.effect);
    const noRaw = correlationScan([daily('x', x), daily('y', y)], { rawR: false }).findings[0]!;
    expect(noRaw.rawR).toBeNull();
    expect(noRaw.effect).toBe(f.effect);
  });
});

describe('correlationScan detrending mechanics', () => {
  const g = generator(7);
  const withGaps = (v: Float64Array) => Array.from(v, (x, d) => (d % 11 === 3 || d % 17 === 5 ? null : x));
  const a = withGaps(g.drift(0.5, 2));
  const b = withGaps(g.drift(0.5, -1).map((v, d) => v + 0.3 * (a[d] ?? 0)));

  it('effect is the Pearson r of residualValues at each lag; rawR the Pearson r of the values', () => {
    const res = correlationScan([daily('a', a), daily('b', b)], { lags: 2, minN: 14 });
    const grid = (v: (number | null)[]) => Float64Array.from(v, (x) => x ?? Number.NaN);
    const ra = residualValues(grid(a));
    const rb = residualValues(grid(b));
    for (const f of res.findings) {
      const [xr, yr, xv, yv] = f.x === 'a' ? [ra, rb, a, b] : [rb, ra, b, a];
      const L = f.lag;
      const direct = computed(pearson(xr.slice(0, DAYS - L), yr.slice(L)));
      expectRel(f.effect, direct.r, 1e-12, `effect lag ${L}`);
      expect(f.n).toBe(direct.n);
      expectRel(f.rawR!, computed(pearson(xv.slice(0, DAYS - L), yv.slice(L))).r, 1e-12, `rawR lag ${L}`);
    }
  });

  it('nEff is the Bartlett sum over exactly autocorrelationLags lags, with detrend auto as with linear', () => {
    const own = generator(11);
    const x = own.ar(0.7);
    const y = own.ar(0.7);
    for (const detrend of ['auto', 'linear'] as const) {
      for (const K of [2, 5, 28]) {
        const [f] = correlationScan([daily('x', x), daily('y', y)], {
          detrend,
          autocorrelationLags: K,
        }).findings;
        const acf = (v: Float64Array) => autocorrelations(residualValues(v, { detrend: 'linear' }), K);
        expect(f!.differenced).toBe(false);
        expectRel(f!.nEff, effectiveSampleSizeAcf(f!.n, acf(x), acf(y)), 1e-12, `${detrend}, ${K} lags`);
      }
    }
  });

  it('residualValues: each method removes what it claims', () => {
    const line = Float64Array.from({ length: 60 }, (_, d) => 3 + 0.5 * d + (d % 7 === 2 ? 4 : 0));
    line[10] = Number.NaN;
    const straight = Float64Array.from({ length: 60 }, (_, d) => 3 + 0.5 * d);
    straight[10] = Number.NaN;
    const cases = [
      ['theil-sen', straight, false],
      ['linear', straight, false],
      ['linear', line, true],
      ['prewhiten', line, true],
      ['local', line, true],
    ] as const;
    for (const [detrend, input, weekday] of cases) {
      const r = residualValues(input, { detrend, weekday });
      expect(Number.isNaN(r[10]!)).toBe(true);
      if (detrend === 'local') continue;
      for (const [d, v] of r.entries()) {
        if (!Number.isNaN(v)) expect(Math.abs(v), `${detrend} day ${d}`).toBeLessThan(1e-9);
      }
    }
    const diff = residualValues(line, { detrend: 'difference', weekday: false });
    expect(Number.isNaN(diff[0]!) && Number.isNaN(diff[11]!)).toBe(true);
    expect(diff[5]).toBe(0.5);
    expect(residualValues(line, { detrend: 'none', weekday: false })).toEqual(line);
  });

  it('a series that is only its trend and weekly rhythm is skipped as trend-only', () => {
    const line = Array.from({ length: 60 }, (_, d) => 3 + 0.5 * d + (d % 7 === 2 ? 4 : 0));
    const res = correlationScan([daily('line', line), daily('noise', g.ar(0.2, 60))]);
    expect(res.skipped).toContainEqual({ kind: 'series', id: 'line', reason: 'trend-only', n: 60 });
    expect(res.testsRun).toBe(0);
    expect(res.series.map((s) => s.id)).toEqual(['noise']);
  });

  it('stationary noise has a flat trend and the detrended nEff uses the residual autocorrelation', () => {
    const res = correlationScan([daily('x', g.ar(0.8)), daily('y', g.ar(0.8))], {
      detrend: 'linear',
      autocorrelationLags: 1,
    });
    for (const s of res.series) {
      expect(s.trend.direction).toBe('flat');
      expect(s.r1).toBeGreaterThan(0.6);
      expect(Math.abs(s.r1Tested - s.r1)).toBeLessThan(0.1);
    }
    // Default ('auto'): stationary series keep their deviations (nEff from their autocorrelations);
    // a random walk wanders, so its pairs are tested on day-to-day changes.
    const walk = g.walk(0);
    const auto = correlationScan([daily('x', g.ar(0.8)), daily('y', g.ar(0.8)), daily('w', walk)]);
    const wanders = new Map(auto.series.map((s) => [s.id, s.wanders]));
    expect([...wanders]).toEqual([
      ['x', false],
      ['y', false],
      ['w', true],
    ]);
    for (const f of auto.findings) {
      expect(f.differenced).toBe(f.x === 'w' || f.y === 'w');
      if (!f.differenced) expect(f.nEff).toBeLessThan(0.5 * f.n);
      else expect(f.n).toBeLessThan(DAYS);
    }
  });
});
