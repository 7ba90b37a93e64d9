// Trend of one daily series: robust slope, significance and strength.
import { dateFromDayNumber, dayNumber } from './dates';
import { isConstant } from './input';
import type { MannKendallResult } from './mannKendall';
import { mannKendallOf } from './mannKendall';
import { linearRegression } from './regression';
import type { DailySeries } from './series';
import { presentObservations } from './series';
import { theilSenOf } from './theilSen';
import type { Interval, Result } from './types';
import { notComputable } from './types';

export interface TrendOptions {
  /** Significance level for calling a direction (default 0.05). */
  alpha?: number;
  /** Fewest present days for a report (default 10; the Mann–Kendall normal approximation is poor below). */
  minN?: number;
}

export interface TrendReport {
  /** Present days used. */
  n: number;
  /** First and last present day. */
  first: string;
  last: string;
  /** Theil–Sen slope per day and per week (7 × per day). */
  slopePerDay: number;
  slopePerWeek: number;
  /** Sen's (1968) 95% interval for the per-day slope. */
  slopeCI95: Interval;
  /** Theil–Sen intercept at the series start date (day 0). */
  intercept: number;
  mannKendall: Omit<MannKendallResult, 'n'>;
  /** Kendall tau-b between time and value: the strength of the monotonic trend, −1..1. */
  tau: number;
  /** R² of the ordinary least-squares line (share of variance a straight line explains). */
  rSquared: number;
  /** 'up' / 'down' when the Mann–Kendall p < alpha, otherwise 'flat'. */
  direction: 'up' | 'down' | 'flat';
}

/**
 * Trend report over x = days since `series.start` (missing days dropped, so gaps keep their spacing):
 * Theil–Sen slope with Sen's interval (Theil 1950; Sen 1968), Mann–Kendall test (Mann 1945; Kendall
 * 1975) for significance, Kendall's tau as strength, OLS R² for linearity (Draper & Smith).
 * Not computable with fewer than minN present days or a constant series.
 */
export function trendReport(series: DailySeries, options: TrendOptions = {}): Result<TrendReport> {
  const alpha = options.alpha ?? 0.05;
  const minN = Math.max(3, options.minN ?? 10);
  const { t, y } = presentObservations(series.values);
  const n = y.length;
  if (n < minN) return notComputable('too-few', n);
  if (isConstant(y)) return notComputable('constant', n);
  const sen = theilSenOf(t, y);
  const mk = mannKendallOf(y);
  const ols = linearRegression(t, y);
  const start = dayNumber(series.start);
  return {
    ok: true,
    n,
    first: dateFromDayNumber(start + t[0]!),
    last: dateFromDayNumber(start + t[n - 1]!),
    slopePerDay: sen.slope,
    slopePerWeek: 7 * sen.slope,
    slopeCI95: sen.slopeCI95,
    intercept: sen.intercept,
    mannKendall: mk,
    tau: mk.tau,
    rSquared: ols.ok ? ols.rSquared : 0,
    direction: mk.p < alpha ? (mk.s > 0 ? 'up' : 'down') : 'flat',
  };
}
