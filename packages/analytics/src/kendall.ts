// Kendall's rank correlation, tau-b.
import { normalTwoSided } from './distributions';
import { clampUnit, ofUsablePairs, rootProduct } from './pearson';
import { countInversions, tieGroups } from './ranks';
import { logGamma } from './special';
import type { NumericInput, Result } from './types';

export interface KendallResult {
  /** Kendall's tau-b (ties in either variable accounted for). */
  tau: number;
  n: number;
  /** S = concordant − discordant pairs. */
  s: number;
  /** Two-sided p-value. */
  p: number;
  /** 'exact' for small samples without ties (as scipy's method='auto'), otherwise 'asymptotic'. */
  pMethod: 'exact' | 'asymptotic';
}

/** Tie summaries Σt(t−1)/2, Σt(t−1)(t−2), Σt(t−1)(2t+5) over the groups of tied values. */
export function tieSums(values: ArrayLike<number>): { pairs: number; t3: number; t5: number } {
  let pairs = 0;
  let t3 = 0;
  let t5 = 0;
  for (const t of tieGroups(values)) {
    pairs += (t * (t - 1)) / 2;
    t3 += t * (t - 1) * (t - 2);
    t5 += t * (t - 1) * (2 * t + 5);
  }
  return { pairs, t3, t5 };
}

/**
 * S = Σ_{i<j} sign(xⱼ − xᵢ)·sign(yⱼ − yᵢ) in O(n log n) (Knight 1966, JASA 61:436): sort by (x, y),
 * count the discordant pairs as strict inversions of y, then S = n₀ − n₁ − n₂ + n₃ − 2·discordant,
 * with n₁, n₂ the pairs tied in x, in y, and n₃ those tied in both.
 */
export function kendallS(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i]! - x[j]! || y[i]! - y[j]!);
  const ySorted = new Float64Array(n);
  for (let k = 0; k < n; k++) ySorted[k] = y[order[k]!]!;
  let tiedX = 0;
  let tiedBoth = 0;
  let k = 0;
  while (k < n) {
    let end = k;
    while (end + 1 < n && x[order[end + 1]!] === x[order[k]!]) end++;
    const t = end - k + 1;
    tiedX += (t * (t - 1)) / 2;
    // Within a run of equal x, y is sorted: count runs of equal y too.
    let m = k;
    while (m <= end) {
      let e = m;
      while (e + 1 <= end && ySorted[e + 1] === ySorted[m]) e++;
      const u = e - m + 1;
      tiedBoth += (u * (u - 1)) / 2;
      m = e + 1;
    }
    k = end + 1;
  }
  const n0 = (n * (n - 1)) / 2;
  return n0 - tiedX - tieSums(y).pairs + tiedBoth - 2 * countInversions(ySorted);
}

/**
 * Kendall's tau-b = S / √((n₀ − n₁)(n₀ − n₂)), n₀ = n(n−1)/2, n₁, n₂ the tied pairs in x and y
 * (Kendall 1945, Biometrika 33:239). p-value, as scipy.stats.kendalltau: exact null distribution of
 * S when there are no ties and n ≤ 33 (Kendall & Gibbons 1990, ch. 4); otherwise S/√Var(S) ~ N(0,1)
 * with the tie-corrected Var(S) = [n(n−1)(2n+5) − Σt(t−1)(2t+5) − Σu(u−1)(2u+5)]/18
 * + Σt(t−1)(t−2) Σu(u−1)(u−2) / (9n(n−1)(n−2)) + 2 n₁ n₂ / (n(n−1)) (Kendall & Gibbons eq. 4.4).
 */
export function kendall(x: NumericInput, y: NumericInput): Result<KendallResult> {
  return ofUsablePairs(x, y, (xs, ys, n): KendallResult => {
    const s = kendallS(xs, ys);
    const tx = tieSums(xs);
    const ty = tieSums(ys);
    const n0 = (n * (n - 1)) / 2;
    const tau = clampUnit(s / rootProduct(n0 - tx.pairs, n0 - ty.pairs));
    const dis = (n0 - s) / 2; // without ties: con + dis = n₀ and con − dis = S
    if (tx.pairs === 0 && ty.pairs === 0 && (n <= 33 || Math.min(dis, n0 - dis) <= 1)) {
      return { tau, n, s, p: kendallExactP(n, Math.min(dis, n0 - dis)), pMethod: 'exact' };
    }
    const m = n * (n - 1);
    const varS =
      (m * (2 * n + 5) - tx.t5 - ty.t5) / 18 +
      (2 * tx.pairs * ty.pairs) / m +
      (tx.t3 * ty.t3) / (9 * m * (n - 2));
    return { tau, n, s, p: normalTwoSided(s / Math.sqrt(varS)), pMethod: 'asymptotic' };
  });
}

/**
 * Exact two-sided p = 2·P(D ≤ c) for c = min(discordant, concordant) pairs, D the number of inversions
 * of a random permutation of n, counted by the Mahonian recurrence
 * M(j, k) = Σ_{i<j} M(j−1, k−i) (Kendall & Gibbons 1990 §4.2; scipy _kendall_p_exact).
 */
export function kendallExactP(n: number, c: number): number {
  if (n <= 2) return 1;
  const logNFact = logGamma(n + 1);
  if (c === 0) return Math.min(1, 2 * Math.exp(-logNFact));
  if (c === 1) return Math.min(1, 2 * Math.exp(-logGamma(n)));
  if (4 * c === n * (n - 1)) return 1;
  // counts[k] = number of permutations of j elements with exactly k inversions, for k ≤ c.
  let counts = new Float64Array(c + 1);
  counts[0] = 1;
  counts[1] = 1;
  for (let j = 3; j <= n; j++) {
    const next = new Float64Array(c + 1);
    let run = 0;
    for (let k = 0; k <= c; k++) {
      run += counts[k]!;
      if (k >= j) run -= counts[k - j]!;
      next[k] = run;
    }
    counts = next;
  }
  let total = 0;
  for (let k = 0; k <= c; k++) total += counts[k]!;
  return Math.min(1, 2 * Math.exp(Math.log(total) - logNFact));
}
