// Theil–Sen robust line.
import { normalQuantile } from './distributions';
import { isConstant, pairwiseComplete } from './input';
import { sortCountingInversions, tieGroups } from './ranks';
import { selectKth } from './select';
import { median } from './summary';
import type { Interval, NumericInput, Result } from './types';
import { notComputable } from './types';

export interface TheilSenResult {
  /** Median of the pairwise slopes. */
  slope: number;
  /** median(y) − slope · median(x). */
  intercept: number;
  /** 95% confidence interval of the slope (Sen 1968). */
  slopeCI95: Interval;
  n: number;
}

// One shared buffer for the pairwise slopes of small samples, so repeated calls do not re-allocate it.
let slopeBuffer = new Float64Array(0);

function buffer(size: number): Float64Array {
  if (slopeBuffer.length < size) slopeBuffer = new Float64Array(size);
  return slopeBuffer;
}

/** Python/numpy rounding (half to even), so the CI ranks match scipy.stats.theilslopes exactly. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Theil–Sen estimator on clean arrays (no missing values, x not constant).
 * slope = median{(yⱼ − yᵢ)/(xⱼ − xᵢ) : xᵢ ≠ xⱼ} (Theil 1950; Sen 1968, JASA 63:1379);
 * intercept = median(y) − slope·median(x) (as scipy.stats.theilslopes, method='separate').
 * CI (Sen 1968, eq. 2.6): with N slopes sorted, C = z₀.₉₇₅·√Var(S), Var(S) the tie-corrected
 * Mann–Kendall variance, the bounds are the slopes of rank round((N − C)/2) and round((N + C)/2) + 1.
 * Time O(n log n + band) when x is strictly increasing, as for a daily series (inversionOrderStatistics),
 * otherwise O(n²); memory O(n²) only for small n, otherwise a few percent of the slopes.
 */
export function theilSenOf(xs: ArrayLike<number>, ys: ArrayLike<number>): Omit<TheilSenResult, 'n'> {
  const n = xs.length;
  const increasing = strictlyIncreasing(xs);
  let tiesSum = 0;
  let tiedPairsX = 0;
  for (const t of increasing ? [] : tieGroups(xs)) {
    tiesSum += t * (t - 1) * (2 * t + 5);
    tiedPairsX += (t * (t - 1)) / 2;
  }
  for (const t of tieGroups(ys)) tiesSum += t * (t - 1) * (2 * t + 5);
  const nt = (n * (n - 1)) / 2 - tiedPairsX; // slopes with xᵢ ≠ xⱼ
  const sigma = Math.sqrt((n * (n - 1) * (2 * n + 5) - tiesSum) / 18);
  const z = -normalQuantile(0.025);
  const upper = Math.min(roundHalfEven((nt + z * sigma) / 2), nt - 1);
  const lower = Math.max(roundHalfEven((nt - z * sigma) / 2) - 1, 0);
  const mid = nt >> 1;
  const ranks = [lower, nt % 2 === 1 ? mid : mid - 1, mid, upper];
  const large = nt > 4 * SAMPLE;
  const [lo, m1, m2, hi] =
    (large && increasing ? inversionOrderStatistics(xs, ys, nt, ranks) : null) ??
    (large ? bracketedOrderStatistics(xs, ys, nt, ranks) : null) ??
    allSlopesOrderStatistics(xs, ys, ranks);
  const slope = (m1! + m2!) / 2;
  return { slope, intercept: median(ys) - slope * median(xs), slopeCI95: [lo!, hi!] };
}

/** Order statistics by materialising every slope and selecting (Floyd–Rivest) in place. */
function allSlopesOrderStatistics(xs: ArrayLike<number>, ys: ArrayLike<number>, ranks: number[]): number[] {
  const n = xs.length;
  const slopes = buffer((n * (n - 1)) / 2);
  let nt = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xi;
      // + 0 turns −0 (equal y, decreasing x) into +0, as scipy's orientation with Δx > 0 gives.
      if (dx !== 0) slopes[nt++] = (ys[j]! - yi) / dx + 0;
    }
  }
  return orderStatistics(slopes, nt, ranks);
}

const SAMPLE = 8192;
// Half-width of the bracket in binomial standard deviations of the sample position: a target misses the
// bracket with probability ~6e-5, and then the exact fallback runs.
const BRACKET_SD = 4;

/**
 * Exact order statistics of all N slopes without storing them all (the idea of Floyd & Rivest 1975 and
 * of randomized slope selection, Matoušek 1991): quantiles of 8,192 sampled slopes give a bracket
 * [lo, hi] that almost surely contains every target rank; one pass over all pairs counts the slopes below
 * it and keeps only those inside; selection then runs on the kept few percent. The counts prove each
 * target lies in the bracket; if one does not, null is returned and the caller falls back.
 */
function bracketedOrderStatistics(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  nt: number,
  ranks: number[],
): number[] | null {
  const n = xs.length;
  const { lo, hi, share } = sampleBracket(xs, ys, nt, ranks);
  let kept = new Float64Array(Math.ceil(nt * share) + 1024);
  let len = 0;
  let below = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xi;
      if (dx === 0) continue;
      const s = (ys[j]! - yi) / dx + 0;
      // Branch-free: always store, advance only when inside. Slopes fall on either side at random, so
      // an if/else here would mispredict about half the time and cost several times the whole loop.
      kept[len] = s;
      const b = +(s < lo);
      below += b;
      len += 1 - b - +(s > hi);
      if (len === kept.length) {
        const grown = new Float64Array(2 * kept.length);
        grown.set(kept);
        kept = grown;
      }
    }
  }
  const local = ranks.map((k) => k - below);
  if (local.some((k) => k < 0 || k >= len)) return null;
  return orderStatistics(kept, len, local);
}

/**
 * A slope interval [lo, hi] that almost surely holds every target rank, from the quantiles of 8,192
 * sampled slopes (deterministic xorshift32 sampling: the result is exact either way, only the speed is
 * random), and the expected share of all slopes inside it.
 */
function sampleBracket(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  nt: number,
  ranks: number[],
): { lo: number; hi: number; share: number } {
  const n = xs.length;
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const sample = new Float64Array(SAMPLE);
  for (let m = 0; m < SAMPLE; ) {
    const i = Math.floor(rand() * n);
    const j = Math.floor(rand() * n);
    const dx = xs[j]! - xs[i]!;
    if (dx !== 0) sample[m++] = (ys[j]! - ys[i]!) / dx;
  }
  const position = (k: number, side: -1 | 1) => {
    const q = k / nt;
    return q * SAMPLE + side * (BRACKET_SD * Math.sqrt(SAMPLE * q * (1 - q)) + 2);
  };
  const pLo = Math.floor(position(Math.min(...ranks), -1));
  const pHi = Math.ceil(position(Math.max(...ranks), 1));
  // Two selections on the sample instead of sorting it.
  const lo = pLo < 0 ? -Infinity : selectKth(sample, 0, SAMPLE - 1, pLo);
  const hi = pHi >= SAMPLE ? Infinity : selectKth(sample, Math.max(0, pLo + 1), SAMPLE - 1, pHi);
  return { lo, hi, share: (pHi - pLo) / SAMPLE };
}

function strictlyIncreasing(xs: ArrayLike<number>): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i]! > xs[i - 1]!)) return false;
  return true;
}

/**
 * The same order statistics in O(n log n + band) for strictly increasing x (Dillencourt, Mount &
 * Netanyahu 1992; Matoušek 1991): for i < j, slope(i, j) < t exactly when wⱼ < wᵢ with w = y − t·x, so
 * the slopes below t are the inversions of w, counted by merge sort, and the slopes in [t₁, t₂] are the
 * pairs ordered one way by w(t₁) and the other by w(t₂), listed by a merge sort of the w(t₁) order by
 * w(t₂). Only those pairs get their slope computed and go to selection.
 *
 * Rounding in w can misjudge a slope within δ of t (δ bounds the error of y − t·x and of the slope's own
 * division, relative to the spacing of x). The thresholds sit 4δ outside the sampled bracket, and every
 * result must land at least 2δ inside them; otherwise (or when a target falls outside) null is returned
 * and the caller takes the exact all-pairs path.
 */
export function inversionOrderStatistics(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  nt: number,
  ranks: number[],
): number[] | null {
  const n = xs.length;
  const { lo, hi } = sampleBracket(xs, ys, nt, ranks);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  let maxX = 0;
  let maxY = 0;
  let minDx = Infinity;
  for (let i = 0; i < n; i++) {
    maxX = Math.max(maxX, Math.abs(xs[i]!));
    maxY = Math.max(maxY, Math.abs(ys[i]!));
    if (i > 0) minDx = Math.min(minDx, xs[i]! - xs[i - 1]!);
  }
  const ulp = 2 ** -52;
  const t = Math.max(Math.abs(lo), Math.abs(hi));
  const delta = (8 * ulp * (maxY + t * maxX)) / minDx + 8 * ulp * t;
  if (!Number.isFinite(delta)) return null;
  const t1 = lo - 4 * delta;
  const t2 = hi + 4 * delta;
  const w1 = new Float64Array(n);
  const w2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    w1[i] = ys[i]! - t1 * xs[i]!;
    w2[i] = ys[i]! - t2 * xs[i]!;
  }
  // Sorting the indices by w(t₁) counts the slopes below t₁ on the way.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const below = sortCountingInversions(order, w1);
  const band = pairsInverted(order, w2, xs, ys);
  const local = ranks.map((k) => k - below);
  if (local.some((k) => k < 0 || k >= band.length)) return null;
  const out = orderStatistics(band.values, band.length, local);
  if (out.some((v) => !(v >= t1 + 2 * delta && v <= t2 - 2 * delta))) return null;
  return out;
}

/**
 * Slopes of the pairs (u before v in `order`) with w[u] ≥ w[v], listed while merge-sorting `order` by w:
 * when a right-half element is taken while left-half elements remain, it forms such a pair with each of
 * them.
 */
function pairsInverted(
  order: Int32Array,
  w: Float64Array,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
): { values: Float64Array; length: number } {
  const n = order.length;
  let values = new Float64Array(Math.max(1024, 16 * n));
  let length = 0;
  let a: Int32Array = order;
  let b: Int32Array = new Int32Array(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const r = a[j]!;
        if (w[a[i]!]! < w[r]!) {
          b[k++] = a[i++]!;
          continue;
        }
        // Every left element from i on has w ≥ w[r].
        if (length + (mid - i) > values.length) {
          const grown = new Float64Array(Math.max(2 * values.length, length + (mid - i)));
          grown.set(values.subarray(0, length));
          values = grown;
        }
        const xr = xs[r]!;
        const yr = ys[r]!;
        for (let t = i; t < mid; t++) {
          const u = a[t]!;
          // (a − b)/(c − d) and (b − a)/(d − c) round alike, so the orientation does not matter; + 0 as above.
          values[length++] = (yr - ys[u]!) / (xr - xs[u]!) + 0;
        }
        b[k++] = r;
        j++;
      }
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
    }
    const tmp = a;
    a = b;
    b = tmp;
  }
  return { values, length };
}

/**
 * Order statistics of `a[0..n)` at the given ranks (0-based). Ranks are handled in increasing order:
 * after selecting rank k, every larger rank lies to its right, so each later search is on a suffix.
 */
function orderStatistics(a: Float64Array, n: number, ranks: number[]): number[] {
  const order = ranks.map((k, i) => ({ k, i })).sort((p, q) => p.k - q.k);
  const out = new Array<number>(ranks.length);
  let lo = 0;
  let prevK = -1;
  let prevV = Number.NaN;
  for (const { k, i } of order) {
    if (k !== prevK) {
      prevV = selectKth(a, lo, n - 1, k);
      prevK = k;
      lo = k + 1;
    }
    out[i] = prevV;
  }
  return out;
}

/**
 * Theil–Sen line of y on x with Sen's 95% slope interval; missing values dropped pairwise.
 * Not computable with fewer than 3 complete pairs or a constant x or y.
 */
export function theilSen(x: NumericInput, y: NumericInput): Result<TheilSenResult> {
  const { x: xs, y: ys } = pairwiseComplete(x, y);
  const n = xs.length;
  if (n < 3) return notComputable('too-few', n);
  if (isConstant(xs) || isConstant(ys)) return notComputable('constant', n);
  return { ok: true, ...theilSenOf(xs, ys), n };
}
