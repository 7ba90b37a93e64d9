// Per-series preparation shared by the scan's Pearson and Spearman paths.
import { lag1Autocorrelation } from './autocorrelation';
import type { SkippedSeries } from './scan';

/** Per-series data prepared once for the whole scan (all arrays indexed by day on the common grid). */
export interface Prepared {
  id: string;
  raw: Float64Array;
  /** Values minus the series mean, 0 where missing: the pair's Σxy is then a plain dot product. */
  z: Float64Array;
  /** Prefix counts and sums of present days, z and z² (length T + 1). */
  cnt: Int32Array;
  s1: Float64Array;
  s2: Float64Array;
  /** Missing days between the first and last present day, ascending. */
  missing: Int32Array;
  first: number;
  last: number;
  r1: number;
  /** Spearman only, built lazily. */
  ranks: RankData | null;
}

/** Present days sorted by value (m of them), each day's position in that order (m for an absent day,
 * including up to 7 days past the grid), per position the last position of its tie group, and whether
 * there are any ties. */
export interface RankData {
  order: Int32Array;
  pos: Int32Array;
  groupEnd: Int32Array;
  ties: boolean;
}

export type PairOutcome =
  | { kind: 'ok'; n: number; r: number }
  | { kind: 'skip'; reason: 'too-few' | 'constant'; n: number };

/**
 * Prepares one column of the date grid: first/last present day, values centred on the series mean
 * (mean with one refinement pass), prefix sums, missing days and the lag-1 autocorrelation. A series
 * with fewer than minN present days, or a constant one, comes back as a SkippedSeries instead.
 */
export function prepareSeries(id: string, values: Float64Array, minN: number): Prepared | SkippedSeries {
  const T = values.length;
  let n = 0;
  let sum = 0;
  let first = -1;
  let last = -1;
  let constant = true;
  let firstValue = Number.NaN;
  for (let d = 0; d < T; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    if (n === 0) {
      first = d;
      firstValue = v;
    } else if (v !== firstValue) constant = false;
    n++;
    sum += v;
    last = d;
  }
  if (n < minN) return { kind: 'series', id, reason: 'too-short', n };
  if (constant) return { kind: 'series', id, reason: 'constant', n };
  let m = sum / n;
  let corr = 0;
  for (let d = first; d <= last; d++) {
    const v = values[d]!;
    if (!Number.isNaN(v)) corr += v - m;
  }
  m += corr / n;
  const z = new Float64Array(T);
  const cnt = new Int32Array(T + 1);
  const s1 = new Float64Array(T + 1);
  const s2 = new Float64Array(T + 1);
  const missing: number[] = [];
  for (let d = 0; d < T; d++) {
    const v = values[d]!;
    const present = !Number.isNaN(v);
    const u = present ? v - m : 0;
    z[d] = u;
    cnt[d + 1] = cnt[d]! + (present ? 1 : 0);
    s1[d + 1] = s1[d]! + u;
    s2[d + 1] = s2[d]! + u * u;
    if (!present && d > first && d < last) missing.push(d);
  }
  return {
    id,
    raw: values,
    z,
    cnt,
    s1,
    s2,
    missing: Int32Array.from(missing),
    first,
    last,
    r1: lag1Autocorrelation(values),
    ranks: null,
  };
}

/** Σ a[i0 + k]·b[j0 + k] for k < len, with four accumulators so the additions can overlap. */
export function dot(a: Float64Array, i0: number, b: Float64Array, j0: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[i0 + k]! * b[j0 + k]!;
    s1 += a[i0 + k + 1]! * b[j0 + k + 1]!;
    s2 += a[i0 + k + 2]! * b[j0 + k + 2]!;
    s3 += a[i0 + k + 3]! * b[j0 + k + 3]!;
  }
  for (; k < len; k++) s0 += a[i0 + k]! * b[j0 + k]!;
  return s0 + s1 + (s2 + s3);
}
