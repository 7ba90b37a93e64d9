// In-place selection of order statistics: Floyd & Rivest (1975), "Algorithm 489: SELECT", Comm. ACM
// 18:173. Theil–Sen needs a few order statistics of ~600k slopes: selection is O(n) where sorting is
// O(n log n), and Floyd–Rivest's sampled pivots avoid the bad splits plain quickselect meets on the
// structured slope arrays of trending series.

/**
 * Rearranges `a[lo..hi]` (inclusive) so that `a[k]` holds the value it would have if the range were
 * sorted, everything before it is ≤ it and everything after it is ≥ it. Returns `a[k]`.
 */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): number {
  let left = lo;
  let right = hi;
  while (right > left) {
    if (right - left > 600) {
      // Recursively select within a small window around k that contains the answer with high probability.
      const n = right - left + 1;
      const i = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (i * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - i) * s) / n + sd));
      selectKth(a, newLeft, newRight, k);
    }
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
