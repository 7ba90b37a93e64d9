import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, kruskalWallis, pointBiserial, welchTTest } from '../src/index';
import ref from './fixtures/reference.json';
import { computed, expectJsonSafe, expectRel } from './helpers';

describe('Welch t-test (scipy.stats.ttest_ind equal_var=False)', () => {
  for (const c of ref.welch.cases) {
    it('matches t, Welch–Satterthwaite df and p', () => {
      const r = computed(welchTTest(c.a, c.b));
      expectRel(r.t, c.t, 1e-13, 't');
      expectRel(r.df, c.df, 1e-13, 'df');
      expectRel(r.p, c.p, 1e-11, 'p');
    });
  }
  it('is not computable with one value in a group or no variance at all', () => {
    expect(welchTTest([1], [1, 2, 3])).toEqual({ ok: false, reason: 'too-few', n: 4 });
    expect(welchTTest([2, 2], [3, 3, 3])).toEqual({ ok: false, reason: 'constant', n: 5 });
  });
});

describe('pointBiserial (scipy.stats.pointbiserialr, pairwise-complete)', () => {
  for (const c of ref.pointBiserial.cases) {
    it('matches r, p, group means and the Welch test', () => {
      const r = computed(pointBiserial(c.binary, c.y));
      expectRel(r.r, c.r, 1e-13, 'r');
      expectRel(r.p, c.p, 1e-10, 'p');
      expectRel(r.meanWith, c.meanWith, 1e-14, 'mean with');
      expectRel(r.meanWithout, c.meanWithout, 1e-14, 'mean without');
      expectRel(r.meanDifference, c.meanWith - c.meanWithout, 1e-13, 'difference');
      expect(r.n1 + r.n0).toBe(r.n);
      const w = computed(r.welch);
      expectRel(w.t, c.welch.t, 1e-13, 'welch t');
      expectRel(w.df, c.welch.df, 1e-13, 'welch df');
      expectRel(w.p, c.welch.p, 1e-11, 'welch p');
      expectJsonSafe(r);
    });
  }

  it('accepts booleans, reports not computable when every day is "with"', () => {
    const y = [3, 4, 5, 6, 7, 8];
    const bools = [true, false, true, false, true, false];
    expect(computed(pointBiserial(bools, y)).r).toBe(computed(pointBiserial([1, 0, 1, 0, 1, 0], y)).r);
    expect(pointBiserial([1, 1, 1, 1, 1, 1], y)).toEqual({ ok: false, reason: 'constant', n: 6 });
    const oneWithout = computed(pointBiserial([1, 1, 1, 0], [1, 2, 3, 4]));
    expect(oneWithout.welch).toEqual({ ok: false, reason: 'too-few', n: 4 });
    expectJsonSafe(oneWithout);
    expect(() => pointBiserial([2, 0, 1], [1, 2, 3])).toThrow(RangeError);
  });
});

describe('kruskalWallis (scipy.stats.kruskal)', () => {
  for (const c of ref.kruskal.cases) {
    it(`matches H and p for ${c.groups.length} groups`, () => {
      const r = computed(kruskalWallis(c.groups));
      expectRel(r.h, c.h, 1e-12, 'H');
      expectRel(r.p, c.p, 1e-10, 'p');
      expect(r.df).toBe(c.groups.length - 1);
    });
  }
  it('is not computable for a single group or identical values', () => {
    expect(kruskalWallis([[1, 2, 3], []])).toEqual({ ok: false, reason: 'too-few', n: 3 });
    expect(
      kruskalWallis([
        [1, 1],
        [1, 1, 1],
      ]),
    ).toEqual({ ok: false, reason: 'constant', n: 5 });
  });
});

describe('benjaminiHochberg (scipy.stats.false_discovery_control)', () => {
  for (const c of ref.bh.cases) {
    it(`matches the reference q-values for ${c.p.length} p-values`, () => {
      const q = benjaminiHochberg(c.p);
      for (const [i, e] of c.q.entries()) expectRel(q[i]!, e!, 1e-14);
    });
  }
  it('rejects p-values outside [0, 1]', () => {
    expect(() => benjaminiHochberg([0.1, 1.5])).toThrow(RangeError);
    expect(benjaminiHochberg([])).toEqual([]);
  });
});
