// Ordinary least squares for one predictor.
import { studentTTwoSided } from './distributions';
import { ofUsablePairs } from './pearson';
import { mean } from './summary';
import type { NumericInput, Result } from './types';

export interface LinearRegressionResult {
  slope: number;
  intercept: number;
  /** Standard error of the slope, s/√Sxx. */
  slopeSE: number;
  /** Standard error of the intercept, s·√(1/n + x̄²/Sxx). */
  interceptSE: number;
  rSquared: number;
  /** Residual standard deviation s = √(SSE/(n − 2)). */
  residualSD: number;
  /** Two-sided p-value of H₀: slope = 0, t = slope/slopeSE ~ t(n − 2). */
  p: number;
  n: number;
}

/**
 * Least-squares line y = a + b·x from centred sums (Draper & Smith, Applied Regression Analysis,
 * 3rd ed., ch. 1): b = Sxy/Sxx, a = ȳ − b·x̄, with SSE = Σ((y − ȳ) − b(x − x̄))² summed directly
 * rather than as Syy − b·Sxy (which cancels when R² ≈ 1). R² = 1 − SSE/Syy.
 * Matches the certified values of NIST StRD "Norris" to ≥ 12 significant digits.
 * Not computable with fewer than 3 complete pairs or a constant x or y.
 */
export function linearRegression(x: NumericInput, y: NumericInput): Result<LinearRegressionResult> {
  return ofUsablePairs(x, y, (xs, ys, n) => {
    const mx = mean(xs);
    const my = mean(ys);
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const dx = xs[i]! - mx;
      const dy = ys[i]! - my;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
    const slope = sxy / sxx;
    const intercept = my - slope * mx;
    let sse = 0;
    for (let i = 0; i < n; i++) {
      const e = ys[i]! - my - slope * (xs[i]! - mx);
      sse += e * e;
    }
    const residualSD = Math.sqrt(sse / (n - 2));
    const slopeSE = residualSD / Math.sqrt(sxx);
    const interceptSE = residualSD * Math.sqrt(1 / n + (mx * mx) / sxx);
    // A perfect fit has slopeSE = 0: the slope is certainly non-zero, p = 0.
    const p = slopeSE > 0 ? studentTTwoSided(slope / slopeSE, n - 2) : 0;
    return {
      slope,
      intercept,
      slopeSE,
      interceptSE,
      rSquared: Math.max(0, 1 - sse / syy),
      residualSD,
      p,
      n,
    };
  });
}
