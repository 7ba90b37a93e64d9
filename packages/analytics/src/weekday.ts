// Day-of-week pattern of a daily series.
import { dayNumber, isoWeekday } from './dates';
import { isPresent } from './input';
import type { KruskalWallisResult } from './kruskal';
import { kruskalWallis } from './kruskal';
import type { DailySeries } from './series';
import { mean, median } from './summary';
import type { Result } from './types';
import { notComputable } from './types';

export const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export interface WeekdayStats {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  name: (typeof WEEKDAY_NAMES)[number];
  n: number;
  /** null when the weekday has no values. */
  mean: number | null;
  median: number | null;
}

export interface WeekdayPattern {
  n: number;
  /** Monday first. */
  days: WeekdayStats[];
  /** Kruskal–Wallis test of equal distributions across weekdays (may itself be not computable). */
  test: Result<KruskalWallisResult>;
  /** True when the test is computable and p < alpha. */
  differ: boolean;
}

/**
 * Mean, median and count per ISO weekday (from the calendar date of each value), and whether
 * weekdays differ by the Kruskal–Wallis test (Kruskal & Wallis 1952) at level `alpha` (default 0.05).
 * Not computable only when the series has no values at all.
 */
export function weekdayPattern(
  series: DailySeries,
  options: { alpha?: number } = {},
): Result<WeekdayPattern> {
  const alpha = options.alpha ?? 0.05;
  const start = dayNumber(series.start);
  const groups: number[][] = [[], [], [], [], [], [], []];
  let n = 0;
  for (let i = 0; i < series.values.length; i++) {
    const v = series.values[i];
    if (!isPresent(v)) continue;
    groups[isoWeekday(start + i) - 1]!.push(v);
    n++;
  }
  if (n === 0) return notComputable('too-few', 0);
  const days = groups.map((g, i) => ({
    weekday: i + 1,
    name: WEEKDAY_NAMES[i]!,
    n: g.length,
    mean: g.length ? mean(g) : null,
    median: g.length ? median(g) : null,
  }));
  const test = kruskalWallis(groups);
  return { ok: true, n, days, test, differ: test.ok && test.p < alpha };
}
