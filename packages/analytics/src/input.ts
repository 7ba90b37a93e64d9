// Input cleaning. Missing values (null, undefined, NaN, ±Infinity) are dropped, pairwise where two
// inputs go together; they are never treated as zero.
import type { NumericInput } from './types';

/** True for a usable observation: a finite number. */
export function isPresent(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The present values of `x`, in order. */
export function dropMissing(x: NumericInput): Float64Array {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (isPresent(x[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (isPresent(v)) out[k++] = v;
  }
  return out;
}

/** Pairwise-complete copies of `x` and `y`: index i is kept only when both are present. */
export function pairwiseComplete(x: NumericInput, y: NumericInput): { x: Float64Array; y: Float64Array } {
  // Different lengths mean the caller paired the wrong arrays: a programming error, not data.
  if (x.length !== y.length) {
    throw new RangeError(`x and y must have the same length (got ${x.length} and ${y.length})`);
  }
  let n = 0;
  for (let i = 0; i < x.length; i++) if (isPresent(x[i]) && isPresent(y[i])) n++;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (isPresent(a) && isPresent(b)) {
      xs[k] = a;
      ys[k] = b;
      k++;
    }
  }
  return { x: xs, y: ys };
}

/** True when every value equals the first (exact comparison: near-constant data is still data). */
export function isConstant(a: ArrayLike<number>): boolean {
  const first = a[0];
  for (let i = 1; i < a.length; i++) if (a[i] !== first) return false;
  return true;
}
