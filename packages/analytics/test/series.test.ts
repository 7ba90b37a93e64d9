import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DailySeries } from '../src/index';
import { addDays, dateFromDayNumber, dayNumber, isoWeekday, streaks, weekdayPattern } from '../src/index';
import ref from './fixtures/reference.json';
import { computed, expectJsonSafe, expectRel } from './helpers';

describe('calendar arithmetic', () => {
  it('known day numbers and weekdays', () => {
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dayNumber('2000-03-01')).toBe(11017);
    expect(dayNumber('1969-12-31')).toBe(-1);
    expect(isoWeekday(dayNumber('2024-01-01'))).toBe(1); // Monday
    expect(isoWeekday(dayNumber('2024-03-03'))).toBe(7); // Sunday
    expect(isoWeekday(dayNumber('1900-01-01'))).toBe(1);
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
  });

  it('rejects malformed and impossible dates', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-01', '2024-01-01T00:00', '', '2100-02-29']) {
      expect(() => dayNumber(bad)).toThrow(RangeError);
    }
  });

  it('round-trips every day and agrees with the UTC calendar', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (d) => {
        const s = dateFromDayNumber(d);
        expect(dayNumber(s)).toBe(d);
        // Test oracle only: the library itself never touches Date.
        expect(new Date(d * 86_400_000).toISOString().slice(0, 10)).toBe(s);
        expect(isoWeekday(d)).toBe(((new Date(d * 86_400_000).getUTCDay() + 6) % 7) + 1);
      }),
    );
  });
});

describe('weekdayPattern', () => {
  const w = ref.weekday;
  const r = computed(weekdayPattern(w.series as DailySeries));

  it('matches per-weekday n, mean and median, and scipy.stats.kruskal', () => {
    expect(r.days.map((d) => d.weekday)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const e of w.days) {
      const d = r.days[e.weekday - 1]!;
      expect(d.n).toBe(e.n);
      expectRel(d.mean!, e.mean, 1e-14);
      expectRel(d.median!, e.median, 1e-15);
    }
    const test = computed(r.test);
    expectRel(test.h, w.h, 1e-12, 'H');
    expectRel(test.p, w.p, 1e-10, 'p');
    expect(test.df).toBe(6);
    expect(test.epsilonSquared).toBeCloseTo(w.h / (r.n - 1), 14);
    expect(r.differ).toBe(w.p < 0.05);
    expectJsonSafe(r);
  });

  it('weekdays without data have null mean/median; no data at all is not computable', () => {
    const two = computed(weekdayPattern({ id: 'x', start: '2024-01-01', values: [1, 2] }));
    expect(two.days[2]).toEqual({ weekday: 3, name: 'Wed', n: 0, mean: null, median: null });
    expect(two.test).toEqual({ ok: false, reason: 'too-few', n: 2 });
    expect(two.differ).toBe(false);
    expectJsonSafe(two);
    expect(weekdayPattern({ id: 'x', start: '2024-01-01', values: [null, Number.NaN] })).toEqual({
      ok: false,
      reason: 'too-few',
      n: 0,
    });
  });
});

describe('streaks', () => {
  // 2024-03-01 … 2024-03-12; null = not logged.
  const s: DailySeries = {
    id: 'steps',
    start: '2024-03-01',
    values: [9, 12, 11, null, 13, 14, 2, 10, 11, 12, 13, 15],
  };
  const goal = (v: number) => v >= 10;

  it('missing days break streaks by default', () => {
    const r = streaks(s, goal);
    expect(r.current).toEqual({ length: 5, start: '2024-03-08', end: '2024-03-12' });
    expect(r.longest).toEqual({ length: 5, start: '2024-03-08', end: '2024-03-12' });
    expect([r.days, r.missingDays]).toEqual([12, 1]);
  });

  it("'skip' lets a streak span a missing day without counting it", () => {
    const r = streaks(s, goal, { missing: 'skip' });
    expect(r.longest).toEqual({ length: 5, start: '2024-03-08', end: '2024-03-12' });
    const gap = streaks({ id: 'g', start: '2024-03-01', values: [10, 11, null, null, 12, 3] }, goal, {
      missing: 'skip',
    });
    expect(gap.longest).toEqual({ length: 3, start: '2024-03-01', end: '2024-03-05' });
    expect(gap.current).toBeNull();
  });

  it('a later `today` with no data ends the current streak unless missing days are skipped', () => {
    expect(streaks(s, goal, { today: '2024-03-14' }).current).toBeNull();
    expect(streaks(s, goal, { today: '2024-03-14', missing: 'skip' }).current?.length).toBe(5);
    // An earlier `today` ignores later days.
    expect(streaks(s, goal, { today: '2024-03-06' }).current).toEqual({
      length: 2,
      start: '2024-03-05',
      end: '2024-03-06',
    });
  });

  it('ties keep the earliest longest streak; an empty series has none', () => {
    const r = streaks({ id: 't', start: '2024-01-30', values: [1, 1, 0, 1, 1] }, (v) => v === 1);
    expect(r.longest).toEqual({ length: 2, start: '2024-01-30', end: '2024-01-31' });
    expect(r.current).toEqual({ length: 2, start: '2024-02-02', end: '2024-02-03' });
    const empty = streaks({ id: 'e', start: '2024-01-01', values: [] }, goal);
    expect(empty).toEqual({ ok: true, current: null, longest: null, days: 0, missingDays: 0 });
    expectJsonSafe(r);
  });

  it('passes the calendar date to the predicate', () => {
    const seen: string[] = [];
    streaks({ id: 'd', start: '2024-02-28', values: [1, 1, 1] }, (_, date) => {
      seen.push(date);
      return true;
    });
    expect(seen).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
  });
});
