// Binary metrics (did / did not): point-biserial correlation and Welch's t-test.
import { correlationPValue, studentTTwoSided } from './distributions';
import { isConstant, isPresent } from './input';
import { correlationOf } from './pearson';
import { mean, sumSquaredDeviations } from './summary';
import type { NumericInput, Result } from './types';
import { notComputable } from './types';

export interface WelchResult {
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
}

export interface PointBiserialResult {
  /** Point-biserial r (Pearson r with the 0/1 variable). */
  r: number;
  n: number;
  /** Days with (1/true) and without (0/false). */
  n1: number;
  n0: number;
  meanWith: number;
  meanWithout: number;
  /** meanWith − meanWithout. */
  meanDifference: number;
  /** Two-sided p of r (t with n − 2 df: the pooled-variance t-test). */
  p: number;
  /** Welch's unequal-variance t-test of the same difference (not computable with < 2 days per group). */
  welch: Result<WelchResult>;
}

/**
 * Welch's t-test from group summaries: t = (m₁ − m₀)/√(v₁/n₁ + v₀/n₀),
 * df = (v₁/n₁ + v₀/n₀)² / [(v₁/n₁)²/(n₁−1) + (v₀/n₀)²/(n₀−1)] (Welch 1947, Biometrika 34:28;
 * Satterthwaite 1946). Not computable with fewer than 2 values in a group or zero variance in both.
 */
function welchFromGroups(a: Float64Array, b: Float64Array): Result<WelchResult> {
  const n = a.length + b.length;
  if (a.length < 2 || b.length < 2) return notComputable('too-few', n);
  const ma = mean(a);
  const mb = mean(b);
  const va = sumSquaredDeviations(a, ma) / (a.length - 1) / a.length;
  const vb = sumSquaredDeviations(b, mb) / (b.length - 1) / b.length;
  const se2 = va + vb;
  if (!(se2 > 0)) return notComputable('constant', n);
  const t = (ma - mb) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { ok: true, t, df, p: studentTTwoSided(t, df) };
}

/** Welch's two-sample t-test of mean(a) − mean(b) (missing values dropped). */
export function welchTTest(a: NumericInput, b: NumericInput): Result<WelchResult> {
  return welchFromGroups(presentValues(a), presentValues(b));
}

function presentValues(a: NumericInput): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (isPresent(v)) out.push(v);
  }
  return Float64Array.from(out);
}

/** A binary observation: true/1 = with, false/0 = without, null/undefined/NaN = missing. */
export type BinaryInput = ArrayLike<boolean | number | null | undefined>;

/**
 * Point-biserial correlation between a binary variable and y: r_pb = (M₁ − M₀)/s · √(n₁n₀/n²), which
 * equals Pearson's r with the 0/1 coding (Tate 1954, Ann. Math. Stat. 25:603); its t test with n − 2 df
 * is the pooled two-sample t-test. Welch's test is reported alongside for unequal variances.
 * Pairs with either side missing are dropped. A binary value other than 0/1/true/false throws a RangeError.
 * Not computable with fewer than 3 pairs, or when either variable is constant (e.g. every day "with").
 */
export function pointBiserial(binary: BinaryInput, y: NumericInput): Result<PointBiserialResult> {
  if (binary.length !== y.length) {
    throw new RangeError(`binary and y must have the same length (got ${binary.length} and ${y.length})`);
  }
  const g: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < binary.length; i++) {
    const b = binary[i];
    const yi = y[i];
    if (b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b)) || !isPresent(yi))
      continue;
    const code = b === true || b === 1 ? 1 : b === false || b === 0 ? 0 : -1;
    if (code < 0) throw new RangeError(`binary values must be 0, 1, true or false (index ${i}: ${b})`);
    g.push(code);
    v.push(yi);
  }
  const n = g.length;
  if (n < 3) return notComputable('too-few', n);
  if (isConstant(g) || isConstant(v)) return notComputable('constant', n);
  const withValues = Float64Array.from(v.filter((_, i) => g[i] === 1));
  const withoutValues = Float64Array.from(v.filter((_, i) => g[i] === 0));
  const r = correlationOf(g, v);
  const meanWith = mean(withValues);
  const meanWithout = mean(withoutValues);
  return {
    ok: true,
    r,
    n,
    n1: withValues.length,
    n0: withoutValues.length,
    meanWith,
    meanWithout,
    meanDifference: meanWith - meanWithout,
    p: correlationPValue(r, n - 2),
    welch: welchFromGroups(withValues, withoutValues),
  };
}
