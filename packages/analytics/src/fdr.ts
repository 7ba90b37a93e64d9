// False discovery rate control.

/**
 * Benjamini–Hochberg adjusted p-values ("q-values"): with the m valid p-values sorted ascending,
 * q₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j) (Benjamini & Hochberg 1995, JRSS B 57:289; the step-up
 * adjustment of Yekutieli & Benjamini 1999). The running minimum makes q monotone in p and q ≥ p.
 *
 * Missing p-values (NaN, null) are excluded from the family: they do not count in m and come back as
 * NaN in their own position. A p-value outside [0, 1] is a programming error and throws a RangeError.
 */
export function benjaminiHochberg(pValues: ArrayLike<number | null | undefined>): number[] {
  const q = new Array<number>(pValues.length).fill(Number.NaN);
  const idx: number[] = [];
  for (let i = 0; i < pValues.length; i++) {
    const p = pValues[i];
    if (p === null || p === undefined || Number.isNaN(p)) continue;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-value out of [0, 1] at index ${i}: ${p}`);
    idx.push(i);
  }
  const m = idx.length;
  const p = (i: number) => pValues[i] as number;
  idx.sort((a, b) => p(a) - p(b) || a - b);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const i = idx[k]!;
    // p·(m/rank) rather than (p·m)/rank: the factor is ≥ 1 after rounding too, so q ≥ p holds exactly.
    running = Math.min(running, p(i) * (m / (k + 1)));
    q[i] = running;
  }
  return q;
}
