// Pearson correlation of one pair of prepared series at one lag, for the scan.
import { clampUnit, rootProduct } from './pearson';
import type { PairOutcome, Prepared } from './scanSeries';
import { dot } from './scanSeries';

// Relative size of a centred sum of squares below which the one-pass formula has lost too many
// digits (> 3) and the pair is recomputed with an exact two-pass over its own mean.
const CANCELLATION_GUARD = 1e-3;

/**
 * Pearson r for x = a on day d, y = b on day d + lag, over d in [d0, d1] (both spans overlap there).
 * Σx, Σx², n come from prefix sums minus the days whose partner is missing; Σxy is a dot product of the
 * zero-filled centred arrays (a missing side contributes 0). Data are centred on each series' own mean,
 * so the sums of squares lose few digits; when they do lose more than 3 (the pair's days sit far from
 * the series mean), the pair is redone exactly in two passes.
 */
export function pearsonPair(a: Prepared, b: Prepared, lag: number, minN: number): PairOutcome {
  const d0 = Math.max(a.first, b.first - lag);
  const d1 = Math.min(a.last, b.last - lag);
  if (d1 < d0) return { kind: 'skip', reason: 'too-few', n: 0 };
  const e0 = d0 + lag;
  const e1 = d1 + lag;
  let n = a.cnt[d1 + 1]! - a.cnt[d0]!;
  let sa = a.s1[d1 + 1]! - a.s1[d0]!;
  let saa = a.s2[d1 + 1]! - a.s2[d0]!;
  let sb = b.s1[e1 + 1]! - b.s1[e0]!;
  let sbb = b.s2[e1 + 1]! - b.s2[e0]!;
  // x days whose y partner is missing, and y days whose x partner is missing.
  const za = a.z;
  const zb = b.z;
  const ra = a.raw;
  const rb = b.raw;
  for (const e of b.missing) {
    if (e < e0 || e > e1) continue;
    const d = e - lag;
    if (!Number.isNaN(ra[d]!)) {
      const u = za[d]!;
      n--;
      sa -= u;
      saa -= u * u;
    }
  }
  for (const d of a.missing) {
    if (d < d0 || d > d1) continue;
    const e = d + lag;
    if (!Number.isNaN(rb[e]!)) {
      const v = zb[e]!;
      sb -= v;
      sbb -= v * v;
    }
  }
  if (n < minN) return { kind: 'skip', reason: 'too-few', n };
  const sab = dot(za, d0, zb, e0, d1 - d0 + 1);
  const Saa = saa - (sa * sa) / n;
  const Sbb = sbb - (sb * sb) / n;
  if (Saa > CANCELLATION_GUARD * saa && Sbb > CANCELLATION_GUARD * sbb) {
    return { kind: 'ok', n, r: clampUnit((sab - (sa * sb) / n) / rootProduct(Saa, Sbb)) };
  }
  return exactPearsonPair(ra, rb, lag, d0, d1, n);
}

/** Two-pass Pearson over the pairwise-complete days, with an exact constant check. */
function exactPearsonPair(
  X: Float64Array,
  Y: Float64Array,
  lag: number,
  d0: number,
  d1: number,
  n: number,
): PairOutcome {
  let sa = 0;
  let sb = 0;
  let a0 = Number.NaN;
  let b0 = Number.NaN;
  let constA = true;
  let constB = true;
  for (let d = d0; d <= d1; d++) {
    const u = X[d]!;
    const v = Y[d + lag]!;
    if (!Number.isNaN(u) && !Number.isNaN(v)) {
      if (Number.isNaN(a0)) {
        a0 = u;
        b0 = v;
      }
      if (u !== a0) constA = false;
      if (v !== b0) constB = false;
      sa += u;
      sb += v;
    }
  }
  if (constA || constB) return { kind: 'skip', reason: 'constant', n };
  const ma = sa / n;
  const mb = sb / n;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let d = d0; d <= d1; d++) {
    const u = X[d]!;
    const v = Y[d + lag]!;
    if (!Number.isNaN(u) && !Number.isNaN(v)) {
      const du = u - ma;
      const dv = v - mb;
      saa += du * du;
      sbb += dv * dv;
      sab += du * dv;
    }
  }
  return { kind: 'ok', n, r: clampUnit(sab / rootProduct(saa, sbb)) };
}
