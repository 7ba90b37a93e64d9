// Spearman's rank correlation.
import { correlationPValue } from './distributions';
import { isConstant, pairwiseComplete } from './input';
import { correlationOf } from './pearson';
import { averageRanks } from './ranks';
import type { NumericInput, Result } from './types';
import { notComputable } from './types';

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
  const { x: xs, y: ys } = pairwiseComplete(x, y);
  const n = xs.length;
  if (n < 3) return notComputable('too-few', n);
  if (isConstant(xs) || isConstant(ys)) return notComputable('constant', n);
  const rho = correlationOf(averageRanks(xs), averageRanks(ys));
  return { ok: true, rho, n, p: correlationPValue(rho, n - 2) };
}
