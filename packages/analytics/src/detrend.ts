// What the correlation scan tests: each series' deviations from its own trend (and weekly rhythm), not
// the series itself. Two metrics that each drift, wander or follow a weekly rhythm of their own are
// correlated over a year whether or not they have anything to do with each other day to day; the scan
// correlates what is left once each series' own slow movement is taken out.
import { lag1Autocorrelation } from './autocorrelation';
import { studentTTwoSided } from './distributions';
import { theilSenOf } from './theilSen';

/**
 * How a series is reduced to its deviations before correlating (see docs/calibration.md for the figures):
 * - 'none': the values as they are (the scan before detrending; calibrated only on stationary data);
 * - 'auto' (the scan's default; residualValues treats it as 'linear'): 'linear', except that a pair with a
 *   side whose linear residual still wanders like a random walk is tested on 'difference' (correlationScan);
 * - 'linear': minus the least-squares line, fitted jointly with the weekday means
 *   when those go too;
 * - 'theil-sen': minus the Theil–Sen line through the present days (robust to outliers, but its slope is
 *   0 for most yes/no and rating series, whose pairwise slopes are mostly 0);
 * - 'local': minus a centred 29-day moving average of the present days (a local trend);
 * - 'difference': day-to-day changes (a day with a missing previous day is missing);
 * - 'prewhiten': the 'linear' residual filtered by its fitted AR(1) model,
 *   e_d = r_d − φ r_{d−1} with φ = the residual's lag-1 autocorrelation (Box & Jenkins): an AR(1)
 *   series becomes its innovations, a random walk (φ → 1) its differences.
 */
export type DetrendMethod = 'none' | 'auto' | 'linear' | 'theil-sen' | 'local' | 'difference' | 'prewhiten';

export interface ResidualOptions {
  /** Default 'linear'. */
  detrend?: DetrendMethod;
  /**
   * Also take out each weekday's mean deviation (weekday = grid day mod 7), so a weekly rhythm of its own
   * is not read as a day-to-day link. Fitted with the line for 'linear' and 'prewhiten' (before the AR
   * filter), after the trend otherwise. Default true.
   */
  weekday?: boolean;
}

/** The trend that was removed from a series, on the series' present days. */
export interface SeriesTrend {
  /** Least-squares slope per day over the present days. */
  slopePerDay: number;
  /** Fitted change from the first to the last present day: slopePerDay × (last − first). */
  change: number;
  /** change in units of the residual standard deviation (|change| ≥ 1: the trend is large beside the day-to-day spread). */
  changeInSd: number;
  /** Share of the variance the straight line explains (R², 0..1). */
  rSquared: number;
  /**
   * 'up' / 'down' when the slope's t test, with the residual's effective n (n(1 − r₁)/(1 + r₁), r₁ the
   * residual's lag-1 autocorrelation), gives p < 0.05; otherwise 'flat'.
   */
  direction: 'up' | 'down' | 'flat';
  /** Two-sided p of that slope test. */
  p: number;
}

const LOCAL_HALF_WIDTH = 14;

/** Least-squares line over the present days d (NaN = missing): slope, intercept at d = 0, residual SS, SS. */
export function leastSquaresLine(values: Float64Array): {
  n: number;
  slope: number;
  intercept: number;
  sse: number;
  sst: number;
  sxx: number;
} {
  let n = 0;
  let st = 0;
  let sy = 0;
  for (let d = 0; d < values.length; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    n++;
    st += d;
    sy += v;
  }
  if (n === 0) return { n, slope: 0, intercept: 0, sse: 0, sst: 0, sxx: 0 };
  const mt = st / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let d = 0; d < values.length; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    const u = d - mt;
    const w = v - my;
    sxx += u * u;
    sxy += u * w;
    syy += w * w;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const sse = Math.max(0, syy - slope * sxy);
  return { n, slope, intercept: my - slope * mt, sse, sst: syy, sxx };
}

function minusLine(values: Float64Array, slope: number, intercept: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let d = 0; d < values.length; d++) out[d] = values[d]! - (intercept + slope * d);
  return out;
}

function theilSenResidual(values: Float64Array): Float64Array {
  let n = 0;
  for (let d = 0; d < values.length; d++) if (!Number.isNaN(values[d]!)) n++;
  if (n < 3) return values.slice();
  const t = new Float64Array(n);
  const y = new Float64Array(n);
  let k = 0;
  for (let d = 0; d < values.length; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    t[k] = d;
    y[k++] = v;
  }
  const { slope, intercept } = theilSenOf(t, y);
  return minusLine(values, slope, intercept);
}

/** Values minus the mean of the present days within ±half days (prefix sums: O(T)). */
function localResidual(values: Float64Array, half: number): Float64Array {
  const T = values.length;
  const cnt = new Float64Array(T + 1);
  const sum = new Float64Array(T + 1);
  for (let d = 0; d < T; d++) {
    const v = values[d]!;
    const present = !Number.isNaN(v);
    cnt[d + 1] = cnt[d]! + (present ? 1 : 0);
    sum[d + 1] = sum[d]! + (present ? v : 0);
  }
  const out = new Float64Array(T);
  for (let d = 0; d < T; d++) {
    const lo = Math.max(0, d - half);
    const hi = Math.min(T, d + half + 1);
    out[d] = values[d]! - (sum[hi]! - sum[lo]!) / (cnt[hi]! - cnt[lo]!);
  }
  return out;
}

function differences(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  for (let d = 1; d < values.length; d++) out[d] = values[d]! - values[d - 1]!;
  return out;
}

function olsResidual(values: Float64Array): Float64Array {
  const line = leastSquaresLine(values);
  return minusLine(values, line.slope, line.intercept);
}

/**
 * Residual of the least-squares fit of value on day plus one mean per weekday (d mod 7), by
 * Frisch–Waugh–Lovell: day and value each minus their weekday means, then the slope of one on the other.
 */
function lineAndWeekdayResidual(values: Float64Array): Float64Array {
  const T = values.length;
  const t = new Float64Array(T);
  for (let d = 0; d < T; d++) t[d] = Number.isNaN(values[d]!) ? Number.NaN : d;
  const v = values.slice();
  removeWeekdayMeans(t);
  removeWeekdayMeans(v);
  let stt = 0;
  let stv = 0;
  for (let d = 0; d < T; d++) {
    if (Number.isNaN(v[d]!)) continue;
    stt += t[d]! * t[d]!;
    stv += t[d]! * v[d]!;
  }
  const slope = stt > 0 ? stv / stt : 0;
  for (let d = 0; d < T; d++) v[d] = v[d]! - slope * t[d]!;
  return v;
}

/** Subtracts each weekday's (d mod 7) mean of the present values, in place. */
function removeWeekdayMeans(values: Float64Array): void {
  const sum = new Float64Array(7);
  const cnt = new Float64Array(7);
  for (let d = 0; d < values.length; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    const w = d % 7;
    sum[w] = sum[w]! + v;
    cnt[w] = cnt[w]! + 1;
  }
  for (let w = 0; w < 7; w++) sum[w] = cnt[w]! > 0 ? sum[w]! / cnt[w]! : 0;
  for (let d = 0; d < values.length; d++) values[d] = values[d]! - sum[d % 7]!;
}

/** e_d = r_d − φ r_{d−1}, φ = lag-1 autocorrelation of r clamped to [0, 1]; missing when either day is. */
function prewhitenAR1(r: Float64Array): Float64Array {
  const phi = Math.min(1, Math.max(0, lag1Autocorrelation(r)));
  const out = new Float64Array(r.length).fill(Number.NaN);
  for (let d = 1; d < r.length; d++) out[d] = r[d]! - phi * r[d - 1]!;
  return out;
}

/**
 * The deviations of one column of a date grid (NaN = missing) that the scan correlates, O(T) except for
 * 'theil-sen' (O(T log T)). Days missing in the input stay missing; 'difference' and
 * 'prewhiten' also lose each present day whose previous day is missing. The grid's day index fixes
 * the weekday (d mod 7), so series on one grid share weekdays.
 */
export function residualValues(values: Float64Array, options: ResidualOptions = {}): Float64Array {
  const method = options.detrend ?? 'linear';
  const weekday = options.weekday ?? true;
  let r: Float64Array;
  switch (method) {
    case 'none':
      r = values.slice();
      break;
    case 'theil-sen':
      r = theilSenResidual(values);
      break;
    case 'auto':
    case 'linear':
    case 'prewhiten':
      // The line and weekday means are fitted jointly (least squares on day and weekday).
      r = weekday ? lineAndWeekdayResidual(values) : olsResidual(values);
      return method === 'prewhiten' ? prewhitenAR1(r) : r;
    case 'local':
      r = localResidual(values, LOCAL_HALF_WIDTH);
      break;
    case 'difference':
      r = differences(values);
      break;
  }
  if (weekday) removeWeekdayMeans(r);
  return r;
}

/** Least-squares trend of one grid column, with an autocorrelation-aware test of its slope. */
export function seriesTrend(values: Float64Array): SeriesTrend {
  const line = leastSquaresLine(values);
  let first = -1;
  let last = -1;
  for (let d = 0; d < values.length; d++) {
    if (Number.isNaN(values[d]!)) continue;
    if (first < 0) first = d;
    last = d;
  }
  const change = first < 0 ? 0 : line.slope * (last - first);
  const residual = minusLine(values, line.slope, line.intercept);
  const r1 = Math.max(0, lag1Autocorrelation(residual));
  const nEff = Math.min(line.n, Math.max(3, (line.n * (1 - r1)) / (1 + r1)));
  const sdRes = line.n > 2 ? Math.sqrt(line.sse / (line.n - 2)) : 0;
  // The slope's standard error with n − 2 df, inflated by n/nEff for the residual's autocorrelation.
  const se = line.sxx > 0 && line.n > 2 ? Math.sqrt(line.sse / (line.n - 2) / line.sxx) : 0;
  const t = se > 0 ? (line.slope / se) * Math.sqrt(nEff / line.n) : 0;
  const p = se > 0 ? studentTTwoSided(t, nEff - 2) : 1;
  const slope = line.slope;
  return {
    slopePerDay: slope,
    change,
    changeInSd: sdRes > 0 ? change / sdRes : 0,
    rSquared: line.sst > 0 ? Math.min(1, Math.max(0, 1 - line.sse / line.sst)) : 0,
    direction: p < 0.05 ? (slope > 0 ? 'up' : 'down') : 'flat',
    p,
  };
}
