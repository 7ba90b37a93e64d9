// Pearson's product-moment correlation.
import { correlationPValue } from './distributions';
import { fisherInterval } from './fisher';
import { isConstant, pairwiseComplete } from './input';
import { mean } from './summary';
import type { Interval, NumericInput, Result } from './types';
import { notComputable } from './types';

export interface PearsonResult {
  r: number;
  n: number;
  /** Degrees of freedom of the t test, n − 2. */
  df: number;
  /** t = r √((n − 2)/(1 − r²)); capped at ±Number.MAX_VALUE when |r| = 1 so it stays JSON-safe. */
  t: number;
  /** Two-sided p-value from Student's t with n − 2 df. */
  p: number;
  /** 95% Fisher z interval; [−1, 1] when n = 3. */
  ci95: Interval;
}

/**
 * r = Σ(x − x̄)(y − ȳ) / √(Σ(x − x̄)² Σ(y − ȳ)²) on clean, equal-length, non-constant arrays, from
 * centred (two-pass) sums, clamped to [−1, 1]. Pearson (1896), Phil. Trans. R. Soc. A 187:253.
 */
export function correlationOf(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return clampUnit(sxy / rootProduct(sxx, syy));
}

/** √(a·b) with a single rounding when a·b is representable (so r of identical data is exactly 1). */
export function rootProduct(a: number, b: number): number {
  const ab = a * b;
  return ab > 0 && ab < Infinity ? Math.sqrt(ab) : Math.sqrt(a) * Math.sqrt(b);
}

/** Clamps a correlation to [−1, 1]: rounding can push a perfect correlation a few ulps past ±1. */
export function clampUnit(r: number): number {
  return r > 1 ? 1 : Math.max(r, -1);
}

/** t statistic of a correlation, r √(df/(1 − r²)), kept finite for |r| = 1. */
export function tFromR(r: number, df: number): number {
  const oneMinusR2 = (1 - Math.abs(r)) * (1 + Math.abs(r));
  if (oneMinusR2 <= 0) return Math.sign(r) * Number.MAX_VALUE;
  return r * Math.sqrt(df / oneMinusR2);
}

/**
 * `compute` on the pairwise-complete values of x and y (missing values dropped pairwise) as a computable
 * result, or why no statistic of the pair is computable: fewer than 3 complete pairs, or a constant x or y.
 */
export function ofUsablePairs<T>(
  x: NumericInput,
  y: NumericInput,
  compute: (xs: Float64Array, ys: Float64Array, n: number) => T,
): Result<T> {
  const { x: xs, y: ys } = pairwiseComplete(x, y);
  const n = xs.length;
  if (n < 3) return notComputable('too-few', n);
  if (isConstant(xs) || isConstant(ys)) return notComputable('constant', n);
  return { ok: true, ...compute(xs, ys, n) };
}

/**
 * Pearson correlation with its t test and 95% interval; missing values are dropped pairwise.
 * t = r √((n − 2)/(1 − r²)) ~ Student t(n − 2) under H₀ (Student 1908; Fisher 1915).
 * CI: Fisher (1921) z-transform, se = 1/√(n − 3).
 * Not computable with fewer than 3 complete pairs or when either variable is constant.
 */
export function pearson(x: NumericInput, y: NumericInput): Result<PearsonResult> {
  return ofUsablePairs(x, y, (xs, ys, n) => {
    const r = correlationOf(xs, ys);
    const df = n - 2;
    return {
      r,
      n,
      df,
      t: tFromR(r, df),
      p: correlationPValue(r, df),
      ci95: fisherInterval(r, 1 / Math.sqrt(n - 3)),
    };
  });
}
