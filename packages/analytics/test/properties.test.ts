import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  correlationScan,
  kendall,
  linearRegression,
  pearson,
  spearman,
  theilSen,
} from '../src/index';

// Integer-valued data (scaled) keeps the transforms below exact enough that any difference is the
// function's, not the test's arithmetic.
const value = fc.integer({ min: -1000, max: 1000 }).map((v) => v / 10);
const pairs = fc.array(fc.tuple(value, value), { minLength: 4, maxLength: 60 });
const unzip = (ps: [number, number][]) => [ps.map((p) => p[0]), ps.map((p) => p[1])] as const;

describe('pearson properties', () => {
  it('is symmetric and bounded: r(x, y) = r(y, x), |r| ≤ 1', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        const [x, y] = unzip(ps);
        const a = pearson(x, y);
        const b = pearson(y, x);
        expect(a.ok).toBe(b.ok);
        if (a.ok && b.ok) {
          expect(a.r).toBe(b.r);
          expect(Math.abs(a.r)).toBeLessThanOrEqual(1);
          expect(a.p).toBeGreaterThanOrEqual(0);
          expect(a.p).toBeLessThanOrEqual(1);
          expect(a.ci95[0]).toBeLessThanOrEqual(a.r);
          expect(a.ci95[1]).toBeGreaterThanOrEqual(a.r);
        }
      }),
    );
  });

  it('is invariant under positive affine maps of x or y and flips sign under negative ones', () => {
    fc.assert(
      fc.property(
        pairs,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: -500, max: 500 }),
        (ps, a, b) => {
          const [x, y] = unzip(ps);
          const base = pearson(x, y);
          if (!base.ok) return;
          const pos = pearson(
            x.map((v) => a * v + b),
            y,
          );
          const neg = pearson(
            x,
            y.map((v) => -a * v + b),
          );
          expect(pos.ok && neg.ok).toBe(true);
          if (pos.ok && neg.ok) {
            expect(pos.r).toBeCloseTo(base.r, 11);
            expect(neg.r).toBeCloseTo(-base.r, 11);
            expect(neg.p).toBeCloseTo(base.p, 10);
          }
        },
      ),
    );
  });

  it('stays within [−1, 1] for nearly collinear data', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 3, maxLength: 40 }),
        fc.double({ min: 1e-3, max: 1e3 }),
        (x, k) => {
          const r = pearson(
            x,
            x.map((v) => k * v + 1e-9 * v * v),
          );
          if (r.ok) expect(Math.abs(r.r)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

describe('rank statistics properties', () => {
  it('spearman and kendall are invariant under strictly increasing transforms', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        const [x, y] = unzip(ps);
        const s = spearman(x, y);
        const k = kendall(x, y);
        const tx = x.map((v) => v * v * v + 5 * v);
        const ty = y.map((v) => Math.atan(v / 50));
        const s2 = spearman(tx, ty);
        const k2 = kendall(tx, ty);
        expect(s2.ok).toBe(s.ok);
        if (s.ok && s2.ok) expect(s2.rho).toBeCloseTo(s.rho, 12);
        if (k.ok && k2.ok) expect(k2.tau).toBeCloseTo(k.tau, 12);
      }),
    );
  });

  it('spearman and kendall are symmetric and bounded', () => {
    fc.assert(
      fc.property(pairs, (ps) => {
        const [x, y] = unzip(ps);
        const a = spearman(x, y);
        const b = spearman(y, x);
        if (a.ok && b.ok) {
          expect(a.rho).toBeCloseTo(b.rho, 14);
          expect(Math.abs(a.rho)).toBeLessThanOrEqual(1);
        }
        const k = kendall(x, y);
        const l = kendall(y, x);
        if (k.ok && l.ok) {
          expect(k.tau).toBe(l.tau);
          expect(k.p).toBeCloseTo(l.p, 14);
          expect(Math.abs(k.tau)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe('missing values are dropped pairwise', () => {
  const missing = fc.constantFrom<number | null>(Number.NaN, null, Number.POSITIVE_INFINITY);
  it('inserting incomplete pairs changes no result', () => {
    fc.assert(
      fc.property(
        pairs,
        fc.array(fc.tuple(fc.nat(), fc.oneof(value, missing), missing, fc.boolean()), { maxLength: 10 }),
        (ps, inserts) => {
          const [x, y] = unzip(ps);
          const xm: (number | null)[] = [...x];
          const ym: (number | null)[] = [...y];
          for (const [pos, present, gap, gapInX] of inserts) {
            const at = pos % (xm.length + 1);
            xm.splice(at, 0, gapInX ? gap : present);
            ym.splice(at, 0, gapInX ? present : gap);
          }
          for (const fn of [pearson, spearman, kendall, linearRegression, theilSen] as const) {
            expect(fn(xm, ym)).toEqual(fn(x, y));
          }
        },
      ),
    );
  });
});

describe('Benjamini–Hochberg properties', () => {
  const pValues = fc.array(
    fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.05, 1e-300)),
    { minLength: 1, maxLength: 200 },
  );
  it('q ≥ p, q ≤ 1, and q keeps the order of p', () => {
    fc.assert(
      fc.property(pValues, (p) => {
        const q = benjaminiHochberg(p);
        for (let i = 0; i < p.length; i++) {
          expect(q[i]!).toBeGreaterThanOrEqual(p[i]!);
          expect(q[i]!).toBeLessThanOrEqual(1);
          for (let j = 0; j < p.length; j++) if (p[i]! < p[j]!) expect(q[i]!).toBeLessThanOrEqual(q[j]!);
        }
      }),
    );
  });

  it('missing p-values stay NaN and do not enter the family', () => {
    fc.assert(
      fc.property(pValues, fc.array(fc.nat(), { maxLength: 5 }), (p, holes) => {
        const withHoles: (number | null)[] = [...p];
        for (const h of holes) withHoles.splice(h % (withHoles.length + 1), 0, h % 2 ? null : Number.NaN);
        const q = benjaminiHochberg(withHoles);
        const expected = benjaminiHochberg(p);
        const kept = q.filter((_, i) => withHoles[i] !== null && !Number.isNaN(withHoles[i]));
        expect(kept).toEqual(expected);
        expect(q.filter((v) => Number.isNaN(v)).length).toBe(holes.length);
      }),
    );
  });
});

describe('correlationScan properties', () => {
  // 2–5 series with their own start offsets, small integer values (many ties) or fine values, and gaps;
  // every finding must equal pearson()/spearman() on that pair's pairwise-complete days at that lag, and
  // every pair not reported must be skipped for the reason the direct computation gives.
  const cell = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((v) => v / 10) },
  );
  const tied = fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  );
  const one = fc.record({
    offset: fc.integer({ min: 0, max: 12 }),
    values: fc.oneof(fc.array(cell, { minLength: 0, maxLength: 45 }), fc.array(tied, { maxLength: 45 })),
  });
  const day = (offset: number) => new Date(Date.UTC(2024, 1, 25 + offset)).toISOString().slice(0, 10);

  it.each(['pearson', 'spearman'] as const)('%s: each test equals the direct computation', (method) => {
    fc.assert(
      fc.property(
        fc.array(one, { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 0, max: 3 }),
        (raw, lags) => {
          const minN = 5;
          const series = raw.map((s, i) => ({ id: `s${i}`, start: day(s.offset), values: s.values }));
          const res = correlationScan(series, { method, lags, minN, detrend: 'none' });
          const byKey = new Map(res.findings.map((f) => [`${f.x}|${f.y}|${f.lag}`, f]));
          const skippedPairs = new Map(
            res.skipped.flatMap((s) =>
              s.kind === 'pair' ? [[`${s.x}|${s.y}|${s.lag}` as string, s] as const] : [],
            ),
          );
          const skippedSeries = new Set(res.skipped.flatMap((s) => (s.kind === 'series' ? [s.id] : [])));
          const valueOn = (i: number, d: number) => {
            const k = d - raw[i]!.offset;
            const v = k >= 0 ? raw[i]!.values[k] : undefined;
            return v ?? null;
          };
          let checked = 0;
          for (let i = 0; i < series.length; i++) {
            for (let j = 0; j < series.length; j++) {
              if (i === j || skippedSeries.has(`s${i}`) || skippedSeries.has(`s${j}`)) continue;
              for (let lag = i < j ? 0 : 1; lag <= lags; lag++) {
                const x: (number | null)[] = [];
                const y: (number | null)[] = [];
                for (let d = 0; d < 60; d++) {
                  x.push(valueOn(i, d));
                  y.push(valueOn(j, d + lag));
                }
                const key = `s${i}|s${j}|${lag}`;
                const direct = method === 'pearson' ? pearson(x, y) : spearman(x, y);
                const finding = byKey.get(key);
                if (direct.ok && direct.n >= minN) {
                  expect(finding, key).toBeDefined();
                  const effect = 'r' in direct ? direct.r : direct.rho;
                  expect(finding!.n).toBe(direct.n);
                  expect(Math.abs(finding!.effect - effect), key).toBeLessThan(1e-12);
                } else {
                  expect(finding, key).toBeUndefined();
                  const skip = skippedPairs.get(key);
                  expect(skip, key).toBeDefined();
                  expect(skip!.reason, key).toBe(direct.n < minN ? 'too-few' : 'constant');
                  expect(skip!.n, key).toBe(direct.n);
                }
                checked++;
              }
            }
          }
          expect(res.testsRun + [...skippedPairs.keys()].length).toBe(checked);
        },
      ),
      { numRuns: 300 },
    );
  });
});
