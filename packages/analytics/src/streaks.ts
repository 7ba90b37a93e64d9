// Streaks of consecutive days meeting a condition.
import { dateFromDayNumber, dayNumber } from './dates';
import { isPresent } from './input';
import type { DailySeries } from './series';

export interface StreakOptions {
  /**
   * What a missing day does: 'break' (default) ends the streak, as an unlogged day would;
   * 'skip' neither extends nor ends it (the streak spans the gap, counting only logged days).
   */
  missing?: 'break' | 'skip';
  /** Day the current streak must reach, YYYY-MM-DD (default: the last day of the series). Days after the
   * series end up to `today` are missing; days after `today` are ignored. */
  today?: string;
}

export interface Streak {
  /** Number of days meeting the predicate. */
  length: number;
  /** First and last qualifying day. */
  start: string;
  end: string;
}

export interface StreakReport {
  ok: true;
  /** The streak still running on `today` (null when there is none). */
  current: Streak | null;
  /** The longest streak (the earliest one on ties; null when no day qualifies). */
  longest: Streak | null;
  /** Days from the series start to `today`, and how many of them were missing. */
  days: number;
  missingDays: number;
}

/**
 * Current and longest run of days for which `predicate(value, date)` holds, walking the calendar day
 * by day so that gaps are seen explicitly (handled per `options.missing`). Always computable.
 */
export function streaks(
  series: DailySeries,
  predicate: (value: number, date: string) => boolean,
  options: StreakOptions = {},
): StreakReport {
  const mode = options.missing ?? 'break';
  const start = dayNumber(series.start);
  const end = options.today === undefined ? start + series.values.length - 1 : dayNumber(options.today);
  let runLength = 0;
  let runStart = 0;
  let runEnd = 0;
  let best: Streak | null = null;
  let missingDays = 0;
  for (let d = start; d <= end; d++) {
    const i = d - start;
    const v = i < series.values.length ? series.values[i] : undefined;
    if (!isPresent(v)) {
      missingDays++;
      if (mode === 'break') runLength = 0;
      continue;
    }
    const date = dateFromDayNumber(d);
    if (!predicate(v, date)) {
      runLength = 0;
      continue;
    }
    if (runLength === 0) runStart = d;
    runLength++;
    runEnd = d;
    if (best === null || runLength > best.length) {
      best = { length: runLength, start: dateFromDayNumber(runStart), end: date };
    }
  }
  const current =
    runLength > 0
      ? { length: runLength, start: dateFromDayNumber(runStart), end: dateFromDayNumber(runEnd) }
      : null;
  return { ok: true, current, longest: best, days: Math.max(0, end - start + 1), missingDays };
}
