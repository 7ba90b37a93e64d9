// Kruskal–Wallis one-way analysis of variance on ranks.
import { chiSquareSf } from './distributions';
import { dropMissing, isConstant } from './input';
import { averageRanks, tieGroups } from './ranks';
import type { NumericInput, Result } from './types';
import { notComputable } from './types';

export interface KruskalWallisResult {
  /** Tie-corrected H statistic. */
  h: number;
  /** Degrees of freedom k − 1 (k = groups with at least one value). */
  df: number;
  /** p-value from the chi-square approximation. */
  p: number;
  /** Effect size ε² = H/(N − 1) (Kelley 1935; Tomczak & Tomczak 2014), 0..1. */
  epsilonSquared: number;
  /** Total number of values N. */
  n: number;
  k: number;
}

/**
 * Kruskal–Wallis H = [12/(N(N+1)) Σ Rᵢ²/nᵢ − 3(N+1)] / [1 − Σ(t³ − t)/(N³ − N)], p = P(χ²_{k−1} > H)
 * (Kruskal & Wallis 1952, JASA 47:583; tie correction their eq. 1.2). Missing values are dropped;
 * empty groups are left out. Not computable with fewer than 2 non-empty groups or N ≤ k, or when
 * every value is the same.
 */
export function kruskalWallis(groups: readonly NumericInput[]): Result<KruskalWallisResult> {
  const clean = groups.map(dropMissing).filter((g) => g.length > 0);
  const k = clean.length;
  let N = 0;
  for (const g of clean) N += g.length;
  if (k < 2 || N <= k) return notComputable('too-few', N);
  const all = new Float64Array(N);
  let off = 0;
  for (const g of clean) {
    all.set(g, off);
    off += g.length;
  }
  if (isConstant(all)) return notComputable('constant', N);
  const ranks = averageRanks(all);
  let sum = 0;
  off = 0;
  for (const g of clean) {
    let r = 0;
    for (let i = 0; i < g.length; i++) r += ranks[off + i]!;
    sum += (r * r) / g.length;
    off += g.length;
  }
  let ties = 0;
  for (const t of tieGroups(all)) ties += t * t * t - t;
  const h = ((12 / (N * (N + 1))) * sum - 3 * (N + 1)) / (1 - ties / (N * N * N - N));
  const hh = Math.max(0, h);
  return {
    ok: true,
    h: hh,
    df: k - 1,
    p: chiSquareSf(hh, k - 1),
    epsilonSquared: Math.min(1, hh / (N - 1)),
    n: N,
    k,
  };
}
