// Daily series: one value per consecutive calendar day from `start`.
import { dateFromDayNumber, dayNumber } from './dates';
import { isPresent } from './input';
import type { NumericInput } from './types';

/** A metric recorded daily. `values[i]` belongs to `start + i days`; NaN, null or undefined = missing. */
export interface DailySeries {
  id: string;
  /** First day, YYYY-MM-DD. */
  start: string;
  values: NumericInput;
}

/** Several series laid on one date grid: `values[s][d]` is series s on day `startDay + d` (NaN = missing). */
export interface AlignedSeries {
  startDay: number;
  start: string;
  days: number;
  values: Float64Array[];
}

/** Aligns series with different start dates and lengths on their common date grid (union of the ranges). */
export function alignSeries(series: readonly DailySeries[]): AlignedSeries {
  if (series.length === 0) return { startDay: 0, start: dateFromDayNumber(0), days: 0, values: [] };
  const starts = series.map((s) => dayNumber(s.start));
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < series.length; i++) {
    first = Math.min(first, starts[i]!);
    last = Math.max(last, starts[i]! + series[i]!.values.length - 1);
  }
  const days = Math.max(0, last - first + 1);
  const values = series.map((s, i) => {
    const out = new Float64Array(days).fill(Number.NaN);
    const offset = starts[i]! - first;
    for (let d = 0; d < s.values.length; d++) {
      const v = s.values[d];
      if (isPresent(v)) out[offset + d] = v;
    }
    return out;
  });
  return { startDay: first, start: dateFromDayNumber(first), days, values };
}

/** Day offsets (from the series start) and values of the present observations, in time order. */
export function presentObservations(values: NumericInput): { t: Float64Array; y: Float64Array } {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (isPresent(values[i])) n++;
  const t = new Float64Array(n);
  const y = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isPresent(v)) {
      t[k] = i;
      y[k] = v;
      k++;
    }
  }
  return { t, y };
}
