// Spearman correlation of one pair of prepared series at one lag, for the scan.
import { clampUnit, rootProduct } from './pearson';
import { sortIndicesByValue } from './ranks';
import type { PairOutcome, Prepared, RankData } from './scanSeries';

/** Buffers reused across the pairs of one scan (no per-pair allocation). */
export interface Scratch {
  /** Excluded flags by sort position, for each side. */
  exA: Uint8Array;
  exB: Uint8Array;
  /** y's centred subset ranks by sort position (0 where excluded), plus a 0 at index m for absent days. */
  table: Float64Array;
  /** Two sums handed back by walkTies. */
  sums: Float64Array;
}

/** Scratch buffers for a grid of T days. */
export function spearmanScratch(T: number): Scratch {
  return {
    exA: new Uint8Array(T),
    exB: new Uint8Array(T),
    table: new Float64Array(T + 1),
    sums: new Float64Array(2),
  };
}

// Lags are at most 7 days: the position array extends that far past the grid, so a partner day beyond
// the end reads the "absent" sentinel instead of going out of bounds.
const MAX_LAG = 7;

/** Sort order of a series' present days, with positions and tie groups (cached on the series). */
function ranksOf(s: Prepared): RankData {
  if (s.ranks) return s.ranks;
  const raw = s.raw;
  let m = 0;
  for (let d = s.first; d <= s.last; d++) if (!Number.isNaN(raw[d]!)) m++;
  const order = new Int32Array(m);
  m = 0;
  for (let d = s.first; d <= s.last; d++) if (!Number.isNaN(raw[d]!)) order[m++] = d;
  sortIndicesByValue(order, raw);
  const groupEnd = new Int32Array(m);
  let ties = false;
  for (let p = m - 1; p >= 0; p--) {
    const tied = p + 1 < m && raw[order[p + 1]!] === raw[order[p]!];
    if (tied) ties = true;
    groupEnd[p] = tied ? groupEnd[p + 1]! : p;
  }
  const pos = new Int32Array(raw.length + MAX_LAG).fill(m);
  for (let p = 0; p < m; p++) pos[order[p]!] = p;
  s.ranks = { order, pos, groupEnd, ties };
  return s.ranks;
}

/** Flags the sort positions of the present days d0 ≤ d ≤ d1 of a series (positions of absent days are m). */
function markSpan(pos: Int32Array, m: number, ex: Uint8Array, d0: number, d1: number): number {
  let marked = 0;
  for (let d = d0; d <= d1; d++) {
    const p = pos[d]!;
    if (p !== m) {
      ex[p] = 1;
      marked++;
    }
  }
  return marked;
}

/**
 * Flags the sort positions of a series' present days whose partner is one of `partnerMissing`, shifted by
 * `shift` days (partner day − own day), for partner days in [lo, hi].
 */
function markPartnerMissing(
  pos: Int32Array,
  m: number,
  ex: Uint8Array,
  partnerMissing: Int32Array,
  shift: number,
  lo: number,
  hi: number,
): number {
  let marked = 0;
  for (let k = 0; k < partnerMissing.length; k++) {
    const e = partnerMissing[k]!;
    if (e < lo || e > hi) continue;
    const p = pos[e - shift]!;
    if (p !== m) {
      ex[p] = 1;
      marked++;
    }
  }
  return marked;
}

/**
 * Writes y's subset mid-ranks, centred on the subset mean, by sort position into `table` and returns their
 * sum of squares over the kept positions. Entries of excluded positions are never read (see spearmanPair)
 * and are left as they fall; table[m] = 0 is what absent days read. For a tie group spanning sort positions [p, q] with c
 * excluded before p and e inside, the 0-based mid-rank is (p − c) + (q − p − e)/2. Without ties the ranks
 * are 0..n−1 and Σ(r − r̄)² = n(n² − 1)/12.
 */
function buildTable(rk: RankData, ex: Uint8Array, n: number, table: Float64Array): number {
  const m = rk.order.length;
  const centre = (n - 1) / 2;
  table[m] = 0;
  if (!rk.ties) {
    let c = 0;
    for (let p = 0; p < m; p++) {
      table[p] = p - c - centre;
      c += ex[p]!;
    }
    return (n * (n * n - 1)) / 12;
  }
  const groupEnd = rk.groupEnd;
  let c = 0;
  let ss = 0;
  let p = 0;
  while (p < m) {
    const q = groupEnd[p]!;
    let e = 0;
    for (let t = p; t <= q; t++) e += ex[t]!;
    const kept = q - p + 1 - e;
    const r = p - c + (kept - 1) / 2 - centre;
    for (let t = p; t <= q; t++) table[t] = r;
    ss += kept * r * r;
    c += e;
    p = q + 1;
  }
  return ss;
}

/**
 * Σ rank_x · table(partner) walking x's sort order when x has no ties: the rank is the position minus the
 * excluded positions before it. Four sums, so that consecutive additions do not wait on each other.
 */
function walk(rk: RankData, ex: Uint8Array, posY: Int32Array, lag: number, table: Float64Array): number {
  const { order } = rk;
  const m = order.length;
  let c = 0;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let p = 0;
  for (; p + 3 < m; p += 4) {
    s0 += (p - c) * table[posY[order[p]! + lag]!]!;
    c += ex[p]!;
    s1 += (p + 1 - c) * table[posY[order[p + 1]! + lag]!]!;
    c += ex[p + 1]!;
    s2 += (p + 2 - c) * table[posY[order[p + 2]! + lag]!]!;
    c += ex[p + 2]!;
    s3 += (p + 3 - c) * table[posY[order[p + 3]! + lag]!]!;
    c += ex[p + 3]!;
  }
  for (; p < m; p++) {
    s0 += (p - c) * table[posY[order[p]! + lag]!]!;
    c += ex[p]!;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * The same walk when x has ties: per tie group, the kept count gives the group's centred mid-rank and the
 * partners' table entries are summed once. Writes Σ rank_x · table into out[0] and Σ rank_x² into out[1].
 */
function walkTies(
  rk: RankData,
  ex: Uint8Array,
  posY: Int32Array,
  lag: number,
  table: Float64Array,
  n: number,
  out: Float64Array,
): void {
  const { order, groupEnd } = rk;
  const m = order.length;
  const centre = (n - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let c = 0;
  let p = 0;
  while (p < m) {
    const q = groupEnd[p]!;
    let e = 0;
    let g = 0;
    for (let t = p; t <= q; t++) {
      e += ex[t]!;
      g += table[posY[order[t]! + lag]!]!;
    }
    const kept = q - p + 1 - e;
    const r = p - c + (kept - 1) / 2 - centre;
    sxy += r * g;
    sxx += kept * r * r;
    c += e;
    p = q + 1;
  }
  out[0] = sxy;
  out[1] = sxx;
}

/**
 * Spearman ρ for x = a on day d, y = b on day d + lag: Pearson r of the average ranks within the
 * pairwise-complete days, in two sequential passes and no sorting:
 * 1. y's subset ranks by sort position (buildTable), from its presorted order and the excluded flags;
 * 2. a walk through x's presorted order keeping x's subset rank as a running count, multiplying it by the
 *    table entry of the partner day. An excluded x day has an absent partner (missing, or past y's first or
 *    last day), whose entry is the 0 at table[m]; a kept x day's partner is a kept y day. So Σ rank_x ·
 *    rank_y covers exactly the paired days, and y's excluded entries are never read. y's ranks are
 *    centred, so x's need not be.
 * All sums are of integers and half-integers below 2⁵³, so they are exact.
 */
export function spearmanPair(
  a: Prepared,
  b: Prepared,
  lag: number,
  minN: number,
  scratch: Scratch,
): PairOutcome {
  const d0 = Math.max(a.first, b.first - lag);
  const d1 = Math.min(a.last, b.last - lag);
  if (d1 < d0) return { kind: 'skip', reason: 'too-few', n: 0 };
  const e0 = d0 + lag;
  const e1 = d1 + lag;
  const ka = ranksOf(a);
  const kb = ranksOf(b);
  const ma = ka.order.length;
  const mb = kb.order.length;
  const { exA, exB, table } = scratch;
  exA.fill(0, 0, ma);
  exB.fill(0, 0, mb);
  // Present days outside the common span, then present days in it whose partner is missing (disjoint sets,
  // so the counts add up).
  const n =
    ma -
    markSpan(ka.pos, ma, exA, a.first, d0 - 1) -
    markSpan(ka.pos, ma, exA, d1 + 1, a.last) -
    markPartnerMissing(ka.pos, ma, exA, b.missing, lag, e0, e1);
  markSpan(kb.pos, mb, exB, b.first, e0 - 1);
  markSpan(kb.pos, mb, exB, e1 + 1, b.last);
  markPartnerMissing(kb.pos, mb, exB, a.missing, -lag, d0, d1);
  if (n < minN) return { kind: 'skip', reason: 'too-few', n };
  const sbb = buildTable(kb, exB, n, table);
  let sab: number;
  let saa: number;
  if (ka.ties) {
    walkTies(ka, exA, kb.pos, lag, table, n, scratch.sums);
    sab = scratch.sums[0]!;
    saa = scratch.sums[1]!;
  } else {
    sab = walk(ka, exA, kb.pos, lag, table);
    saa = (n * (n * n - 1)) / 12;
  }
  // A subset in a single tie group has every centred rank exactly 0.
  if (saa === 0 || sbb === 0) return { kind: 'skip', reason: 'constant', n };
  return { kind: 'ok', n, r: clampUnit(sab / rootProduct(saa, sbb)) };
}
