// Which series 'auto' tests on day-to-day changes (KPSS wander check), which are pinned at an end of
// their scale, and the variance-concentration correction of nEff: calibration on mild random walks and
// on ratings that wander to an end of the scale and stay there, plus the primitives.
import { describe, expect, it } from 'vitest';
import type { DailySeries } from '../src/index';
import {
  autocorrelations,
  correlationScan,
  effectiveSampleSizeAcf,
  kpssStatistic,
  localMeanSquares,
  longestRunAtBound,
  residualValues,
  varianceConcentration,
} from '../src/index';
import { expectRel, noise } from './helpers';

const DAYS = 365;

function generator(seed: number) {
  const { rand, gauss, ar } = noise(seed, DAYS);
  /** A random walk with steps of sd `step` on top of a unit-variance AR(1) with φ = 0.3. */
  const walk = (step: number) => {
    let w = 0;
    return ar(0.3).map((v) => {
      w += step * gauss();
      return v + w;
    });
  };
  /** A rating 1..5 of a latent value, as the app's sliders: round(3 + 1.1 z), clamped. */
  const rating = (z: Float64Array) => Array.from(z, (v) => Math.min(5, Math.max(1, Math.round(3 + 1.1 * v))));
  return { rand, gauss, ar, walk, rating };
}

const daily = (id: string, values: ArrayLike<number | null>): DailySeries => ({
  id,
  start: '2025-01-06',
  values,
});

// As in detrend.test.ts: 1500 independent pairs, one lag-0 test each; a correct test gives
// Binomial(1500, 0.05) hits (mean 75, sd 8.44), bound mean + 3 sd = 100.
const PAIRS = 1500;
const BOUND = Math.floor(PAIRS * 0.05 + 3 * Math.sqrt(PAIRS * 0.05 * 0.95));

describe("detrend 'auto': wandering and pinned series", () => {
  it(`mild random walks under noise (step sd 0.1): p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    // Their line residual averages an autocorrelation of about 0.2 over lags 1..28, below the 0.4 that
    // alone marks a series as wandering; KPSS catches them (the 28-lag nEff of the residual is too large).
    const g = generator(11);
    let hits = 0;
    let wandering = 0;
    for (let i = 0; i < PAIRS; i++) {
      const res = correlationScan([daily('x', g.walk(0.1)), daily('y', g.walk(0.1))]);
      if (res.findings[0]!.p < 0.05) hits++;
      wandering += res.series.filter((s) => s.wanders).length;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
    // About 40 % of these series (1209 of 3000) are caught; the rest are closer to steady noise.
    expect(wandering).toBeGreaterThan(900);
  });

  it(`ratings that wander to an end of the scale and stay there: p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    // Random walks of step sd 0.3 as ratings 1..5, Spearman as the server picks it for ratings: both
    // sides move over the first weeks only, then sit at 1 or 5 for months.
    const g = generator(12);
    let hits = 0;
    let pinned = 0;
    for (let i = 0; i < PAIRS; i++) {
      const x = g.rating(g.walk(0.3));
      const y = g.rating(g.walk(0.3));
      const res = correlationScan([daily('x', x), daily('y', y)], { method: 'spearman' });
      if (res.findings[0]!.p < 0.05) hits++;
      pinned += res.series.filter((s) => s.pinned).length;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
    expect(pinned).toBeGreaterThan(1000);
  });

  it(`yes/no metrics pinned for months by a wandering latent value: p < 0.05 in at most ${BOUND} of ${PAIRS} pairs`, () => {
    // Many of these are all yes or all no for months and do not wander by KPSS; as pinned series their
    // nEff is divided by how far the two sides' variances rise and fall together.
    const g = generator(16);
    const yesNo = (z: Float64Array) => Array.from(z, (v) => (v > 0.3 ? 1 : 0));
    let hits = 0;
    for (let i = 0; i < PAIRS; i++) {
      const res = correlationScan([daily('x', yesNo(g.walk(0.3))), daily('y', yesNo(g.walk(0.3)))]);
      if (res.findings[0] && res.findings[0].p < 0.05) hits++;
    }
    expect(hits).toBeLessThanOrEqual(BOUND);
  });

  it('a pinned pair that does not wander has its Bartlett nEff divided by the variance concentration', () => {
    const g = generator(17);
    const yesNo = (z: Float64Array) => Array.from(z, (v) => (v > 0.3 ? 1 : 0));
    let checked = 0;
    let concentrated = 0;
    for (let i = 0; i < 200 && checked < 10; i++) {
      const x = yesNo(g.walk(0.3));
      const y = yesNo(g.walk(0.3));
      const res = correlationScan([daily('x', x), daily('y', y)]);
      const [sx, sy] = res.series;
      const f = res.findings[0];
      if (!sx || !sy || !f || sx.wanders || sy.wanders || !(sx.pinned || sy.pinned)) continue;
      checked++;
      const rx = residualValues(Float64Array.from(x), { detrend: 'linear' });
      const ry = residualValues(Float64Array.from(y), { detrend: 'linear' });
      const bartlett = effectiveSampleSizeAcf(f.n, autocorrelations(rx, 28), autocorrelations(ry, 28));
      const h = varianceConcentration(rx, localMeanSquares(rx, 14), ry, localMeanSquares(ry, 14), 0);
      if (h > 1.2) concentrated++;
      expectRel(f.nEff, Math.max(3, bartlett / h), 1e-9);
    }
    expect(checked).toBe(10);
    // h is 1 when the two sides move at different times; it must bite on some pairs.
    expect(concentrated).toBeGreaterThanOrEqual(3);
  });

  it('steady series neither wander nor are pinned; changes are correlated with Pearson', () => {
    const g = generator(13);
    let flagged = 0;
    for (let i = 0; i < 200; i++) {
      const res = correlationScan([daily('x', g.ar(0.6)), daily('y', g.rating(g.ar(0.6)))]);
      flagged += res.series.filter((s) => s.wanders || s.pinned).length;
    }
    // Both conditions (KPSS and mean autocorrelation above 0.1) rarely hold for an AR(1) with φ = 0.6.
    expect(flagged).toBeLessThanOrEqual(4);
    // Unit-step walks: most wander (a few look steady once their line is out, as a walk can over a year);
    // a pair with one is tested on changes, with Pearson even where the resolver asks for Spearman.
    let wanderers = 0;
    for (let i = 0; i < 20; i++) {
      const res = correlationScan([daily('x', g.walk(1)), daily('y', g.rating(g.ar(0.3)))], {
        method: 'spearman',
        lags: 1,
      });
      if (!res.series[0]!.wanders) continue;
      wanderers++;
      for (const f of res.findings) {
        expect(f.differenced).toBe(true);
        expect(f.method).toBe('pearson');
      }
    }
    expect(wanderers).toBeGreaterThanOrEqual(15);
  });

  it('kpssStatistic: small for stationary deviations, large for a wandering series', () => {
    const g = generator(14);
    let rejectNoise = 0;
    let rejectWalk = 0;
    for (let i = 0; i < 200; i++) {
      const noise = residualValues(g.ar(0.3), { detrend: 'linear', weekday: false });
      const walk = residualValues(g.walk(0.3), { detrend: 'linear', weekday: false });
      if (kpssStatistic(noise, autocorrelations(noise, 28)) > 0.146) rejectNoise++;
      if (kpssStatistic(walk, autocorrelations(walk, 28)) > 0.146) rejectWalk++;
    }
    // 5 % level: Binomial(200, 0.05) has mean 10, sd 3.1.
    expect(rejectNoise).toBeLessThanOrEqual(20);
    // KPSS with a 28-lag window has limited power at one year (124 of 200 walks of step sd 0.3).
    expect(rejectWalk).toBeGreaterThan(100);
    // White noise without autocorrelation terms: η = Σ S² / (n² γ₀) by hand.
    const x = [1, -1, 2, -2, 0];
    // Partial sums 1, 0, 2, 0, 0; γ₀ = 10 / 5 = 2.
    expect(kpssStatistic(x, new Float64Array(0))).toBeCloseTo(5 / (25 * 2), 12);
    expect(kpssStatistic([3, 3, 3], new Float64Array(0))).toBe(0);
  });

  it('longestRunAtBound, localMeanSquares and varianceConcentration', () => {
    expect(longestRunAtBound([1, 1, Number.NaN, 1, 2, 5, 5, 1])).toBe(4);
    expect(longestRunAtBound([1.5, 2.5, 0.5, 3.5])).toBe(1);
    const ms = localMeanSquares([1, -1, 1, -1, Number.NaN, 0], 1);
    expect(Array.from(ms)).toEqual([1, 1, 1, 1, 0.5, 0]);
    // Steady variances: about 1. Both sides moving over the same 30 of 300 days: about 10.
    const g = generator(15);
    const T = 300;
    const a = g.ar(0, T);
    const b = g.ar(0, T);
    const steady = varianceConcentration(a, localMeanSquares(a, 14), b, localMeanSquares(b, 14), 0);
    expect(steady).toBeLessThan(1.1);
    const burst = (v: Float64Array) => v.map((x, d) => (d < 30 ? x : 0));
    const ba = burst(a);
    const bb = burst(b);
    const h = varianceConcentration(ba, localMeanSquares(ba, 14), bb, localMeanSquares(bb, 14), 0);
    expect(h).toBeGreaterThan(6);
    expect(h).toBeLessThan(12);
  });
});
