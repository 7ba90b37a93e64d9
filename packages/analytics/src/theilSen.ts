// Theil–Sen robust line.
import { normalQuantile } from './distributions';
import { ofUsablePairs } from './pearson';
import type { IndexComparator, InversionVisitor } from './ranks';
import { mergeSortCounting, tieGroups } from './ranks';
import { selectKth } from './select';
import { median } from './summary';
import type { Interval, NumericInput, Result } from './types';

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
 * Exact on any input in O(n) memory (slopeOrderStatistics); expected time O(n log n) per order statistic.
 */
export function theilSenOf(xs: ArrayLike<number>, ys: ArrayLike<number>): Omit<TheilSenResult, 'n'> {
  const n = xs.length;
  let tiesSum = 0;
  let tiedPairsX = 0;
  for (const t of tieGroups(xs)) {
    tiesSum += t * (t - 1) * (2 * t + 5);
    tiedPairsX += (t * (t - 1)) / 2;
  }
  for (const t of tieGroups(ys)) tiesSum += t * (t - 1) * (2 * t + 5);
  const nt = (n * (n - 1)) / 2 - tiedPairsX; // slopes with xᵢ ≠ xⱼ
  const sigma = Math.sqrt((n * (n - 1) * (2 * n + 5) - tiesSum) / 18);
  const z = -normalQuantile(0.025);
  const upper = Math.min(roundHalfEven((nt + z * sigma) / 2), nt - 1);
  const lower = Math.max(roundHalfEven((nt - z * sigma) / 2) - 1, 0);
  const mid = Math.floor(nt / 2); // nt can pass 2³¹ (n > 65,536), so no >> 1
  const [lo, m1, m2, hi] = slopeOrderStatistics(xs, ys, nt, [
    lower,
    nt % 2 === 1 ? mid : mid - 1,
    mid,
    upper,
  ]);
  const slope = (m1! + m2!) / 2;
  return { slope, intercept: median(ys) - slope * median(xs), slopeCI95: [lo!, hi!] };
}

// Up to this many slopes are simply materialised (256 KB); above it nothing of size O(n²) is allocated.
const ALL_SLOPES_MAX = 32_768;

/**
 * The order statistics (0-based ranks) of the N slopes (yⱼ − yᵢ)/(xⱼ − xᵢ), xᵢ ≠ xⱼ, exactly as a sort
 * of all of them would give, in O(n) memory: all slopes for small N, otherwise randomized selection
 * over inversion counts (SlopeSelector), with an exact O(n²)-time streaming pass as the last resort.
 */
export function slopeOrderStatistics(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  nt: number,
  ranks: number[],
): number[] {
  if (nt <= ALL_SLOPES_MAX) return allSlopesOrderStatistics(xs, ys, nt, ranks);
  const selector = new SlopeSelector(xs, ys, nt);
  const out = new Array<number>(ranks.length);
  // Ranks next to each other (the two middle slopes) are found together, the interval ends alone.
  const sorted = ranks.map((k, i) => ({ k, i })).sort((p, q) => p.k - q.k);
  for (let g = 0; g < sorted.length; ) {
    let e = g;
    while (e + 1 < sorted.length && sorted[e + 1]!.k - sorted[g]!.k <= 1) e++;
    const group = sorted.slice(g, e + 1);
    const ks = group.map((r) => r.k);
    // A pair split by a run of equal slopes is settled one rank at a time.
    const values =
      selector.select(ks) ??
      ks.map((k) => (ks.length > 1 ? selector.select([k])?.[0] : undefined) ?? selector.streamingSelect(k));
    for (let m = 0; m < group.length; m++) out[group[m]!.i] = values[m]!;
    g = e + 1;
  }
  return out;
}

/** Order statistics by materialising every slope (nt of them) and selecting (Floyd–Rivest) in place. */
function allSlopesOrderStatistics(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  nt: number,
  ranks: number[],
): number[] {
  const n = xs.length;
  // nt, not n(n − 1)/2: with x mostly tied, few pairs are slopes however large n is.
  const slopes = buffer(nt);
  let k = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = xs[i]!;
    const yi = ys[i]!;
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xi;
      // + 0 turns −0 (equal y, decreasing x) into +0, as scipy's orientation with Δx > 0 gives.
      if (dx !== 0) slopes[k++] = (ys[j]! - yi) / dx + 0;
    }
  }
  return orderStatistics(slopes, nt, ranks);
}

const U = 2 ** -53;
// Relative error of a computed slope fl(fl(Δy)/fl(Δx)) against the exact Δy/Δx of the inputs is ≤ 3u;
// with subnormal quotients add an absolute 2⁻¹⁰⁷⁴. The checks below use more than twice that.
const SLACK_REL = 16 * U;
const SLACK_ABS = 2 ** -1060;
// Dekker's split is exact below this magnitude and the product's error term is not subnormal above it.
const SPLIT_MAX = 2 ** 995;
const PRODUCT_MIN = 2 ** -960;

/**
 * Randomized slope selection (Matoušek 1991; Dillencourt, Mount & Netanyahu 1992) without storing the
 * slopes. With the points sorted by (x, y), a pair i < j with xᵢ < xⱼ has exact slope q < t exactly
 * when wⱼ < wᵢ for w = y − t·x, so a merge sort by w counts the slopes below t as its inversions, and
 * equal-x pairs are never inverted. Comparisons of w are exact: a float filter with the exact error
 * terms of t·x (Dekker) and of the subtraction (Knuth's TwoSum), and BigInt arithmetic when the filter
 * cannot decide, so the counts are those of the exact slopes q of the input values.
 *
 * The target stays in a band a ≤ q < b (or a < q < b) whose count is known. A merge of the w(a) order by
 * w(b) lists the band's pairs as runs of inversions, from which random pairs are drawn; quantiles of
 * ~n drawn slopes give two new thresholds, and counting at them shrinks the band by a factor ~√n. Once
 * the band has ≤ 8n pairs their slopes are listed and selected. Each round is O(n log n) expected time
 * and O(n) memory; a round is rarely needed more than three times.
 *
 * The computed slope fl(fl(Δy)/fl(Δx)) is a monotone function of q when every difference of x and of y
 * is exact, so then the selected slopes are exactly those of a sort of the computed slopes. Otherwise
 * the result is accepted only if it lies farther from the band's ends than rounding can move a slope.
 * A band that cannot shrink because its slopes lie within a few ulps of each other (a run of equal
 * exact slopes, or an exactly linear series of decimals) is finished by counting its computed slopes
 * by value in one merge: O(n log n + band) time, which is O(n²) only for such series. Whatever is left
 * unproven goes to streamingSelect.
 */
export class SlopeSelector {
  private readonly n: number;
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  /** Pairs equal in both x and y: tied in w at every threshold, but not slopes. */
  private readonly sameXY: number;
  private readonly exactDifferences: boolean;
  private readonly budget: number;
  private readonly h: Float64Array;
  private readonly low: Float64Array;
  private readonly err: Float64Array;
  private readonly radius: Float64Array;
  private big: (bigint | undefined)[] = [];
  private tBig = 0n;
  private orderA: Int32Array;
  private work: Int32Array;
  private readonly scratch: Int32Array;
  private readonly tieEnds: Int32Array;
  private tieGroups = 0;
  private seed = 0x2545f491;

  constructor(
    xs: ArrayLike<number>,
    ys: ArrayLike<number>,
    private readonly total: number,
  ) {
    const n = xs.length;
    this.n = n;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    this.scratch = new Int32Array(n);
    this.tieEnds = new Int32Array(n);
    this.work = new Int32Array(n);
    this.orderA = new Int32Array(n);
    this.sortBy(order, (u, v) => xs[u]! - xs[v]! || ys[u]! - ys[v]!);
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.x[i] = xs[order[i]!]!;
      this.y[i] = ys[order[i]!]!;
    }
    let sameXY = 0;
    for (let i = 0, run = 0; i < n; i++) {
      run = i > 0 && this.x[i] === this.x[i - 1] && this.y[i] === this.y[i - 1] ? run + 1 : 0;
      sameXY += run;
    }
    this.sameXY = sameXY;
    this.exactDifferences = differencesExact(this.x) && differencesExact(this.y);
    this.budget = Math.max(16_384, 8 * n);
    this.h = new Float64Array(n);
    this.low = new Float64Array(n);
    this.err = new Float64Array(n);
    this.radius = new Float64Array(n);
  }

  /** Deterministic xorshift32 in [0, 1) with 53 random bits: the answers are exact either way. */
  private random(): number {
    let hi = 0;
    for (let r = 0; r < 2; r++) {
      this.seed ^= this.seed << 13;
      this.seed ^= this.seed >>> 17;
      this.seed ^= this.seed << 5;
      hi = r === 0 ? (this.seed >>> 0) & 0x1fffff : hi * 4294967296 + (this.seed >>> 0);
    }
    return hi / 2 ** 53;
  }

  private slope(u: number, v: number): number {
    // (a − b)/(c − d) and (b − a)/(d − c) round alike, so the orientation does not matter; + 0 as above.
    return (this.y[v]! - this.y[u]!) / (this.x[v]! - this.x[u]!) + 0;
  }

  /** Sign of w(t)ᵤ − w(t)ᵥ, exact; t = ±∞ orders by x (descending for +∞), then by y. */
  private comparator(t: number): IndexComparator {
    const { x, y, h, low, err, radius } = this;
    if (t === -Infinity) return (u, v) => x[u]! - x[v]! || y[u]! - y[v]!;
    if (t === Infinity) return (u, v) => x[v]! - x[u]! || y[u]! - y[v]!;
    const tSafe = Math.abs(t) < SPLIT_MAX;
    for (let i = 0; i < this.n; i++) {
      const xi = x[i]!;
      const p = t * xi;
      let e = 0;
      let safe = tSafe && Math.abs(xi) < SPLIT_MAX;
      if (p !== 0 && safe) {
        safe = Math.abs(p) > PRODUCT_MIN && Math.abs(p) < SPLIT_MAX;
        e = productError(t, xi, p);
      }
      const hi = y[i]! - p;
      const bv = hi - y[i]!;
      const l = y[i]! - (hi - bv) + (-p - bv); // TwoSum: y − p = hi + l exactly
      h[i] = hi;
      low[i] = l;
      err[i] = e; // t·x = p + e exactly, so w = hi + l − e
      radius[i] = safe && Number.isFinite(hi) && Number.isFinite(l) ? Math.abs(l) + Math.abs(e) : Infinity;
    }
    this.big = [];
    this.tBig = toBig(t);
    return (u, v) => {
      const d = h[u]! - h[v]!;
      const r = radius[u]! + radius[v]!;
      // |w − h| ≤ radius; the factor 2 covers the rounding of d and of the radii.
      if (r === 0 || Math.abs(d) > 2 * r) return d;
      const diff = this.exactW(u) - this.exactW(v);
      return diff > 0n ? 1 : diff < 0n ? -1 : 0;
    };
  }

  /** y − t·x exactly, scaled by 2²¹⁴⁸. */
  private exactW(i: number): bigint {
    let w = this.big[i];
    if (w === undefined) {
      w = (toBig(this.y[i]!) << 1074n) - this.tBig * toBig(this.x[i]!);
      this.big[i] = w;
    }
    return w;
  }

  /** Stable merge sort of `order` by `cmp` (mergeSortCounting), returning the strict inversions. */
  private sortBy(order: Int32Array, cmp: IndexComparator, visit?: InversionVisitor): number {
    return mergeSortCounting(order, cmp, visit, this.scratch);
  }

  /**
   * Slopes below t (lt) and at most t (le), exact in the input values; the order of the points by w(t),
   * equal w in x order, is left in `this.work`, and its groups of equal w in `this.tieEnds`.
   */
  private count(t: number): { lt: number; le: number } {
    const order = this.work;
    for (let i = 0; i < this.n; i++) order[i] = i;
    const cmp = this.comparator(t);
    const lt = this.sortBy(order, cmp);
    let tied = 0;
    let groups = 0;
    for (let i = 0; i < this.n; ) {
      let e = i + 1;
      while (e < this.n && cmp(order[e]!, order[i]!) === 0) e++;
      tied += ((e - i) * (e - i - 1)) / 2;
      this.tieEnds[groups++] = e;
      i = e;
    }
    this.tieGroups = groups;
    return { lt, le: lt + tied - this.sameXY };
  }

  /** Reverses the groups of equal w in the order just counted: the order for a bound "q > t". */
  private reverseTies(): void {
    for (let g = 0, start = 0; g < this.tieGroups; g++) {
      const end = this.tieEnds[g]!;
      if (end - start > 1) this.work.subarray(start, end).reverse();
      start = end;
    }
  }

  /** Makes the order just counted (in `this.work`) the band's lower-bound order. */
  private adoptLower(): void {
    const swap = this.orderA;
    this.orderA = this.work;
    this.work = swap;
  }

  /**
   * The pairs of the band (lower bound given by `this.orderA`, q < b): merging the w(a) order by w(b)
   * inverts exactly them. Writes the slopes of all of them, or of those at the sorted positions
   * `picks`, into `out`; returns how many pairs the band holds.
   */
  private band(b: number, picks: Float64Array | null, out: Float64Array): number {
    const order = this.work;
    order.set(this.orderA);
    let seen = 0;
    let p = 0;
    let len = 0;
    const visit: InversionVisitor = (right, from, start, end) => {
      if (picks === null) {
        if (len + end - start > out.length) throw new Error('Theil–Sen band larger than its count');
        for (let t = start; t < end; t++) out[len++] = this.slope(from[t]!, right);
      } else {
        for (; p < picks.length && picks[p]! < seen + end - start; p++) {
          out[len++] = this.slope(from[start + picks[p]! - seen]!, right);
        }
      }
      seen += end - start;
    };
    return this.sortBy(order, this.comparator(b), visit);
  }

  /** Whether every slope outside the band [a, b) is on the right side of v despite rounding. */
  private clearOfEnds(v: number, a: number, b: number): boolean {
    // Below a threshold 0 every slope is ≤ 0 and above it ≥ 0, exactly.
    const aOk = a === -Infinity || a === 0 || v >= a + SLACK_REL * Math.abs(a) + SLACK_ABS;
    const bOk = b === Infinity || b === 0 || v <= b - SLACK_REL * Math.abs(b) - SLACK_ABS;
    return aOk && bOk;
  }

  /**
   * The slopes of ranks ks (sorted, within one or two of each other), or null when rounding leaves the
   * result unproven (the caller then streams).
   */
  select(ks: number[]): number[] | null {
    const k1 = ks[0]!;
    const k2 = ks[ks.length - 1]!;
    for (let i = 0; i < this.n; i++) this.orderA[i] = i; // w(−∞): x order
    let a = -Infinity;
    let A = 0;
    let b = Infinity;
    let B = this.total;
    for (let round = 0; round < 40; round++) {
      const m = B - A;
      if (m <= this.budget) {
        const slopes = new Float64Array(m);
        if (this.band(b, null, slopes) !== m) throw new Error('Theil–Sen band count mismatch');
        const out = orderStatistics(
          slopes,
          m,
          ks.map((k) => k - A),
        );
        if (this.exactDifferences || out.every((v) => this.clearOfEnds(v, a, b))) return out;
        return this.finish(ks, Math.min(...out), Math.max(...out));
      }
      // Draw random pairs of the band and take their slope quantiles around the targets as thresholds.
      const size = Math.min(m, Math.max(2048, this.n));
      const picks = new Float64Array(size);
      for (let i = 0; i < size; i++) picks[i] = Math.floor(this.random() * m);
      picks.sort();
      const sample = new Float64Array(size);
      if (this.band(b, picks, sample) !== m) throw new Error('Theil–Sen band count mismatch');
      sample.sort();
      const position = (k: number, side: -1 | 1) => {
        const f = (k - A + (side + 1) / 2) / m;
        return f * size + side * (3 * Math.sqrt(size * f * (1 - f)) + 2);
      };
      const pLo = Math.floor(position(k1, -1));
      const pHi = Math.ceil(position(k2, 1));
      // Thresholds at the sampled slopes (clamped to the sample), and one just above the upper one so
      // that a run of equal slopes below the targets can be cut off.
      const tLo = sample[Math.max(pLo, 0)]!;
      const tHi = sample[Math.min(pHi, size - 1)]!;
      for (const t of [tLo, tHi, adjacentFloat(tHi, 1)]) {
        if (!(t >= a && t < b) || (t > tHi && !(a >= tHi))) continue;
        const { lt, le } = this.count(t);
        if (k2 < lt) {
          b = t;
          B = lt;
        } else if (k1 >= le) {
          this.reverseTies();
          this.adoptLower();
          a = t;
          A = le;
        } else if (k1 >= lt) {
          // Every target's exact slope equals t: so do their computed slopes when the differences are
          // exact, and for t = 0 always (the sign of a difference is exact).
          if (k2 < le) return this.exactDifferences || t === 0 ? ks.map(() => t) : this.finish(ks, t, t);
          this.adoptLower();
          a = t;
          A = lt;
        }
      }
      // Thresholds are doubles, and sampled slopes are rounded: exact slopes between two adjacent
      // doubles, or whose computed slopes are all within a few ulps, cannot be split further.
      if (B - A === m) {
        const narrow = (lo: number, hi: number) => hi - lo <= SLACK_REL * Math.max(-lo, lo, hi, -hi);
        if (Number.isFinite(a) && Number.isFinite(b) && narrow(a, b))
          return this.finish(ks, a, adjacentFloat(b, -1));
        if (narrow(tLo, tHi)) return this.finish(ks, tLo, tHi);
      }
    }
    return null;
  }

  /**
   * End-game when the target slopes lie in [lo, hi] up to rounding and the band cannot (or need not)
   * be narrowed: counts every computed slope of the pairs with exact slope within rounding reach of
   * [lo, hi] by value, in one merge (O(n log n + pairs) time, memory O(distinct values)). Null if
   * the values are too many or a result is within rounding reach of the ends.
   */
  private finish(ks: number[], lo: number, hi: number): number[] | null {
    const a = lo - 2 * (SLACK_REL * Math.abs(lo) + SLACK_ABS);
    const b = hi + 2 * (SLACK_REL * Math.abs(hi) + SLACK_ABS);
    const B = this.count(b).lt;
    const A = this.count(a).lt;
    this.adoptLower();
    if (!(A <= ks[0]! && ks[ks.length - 1]! < B)) return null;
    const counts = new ValueCounts(
      a - (SLACK_REL * Math.abs(a) + SLACK_ABS),
      b + (SLACK_REL * Math.abs(b) + SLACK_ABS),
      this.budget,
    );
    const order = this.work;
    order.set(this.orderA);
    this.sortBy(order, this.comparator(b), (right, from, start, end) => {
      for (let t = start; t < end; t++) counts.add(this.slope(from[t]!, right));
    });
    const entries = counts.sorted();
    if (entries === null) return null;
    const out: number[] = [];
    let rank = A;
    let next = 0;
    for (const [v, c] of entries) {
      rank += c;
      while (next < ks.length && ks[next]! < rank) {
        if (!this.clearOfEnds(v, a, b)) return null;
        out.push(v);
        next++;
      }
    }
    return next === ks.length ? out : null;
  }

  /**
   * The slope of rank k by passes over all pairs (O(n²) time, O(n) memory) comparing the computed slopes
   * themselves, so exact whatever the rounding. Each pass counts the slopes below and inside a trial
   * interval and keeps them (when few) or a random sample of them, whose quantiles set the next interval.
   */
  streamingSelect(k: number): number {
    const { n, x, y } = this;
    // The answer lies in [lower, upper], with `below` slopes under `lower`; [lo, hi] is the trial.
    let lower = -Infinity;
    let upper = Infinity;
    let below = 0;
    let lo = lower;
    let hi = upper;
    const reservoir = new Float64Array(4096);
    const kept = new Float64Array(this.budget);
    for (;;) {
      let under = 0;
      let inside = 0;
      for (let i = 0; i < n - 1; i++) {
        for (let j = i + 1; j < n; j++) {
          const dx = x[j]! - x[i]!;
          if (dx === 0) continue;
          const s = (y[j]! - y[i]!) / dx + 0;
          if (s < lower || s > upper) continue;
          if (s < lo) under++;
          else if (s <= hi) {
            if (inside < kept.length) kept[inside] = s;
            const slot = inside < reservoir.length ? inside : Math.floor(this.random() * (inside + 1));
            if (slot < reservoir.length) reservoir[slot] = s;
            inside++;
          }
        }
      }
      const r = k - below - under;
      if (r < 0 || r >= inside) {
        // The trial missed: keep the side holding the answer, whole.
        if (r < 0) upper = adjacentFloat(lo, -1);
        else {
          below += under + inside;
          lower = adjacentFloat(hi, 1);
        }
        lo = lower;
        hi = upper;
        continue;
      }
      if (lo === hi) return lo;
      if (inside <= kept.length) return selectKth(kept, 0, inside - 1, r);
      below += under;
      lower = lo;
      upper = hi;
      const size = Math.min(inside, reservoir.length);
      const sample = reservoir.subarray(0, size).sort();
      const f1 = r / inside;
      const f2 = (r + 1) / inside;
      const pLo = Math.floor(f1 * size - 3 * Math.sqrt(size * f1 * (1 - f1)) - 2);
      const pHi = Math.ceil(f2 * size + 3 * Math.sqrt(size * f2 * (1 - f2)) + 2);
      lo = sample[Math.max(pLo, 0)]!;
      hi = sample[Math.min(pHi, size - 1)]!;
    }
  }
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const I64 = new BigInt64Array(F64.buffer);

/**
 * Counts of the values added, all expected within [low, high]: in an array indexed by ulps when the range
 * lies in one binade (exact: same-binade differences are exact), otherwise in a Map of at most `limit`
 * keys. sorted() gives [value, count] ascending, or null when a value fell outside or there were too many.
 */
class ValueCounts {
  private readonly base: number;
  private readonly ulp: number;
  private readonly sign: number;
  private readonly array: Float64Array | null;
  private readonly map = new Map<number, number>();
  private failed = false;

  constructor(
    low: number,
    high: number,
    private readonly limit: number,
  ) {
    const sign = low > 0 ? 1 : high < 0 ? -1 : 0;
    const exp = sign === 0 ? -1 : binadeOf(low);
    this.sign = sign;
    this.base = Math.min(sign * low, sign * high);
    this.ulp = 2 ** (exp - 1075);
    const size = (Math.max(sign * low, sign * high) - this.base) / this.ulp + 1;
    const oneBinade = exp > 0 && exp < 0x7ff && exp === binadeOf(high);
    this.array = oneBinade && size <= limit ? new Float64Array(size) : null;
  }

  add(v: number): void {
    if (this.array !== null) {
      const i = (this.sign * v - this.base) / this.ulp;
      if (i >= 0 && i < this.array.length) this.array[i]!++;
      else this.failed = true;
    } else if (this.map.size <= this.limit) this.map.set(v, (this.map.get(v) ?? 0) + 1);
  }

  sorted(): [number, number][] | null {
    if (this.failed || this.map.size > this.limit) return null;
    if (this.array === null) return [...this.map].sort((p, q) => p[0] - q[0]);
    const out: [number, number][] = [];
    for (let i = 0; i < this.array.length; i++) {
      if (this.array[i]! > 0) out.push([this.sign * (this.base + i * this.ulp), this.array[i]!]);
    }
    return this.sign < 0 ? out.reverse() : out;
  }
}

/** The biased exponent field of a double (0 for subnormals and ±0). */
function binadeOf(v: number): number {
  F64[0] = v;
  return (U32[1]! >>> 20) & 0x7ff;
}

/** v·2¹⁰⁷⁴ as an exact integer (every finite double is a multiple of 2⁻¹⁰⁷⁴). */
function toBig(v: number): bigint {
  if (v === 0) return 0n;
  F64[0] = v;
  const bits = I64[0]!;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const mantissa = bits & 0xfffffffffffffn;
  const r = exp === 0 ? mantissa : (mantissa | (1n << 52n)) << BigInt(exp - 1);
  return bits < 0n ? -r : r;
}

/** Error of the rounded product p = fl(a·b): a·b = p + e exactly (Dekker 1971, Veltkamp splitting). */
function productError(a: number, b: number, p: number): number {
  const ca = 134217729 * a;
  const aHi = ca - (ca - a);
  const aLo = a - aHi;
  const cb = 134217729 * b;
  const bHi = cb - (cb - b);
  const bLo = b - bHi;
  return aLo * bLo - (p - aHi * bHi - aLo * bHi - aHi * bLo);
}

/** Exponent of the lowest set bit of a finite non-zero double. */
function lowestBitExponent(v: number): number {
  F64[0] = v;
  const exp = (U32[1]! >>> 20) & 0x7ff;
  const low = U32[0]!;
  const high = (U32[1]! & 0xfffff) | (exp === 0 ? 0 : 0x100000);
  const zeros = low !== 0 ? 31 - Math.clz32(low & -low) : 32 + 31 - Math.clz32(high & -high);
  return (exp === 0 ? -1074 : exp - 1075) + zeros;
}

/**
 * Whether every difference of two values is exact in floating point: all non-zero values of one sign
 * within a factor of 2 (Sterbenz 1974), or all multiples of one power of two 2^g with 2·max|v| ≤ 2^(53+g).
 * Differences with 0 are always exact.
 */
function differencesExact(values: Float64Array): boolean {
  let min = Infinity;
  let max = 0;
  let positive = false;
  let negative = false;
  let grain = Infinity;
  for (const v of values) {
    if (v === 0) continue;
    const a = Math.abs(v);
    min = Math.min(min, a);
    max = Math.max(max, a);
    if (v > 0) positive = true;
    else negative = true;
    grain = Math.min(grain, lowestBitExponent(v));
  }
  if (max === 0 || (!(positive && negative) && max <= 2 * min)) return true;
  return 2 * max <= 2 ** (53 + grain);
}

/** The next double above (direction 1) or below (−1) a finite v. */
function adjacentFloat(v: number, direction: 1 | -1): number {
  if (v === 0) return direction * Number.MIN_VALUE;
  F64[0] = v;
  I64[0] = I64[0]! + (v > 0 === direction > 0 ? 1n : -1n);
  return F64[0]!;
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
  return ofUsablePairs(x, y, (xs, ys, n) => ({ ...theilSenOf(xs, ys), n }));
}
