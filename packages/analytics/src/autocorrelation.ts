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

/**
 * KPSS statistic of a series' deviations (Kwiatkowski, Phillips, Schmidt & Shin 1992), NaN = missing:
 * η = Σ S_t² / (n² σ̂²), S_t the partial sums of the deviations from their mean over the present days in
 * order, σ̂² the long-run variance γ₀ (1 + 2 Σₖ₌₁..L (1 − k/(L+1)) ρ(k)) with the Bartlett window over the
 * given autocorrelations (L = acf.length). Large when the deviations wander (a unit root); for residuals
 * of a fitted line the 5 % point under stationarity is 0.146. 0 for fewer than 3 present days or a constant.
 */
export function kpssStatistic(values: ArrayLike<number>, acf: Float64Array): number {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    n++;
    sum += v;
  }
  if (n < 3) return 0;
  const m = sum / n;
  let S = 0;
  let SS = 0;
  let g0 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    S += v - m;
    SS += S * S;
    g0 += (v - m) * (v - m);
  }
  if (g0 === 0) return 0;
  const L = acf.length;
  let w = 1;
  for (let k = 1; k <= L; k++) w += 2 * (1 - k / (L + 1)) * acf[k - 1]!;
  return SS / (n * (g0 * Math.max(w, 1e-3)));
}

/**
 * How far two series' variances rise and fall together over time, for the effective n of their
 * correlation: h = m Σ vₓ(d)·vᵧ(d+lag) / (Σ vₓ(d) · Σ vᵧ(d+lag)) over the m days d where both are present,
 * v the local mean square (localMeanSquares). Under independence the variance of Σ x y is Σ vₓ vᵧ (times
 * the autocorrelation factor), not Σ vₓ Σ vᵧ / m, so nEff is divided by h. At least 1 (never a gain):
 * 1 for steady variances, about m / (days both move) when both only move over the same few weeks.
 */
export function varianceConcentration(
  x: ArrayLike<number>,
  vx: Float64Array,
  y: ArrayLike<number>,
  vy: Float64Array,
  lag: number,
): number {
  let m = 0;
  let sxy = 0;
  let sx = 0;
  let sy = 0;
  const end = Math.min(x.length, y.length - lag);
  for (let d = 0; d < end; d++) {
    if (Number.isNaN(x[d]!) || Number.isNaN(y[d + lag]!)) continue;
    const a = vx[d]!;
    const b = vy[d + lag]!;
    m++;
    sxy += a * b;
    sx += a;
    sy += b;
  }
  return sx > 0 && sy > 0 ? Math.max(1, (m * sxy) / (sx * sy)) : 1;
}

/**
 * Mean of (x − x̄)² over the present days within ±half days of each day (x̄ the mean of all present
 * days; 0 where the window has none), NaN = missing. O(T) with prefix sums.
 */
export function localMeanSquares(values: ArrayLike<number>, half: number): Float64Array {
  const T = values.length;
  let n = 0;
  let sum = 0;
  for (let d = 0; d < T; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    n++;
    sum += v;
  }
  const m = n > 0 ? sum / n : 0;
  const cnt = new Float64Array(T + 1);
  const s2 = new Float64Array(T + 1);
  for (let d = 0; d < T; d++) {
    const v = values[d]!;
    const present = !Number.isNaN(v);
    cnt[d + 1] = cnt[d]! + (present ? 1 : 0);
    s2[d + 1] = s2[d]! + (present ? (v - m) * (v - m) : 0);
  }
  const out = new Float64Array(T);
  for (let d = 0; d < T; d++) {
    const lo = Math.max(0, d - half);
    const hi = Math.min(T, d + half + 1);
    const c = cnt[hi]! - cnt[lo]!;
    out[d] = c > 0 ? (s2[hi]! - s2[lo]!) / c : 0;
  }
  return out;
}

/**
 * Longest stretch, in grid days from its first to its last day, over which every present value equals
 * the series' smallest value, or every one its largest (missing days do not break a stretch). A rating
 * or yes/no metric pinned at an end of its scale for months has a long one; a continuous series about 1.
 */
export function longestRunAtBound(values: ArrayLike<number>): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let d = 0; d < values.length; d++) {
    const v = values[d]!;
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let best = 0;
  for (const bound of [lo, hi]) {
    let start = -1;
    for (let d = 0; d < values.length; d++) {
      const v = values[d]!;
      if (Number.isNaN(v)) continue;
      if (v === bound) {
        if (start < 0) start = d;
        best = Math.max(best, d - start + 1);
      } else start = -1;
    }
  }
  return best;
}
