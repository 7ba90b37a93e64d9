// Ranking helpers shared by Spearman, Kruskal–Wallis and the scan.

/** Indices 0..n−1 ordered by value ascending (ties keep their original order). */
export function argsort(values: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(values.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return sortIndicesByValue(idx, values);
}

/** Stable merge sort of `idx` by `values[idx[k]]`, in place (returns `idx`); see mergeSortCounting. */
export function sortIndicesByValue<T extends Uint32Array | Int32Array>(idx: T, values: ArrayLike<number>): T {
  sortCountingInversions(idx, values);
  return idx;
}

/**
 * sortIndicesByValue, returning the number of strict inversions of the order it started from: pairs
 * k < l with values[idx[k]] > values[idx[l]] (equal values are not inversions).
 */
export function sortCountingInversions(idx: Uint32Array | Int32Array, values: ArrayLike<number>): number {
  return mergeSortCounting(idx, (u, v) => values[u]! - values[v]!);
}

/** Sign of the order of two indices: negative when u goes first. */
export type IndexComparator = (u: number, v: number) => number;
/** Sees a merge move `right` past the left-run elements run[start..end): one strict inversion with each. */
export type InversionVisitor = (
  right: number,
  run: Uint32Array | Int32Array,
  start: number,
  end: number,
) => void;

/**
 * Stable bottom-up merge sort of `idx` by `cmp`, in place, returning the strict inversions of the order
 * it started from (pairs k < l with cmp(idx[l], idx[k]) < 0). Each time the merge takes from the right
 * half, the element passes over every element left in the left half (Knuth, TAOCP vol. 3 §5.1.1; the
 * counting step of Knight 1966, JASA 61:436); `visit` is told of each such run. A hand-written merge is
 * several times faster than Array.prototype.sort with a comparator for the ~1,000-element arrays the
 * scan sorts. `scratch` (idx.length long) saves an allocation per call.
 */
export function mergeSortCounting<T extends Uint32Array | Int32Array>(
  idx: T,
  cmp: IndexComparator,
  visit?: InversionVisitor,
  scratch: T = idx.slice() as T,
): number {
  const n = idx.length;
  let a: Uint32Array | Int32Array = idx;
  let b: Uint32Array | Int32Array = scratch;
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const right = a[j]!;
        // Taking from the left on ties keeps the sort stable and equal elements from counting.
        if (cmp(right, a[i]!) < 0) {
          inversions += mid - i;
          visit?.(right, a, i, mid);
          b[k++] = right;
          j++;
        } else b[k++] = a[i++]!;
      }
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
    }
    const t = a;
    a = b;
    b = t;
  }
  if (a !== idx) idx.set(a);
  return inversions;
}

/**
 * Average ranks (1-based): tied values share the mean of the ranks they span ("mid-ranks",
 * Kendall & Gibbons, Rank Correlation Methods, 5th ed. §3.1). Same as scipy.stats.rankdata('average').
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = argsort(values);
  const ranks = new Float64Array(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    const v = values[order[i]!]!;
    while (j + 1 < order.length && values[order[j + 1]!] === v) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Sizes of the groups of tied values (groups of one are left out). */
export function tieGroups(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  const groups: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[i]) j++;
    if (j > i) groups.push(j - i + 1);
    i = j + 1;
  }
  return groups;
}

/** Number of strict inversions, pairs i < j with a[i] > a[j] (equal values are not inversions), in O(n log n). */
export function countInversions(values: ArrayLike<number>): number {
  const idx = new Int32Array(values.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return sortCountingInversions(idx, values);
}
