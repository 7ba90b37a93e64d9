// Spearman's rank correlation.
import { correlationPValue } from './distributions';
import { correlationOf, ofUsablePairs } from './pearson';
import { averageRanks } from './ranks';
import type { NumericInput, Result } from './types';

export interface SpearmanResult {
  rho: number;
  n: number;
  /** Two-sided p-value from the t approximation with n − 2 df. */
  p: number;
}

/**
 * Spearman's ρ: Pearson's r of the average ranks (ties share their mean rank), so it stays exact with
 * ties (Spearman 1904; Kendall & Gibbons, Rank Correlation Methods §3). p from
 * t = ρ √((n − 2)/(1 − ρ²)) ~ t(n − 2), as in scipy.stats.spearmanr. Missing values dropped pairwise.
 */
export function spearman(x: NumericInput, y: NumericInput): Result<SpearmanResult> {
  return ofUsablePairs(x, y, (xs, ys, n) => {
    const rho = correlationOf(averageRanks(xs), averageRanks(ys));
    return { rho, n, p: correlationPValue(rho, n - 2) };
  });
}
