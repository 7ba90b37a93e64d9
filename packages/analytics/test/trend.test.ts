import { describe, expect, it } from 'vitest';
import type { DailySeries } from '../src/index';
import { mannKendall, trendReport } from '../src/index';
import ref from './fixtures/reference.json';
import { computed, expectJsonSafe, expectRel } from './helpers';

describe.each(ref.mannKendall.sets)('mannKendall on $name (numpy reference implementation)', (set) => {
  it('matches S, tie-corrected Var(S), continuity-corrected z, p and tau', () => {
    const r = computed(mannKendall(set.y));
    expect(r.s).toBe(set.s);
    expectRel(r.varS, set.varS, 1e-14, 'varS');
    expectRel(r.z, set.z, 1e-13, 'z');
    expectRel(r.p, set.p, 1e-11, 'p');
    expectRel(r.tau, set.tau, 1e-13, 'tau');
  });
});

describe('trendReport', () => {
  const t = ref.trend;
  const report = computed(trendReport(t.series as DailySeries));

  it('matches scipy theilslopes, the Mann–Kendall reference, kendalltau and linregress R²', () => {
    expectRel(report.slopePerDay, t.slope, 1e-13, 'slope');
    expectRel(report.slopePerWeek, 7 * t.slope, 1e-13, 'slope per week');
    expectRel(report.intercept, t.intercept, 1e-12, 'intercept');
    expect(report.slopeCI95).toEqual([t.low, t.high]);
    expect(report.mannKendall.s).toBe(t.mannKendall.s);
    expectRel(report.mannKendall.p, t.mannKendall.p, 1e-10, 'MK p');
    expectRel(report.tau, t.tau, 1e-13, 'tau');
    expectRel(report.rSquared, t.rSquared, 1e-12, 'R²');
    expect(report.direction).toBe('up');
    expect(report.n).toBe(t.series.values.filter((v) => v !== null).length);
    expectJsonSafe(report);
  });

  it('reports the first and last present day', () => {
    const r = computed(
      trendReport({ id: 'x', start: '2024-02-27', values: [null, 1, 3, 2, 5, 4, 6, 8, 7, 9, 10, null] }),
    );
    expect([r.first, r.last]).toEqual(['2024-02-28', '2024-03-08']);
    expect(r.direction).toBe('up');
  });

  it('calls a noisy series without trend flat and a falling one down', () => {
    const flat = Array.from({ length: 60 }, (_, i) => Math.sin(i * 2.1) + Math.cos(i * 0.7));
    expect(computed(trendReport({ id: 'f', start: '2024-01-01', values: flat })).direction).toBe('flat');
    const down = flat.map((v, i) => v - 0.05 * i);
    const r = computed(trendReport({ id: 'd', start: '2024-01-01', values: down }));
    expect(r.direction).toBe('down');
    expect(r.slopeCI95[1]).toBeLessThan(0);
    // A stricter alpha can make the same data flat.
    const strict = computed(trendReport({ id: 'd', start: '2024-01-01', values: down }, { alpha: 1e-300 }));
    expect(strict.direction).toBe('flat');
  });

  it('is not computable for constant or too-short series', () => {
    expect(trendReport({ id: 'c', start: '2024-01-01', values: new Float64Array(30).fill(4) })).toEqual({
      ok: false,
      reason: 'constant',
      n: 30,
    });
    expect(trendReport({ id: 's', start: '2024-01-01', values: [1, 2, null, 3] })).toEqual({
      ok: false,
      reason: 'too-few',
      n: 3,
    });
    expect(mannKendall([Number.NaN, null])).toEqual({ ok: false, reason: 'too-few', n: 0 });
  });
});
