// Serial correlation and the effective sample size it implies.

/**
 * Lag-1 autocorrelation of a daily series with gaps (NaN = missing):
 * r₁ = [Σ (x_d − x̄)(x_{d+1} − x̄) / m] / [Σ (x_d − x̄)² / n], the lag-1 products taken over the m
 * pairs of consecutive days that are both present (Box & Jenkins, Time Series Analysis, eq. 2.1.12,
 * normalised per available pair to allow gaps). Returns 0 when fewer than 3 such pairs exist or the
 * series is constant: no evidence of autocorrelation, so no correction.
 */
export function lag1Autocorrelation(values: ArrayLike<number>): number {
  return autocorrelations(values, 1)[0]!;
}

/**
 * Effective number of independent pairs for correlating two AR(1)-like series (Bretherton et al.
 * 1999, J. Climate 12:1990, eq. 31): n_eff = n (1 − r₁ₓ r₁ᵧ)/(1 + r₁ₓ r₁ᵧ), clamped to [3, n] so the
 * t test keeps at least one degree of freedom and never gains power from anti-persistence.
 */
export function effectiveSampleSize(n: number, r1x: number, r1y: number): number {
  const prod = r1x * r1y;
  const nEff = (n * (1 - prod)) / (1 + prod);
  return Math.min(n, Math.max(3, nEff));
}

/**
 * Autocorrelations at lags 1..maxLag of a daily series with gaps (NaN = missing), each normalised as
 * lag1Autocorrelation: r_k = [Σ (x_d − x̄)(x_{d+k} − x̄) / m_k] / [Σ (x_d − x̄)² / n] over the m_k
 * present pairs k days apart (0 when fewer than 3 such pairs, or a constant series). O(T · maxLag).
 */
export function autocorrelations(values: ArrayLike<number>, maxLag: number): Float64Array {
  const out = new Float64Array(maxLag);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      n++;
      sum += v;
    }
  }
  if (n < 3) return out;
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) ss += (v - m) * (v - m);
  }
  if (ss === 0) return out;
  for (let k = 1; k <= maxLag; k++) {
    let lagged = 0;
    let pairs = 0;
    for (let i = 0; i + k < values.length; i++) {
      const v = values[i]!;
      const w = values[i + k]!;
      if (Number.isNaN(v) || Number.isNaN(w)) continue;
      lagged += (v - m) * (w - m);
      pairs++;
    }
    if (pairs >= 3) out[k - 1] = Math.min(1, Math.max(-1, lagged / pairs / (ss / n)));
  }
  return out;
}

/**
 * Effective sample size for the correlation of two series from their autocorrelations at lags 1..K
 * (Bartlett 1935; Bayley & Hammersley 1946; Pyper & Peterman 1998, eq. 1):
 * 1/n_eff = 1/n + (2/n) Σₖ (1 − k/n) ρₓ(k) ρᵧ(k), clamped to [3, n] like effectiveSampleSize. Lags beyond
 * n/5 are left out (their estimates are too noisy, Pyper & Peterman's rule).
 */
export function effectiveSampleSizeAcf(n: number, acfX: Float64Array, acfY: Float64Array): number {
  const K = Math.min(acfX.length, acfY.length, Math.floor(n / 5));
  let s = 0;
  for (let k = 1; k <= K; k++) s += (1 - k / n) * acfX[k - 1]! * acfY[k - 1]!;
  const nEff = n / (1 + 2 * s);
  return Math.min(n, Math.max(3, nEff));
}
