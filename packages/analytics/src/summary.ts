// Basic summaries used by the tests and reports.
import { selectKth } from './select';

/**
 * Arithmetic mean with one refinement pass: m = Σx/n, then m + Σ(x − m)/n.
 * The correction removes most rounding error of the naive sum (Higham, Accuracy and Stability of
 * Numerical Algorithms, 2nd ed., §1.9 / Björck 1967).
 */
export function mean(a: ArrayLike<number>): number {
  const n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]!;
  const m = s / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += a[i]! - m;
  return m + c / n;
}

/** Σ(x − x̄)², computed from centred values (two-pass, numerically stable; Chan, Golub & LeVeque 1983). */
export function sumSquaredDeviations(a: ArrayLike<number>, m = mean(a)): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - m;
    s += d * d;
  }
  return s;
}

/** Sample variance s² = Σ(x − x̄)²/(n − 1). */
export function sampleVariance(a: ArrayLike<number>, m = mean(a)): number {
  return sumSquaredDeviations(a, m) / (a.length - 1);
}

/** Median: the middle order statistic, or the mean of the two middle ones for even n (Hyndman & Fan type 7 at p = 0.5). */
export function median(a: ArrayLike<number>): number {
  const n = a.length;
  const buf = Float64Array.from(a);
  const hi = selectKth(buf, 0, n - 1, n >> 1);
  if (n % 2 === 1) return hi;
  // After selecting the upper middle, everything left of it is ≤ it: the lower middle is their max.
  let lo = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (buf[i]! > lo) lo = buf[i]!;
  return (lo + hi) / 2;
}
