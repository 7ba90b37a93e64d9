// Spearman correlation of one pair of prepared series at one lag, for the scan.
import { clampUnit, rootProduct } from './pearson';
import { sortIndicesByValue } from './ranks';
import type { PairOutcome, Prepared, RankData } from './scanSeries';
import { dot } from './scanSeries';

/** Buffers reused across the pairs of one scan (no per-pair allocation). */
export interface Scratch {
  exA: Uint8Array;
  exB: Uint8Array;
  /** Sort positions of the excluded days of each side. */
  listA: Int32Array;
  listB: Int32Array;
  rankA: Float64Array;
  rankB: Float64Array;
}

/** Scratch buffers for a grid of T days. */
export function spearmanScratch(T: number): Scratch {
  return {
    exA: new Uint8Array(T),
    exB: new Uint8Array(T),
    listA: new Int32Array(T),
    listB: new Int32Array(T),
    rankA: new Float64Array(T),
    rankB: new Float64Array(T),
  };
}

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
  const pos = new Int32Array(raw.length).fill(-1);
  for (let p = 0; p < m; p++) pos[order[p]!] = p;
  s.ranks = { order, pos, groupEnd, ties };
  return s.ranks;
}

/**
 * Average ranks, centred on (n + 1)/2, of the series' present days that are not excluded, written by day
 * into `out` (0 for excluded days): for a tie group spanning sort positions [p, q] with c excluded before
 * p and e inside, the rank is (p − c) + ((q − p + 1 − e) + 1)/2, exactly the mid-rank within the kept
 * subset. `list` holds the k excluded sort positions (also flagged in `excluded`). Returns Σ(rank − centre)².
 */
function subsetRanks(
  rk: RankData,
  excluded: Uint8Array,
  list: Int32Array,
  k: number,
  centre: number,
  out: Float64Array,
): number {
  const { order, groupEnd } = rk;
  const m = order.length;
  if (!rk.ties) {
    // No ties: ranks run p + 1 − (excluded before p). Walk the runs between excluded positions, and use
    // Σ(r − centre)² = n(n² − 1)/12 for the ranks 1..n.
    sortPrefix(list, k);
    let p = 0;
    for (let e = 0; e <= k; e++) {
      const stop = e < k ? list[e]! : m;
      const shift = 1 - e - centre;
      for (; p < stop; p++) out[order[p]!] = p + shift;
      if (e < k) {
        out[order[stop]!] = 0;
        p = stop + 1;
      }
    }
    const n = m - k;
    return (n * (n * n - 1)) / 12;
  }
  let before = 0;
  let ss = 0;
  let p = 0;
  while (p < m) {
    const q = groupEnd[p]!;
    let ex = 0;
    for (let t = p; t <= q; t++) ex += excluded[t]!;
    const kept = q - p + 1 - ex;
    const r = p - before + (kept + 1) / 2 - centre;
    for (let t = p; t <= q; t++) out[order[t]!] = r * (1 - excluded[t]!);
    ss += kept * r * r;
    before += ex;
    p = q + 1;
  }
  return ss;
}

/** Sorts list[0..k) ascending: insertion sort for the usual few dozen entries, native sort beyond. */
function sortPrefix(list: Int32Array, k: number): void {
  if (k > 64) {
    list.subarray(0, k).sort();
    return;
  }
  for (let i = 1; i < k; i++) {
    const v = list[i]!;
    let j = i - 1;
    while (j >= 0 && list[j]! > v) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = v;
  }
}

/**
 * Spearman ρ for x = a on day d, y = b on day d + lag: Pearson r of the average ranks within the
 * pairwise-complete days. Each side's subset ranks come from its presorted order in O(days) by marking the
 * excluded days (outside the common span, or partner missing) and re-deriving mid-ranks.
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
  const { exA, exB, listA, listB, rankA, rankB } = scratch;
  exA.fill(0, 0, ka.order.length);
  exB.fill(0, 0, kb.order.length);
  let outA = 0;
  let outB = 0;
  const markA = (p: number) => {
    if (p < 0) return;
    exA[p] = 1;
    listA[outA++] = p;
  };
  const markB = (p: number) => {
    if (p < 0) return;
    exB[p] = 1;
    listB[outB++] = p;
  };
  // Present days outside the common span, then present days whose partner is missing.
  for (let d = a.first; d < d0; d++) markA(ka.pos[d]!);
  for (let d = d1 + 1; d <= a.last; d++) markA(ka.pos[d]!);
  for (let e = b.first; e < e0; e++) markB(kb.pos[e]!);
  for (let e = e1 + 1; e <= b.last; e++) markB(kb.pos[e]!);
  for (const e of b.missing) if (e >= e0 && e <= e1) markA(ka.pos[e - lag]!);
  for (const d of a.missing) if (d >= d0 && d <= d1) markB(kb.pos[d + lag]!);
  const n = ka.order.length - outA;
  if (n < minN) return { kind: 'skip', reason: 'too-few', n };
  const centre = (n + 1) / 2;
  const saa = subsetRanks(ka, exA, listA, outA, centre, rankA);
  const sbb = subsetRanks(kb, exB, listB, outB, centre, rankB);
  // A subset in a single tie group has every centred rank exactly 0.
  if (saa === 0 || sbb === 0) return { kind: 'skip', reason: 'constant', n };
  // The by-day rank arrays are shared scratch: zero this pair's missing days, which still hold ranks
  // written for other series, so that Σ rank·rank is a plain dot product over the common span.
  for (const d of a.missing) rankA[d] = 0;
  for (const e of b.missing) rankB[e] = 0;
  const sab = dot(rankA, d0, rankB, e0, d1 - d0 + 1);
  return { kind: 'ok', n, r: clampUnit(sab / rootProduct(saa, sbb)) };
}
