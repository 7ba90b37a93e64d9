// False discovery rate control.
import { sortIndicesByValue } from './ranks';

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
  const values = Float64Array.from(pValues, (v) => (typeof v === 'number' ? v : Number.NaN));
  const order = sortIndicesByValue(Int32Array.from(idx), values);
  const sortedQ = benjaminiHochbergSorted(values, order);
  for (let k = 0; k < order.length; k++) q[order[k]!] = sortedQ[k]!;
  return q;
}

/**
 * The step-up adjustment on p-values already ordered: `order` lists the m indices of the family so that
 * p[order[k]] ascends; returns q by rank (q[k] belongs to order[k]). Ties get equal q whatever their order.
 */
export function benjaminiHochbergSorted(p: Float64Array, order: Int32Array): Float64Array {
  const m = order.length;
  const q = new Float64Array(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    // p·(m/rank) rather than (p·m)/rank: the factor is ≥ 1 after rounding too, so q ≥ p holds exactly.
    running = Math.min(running, p[order[k]!]! * (m / (k + 1)));
    q[k] = running;
  }
  return q;
}
