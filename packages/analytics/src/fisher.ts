// Fisher z confidence intervals for correlation coefficients.
import type { Interval } from './types';

/** Φ⁻¹(0.975), the two-sided 95% normal critical value. */
export const Z_975 = 1.959963984540054;

/**
 * 95% interval tanh(atanh(r) ± 1.96·se) from Fisher's (1921) z = atanh(r), approximately normal with
 * standard error se = 1/√(n − 3) for Pearson's r. An infinite or undefined se gives the uninformative
 * [−1, 1]; |r| = 1 gives the degenerate [r, r].
 */
export function fisherInterval(r: number, se: number): Interval {
  if (Math.abs(r) >= 1) return [r, r];
  if (!Number.isFinite(se) || !(se >= 0)) return [-1, 1];
  const z = Math.atanh(r);
  return [Math.tanh(z - Z_975 * se), Math.tanh(z + Z_975 * se)];
}
