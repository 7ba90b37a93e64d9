// Mann–Kendall trend test.
import { normalTwoSided } from './distributions';
import { dropMissing, isConstant } from './input';
import { tieSums } from './kendall';
import { countInversions } from './ranks';
import type { NumericInput, Result } from './types';
import { notComputable } from './types';

export interface MannKendallResult {
  /** S = Σ_{i<j} sign(yⱼ − yᵢ). */
  s: number;
  /** Tie-corrected variance of S. */
  varS: number;
  /** Continuity-corrected z = (S − sign S)/√Var(S). */
  z: number;
  /** Two-sided p-value from the normal approximation. */
  p: number;
  /** Kendall's tau-b between time and y (time has no ties): S / √(n₀ (n₀ − n₂)). */
  tau: number;
  n: number;
}

/**
 * Mann–Kendall statistics for values already in time order (no missing values, not constant).
 * Var(S) = [n(n−1)(2n+5) − Σt(t−1)(2t+5)]/18 over tie groups t (Kendall 1975, Rank Correlation
 * Methods 4th ed.; Hirsch, Slack & Smith 1982, Water Resour. Res. 18:107), z = (S − sign S)/√Var(S)
 * (Mann 1945, Econometrica 13:245), p = 2·Q(|z|).
 */
export function mannKendallOf(ys: ArrayLike<number>): Omit<MannKendallResult, 'n'> {
  const n = ys.length;
  // Time has no ties, so S = concordant − discordant = n₀ − (pairs tied in y) − 2·(inversions of y),
  // counted in O(n log n) instead of the O(n²) double sum.
  const ties = tieSums(ys);
  const n0 = (n * (n - 1)) / 2;
  const s = n0 - ties.pairs - 2 * countInversions(ys);
  const varS = (n * (n - 1) * (2 * n + 5) - ties.t5) / 18;
  const z = s === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(varS);
  const tau = s / Math.sqrt(n0 * (n0 - ties.pairs));
  return { s, varS, z, p: normalTwoSided(z), tau: Math.max(-1, Math.min(1, tau)) };
}

/**
 * Mann–Kendall test for a monotonic trend in `y` (in time order; missing values dropped, keeping order).
 * Not computable with fewer than 3 values or a constant series.
 */
export function mannKendall(y: NumericInput): Result<MannKendallResult> {
  const ys = dropMissing(y);
  const n = ys.length;
  if (n < 3) return notComputable('too-few', n);
  if (isConstant(ys)) return notComputable('constant', n);
  return { ok: true, ...mannKendallOf(ys), n };
}
