// Test helpers: relative-error assertions and unwrapping of computable results.
import { expect } from 'vitest';
import type { Result } from '../src/index';
import { seededRandom } from '../src/index';

/** |actual − expected| / |expected| ≤ tol (absolute error when expected is 0). */
export function expectRel(actual: number, expected: number, tol: number, label = ''): void {
  const err = expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
  expect(err, `${label} actual ${actual} expected ${expected} (rel err ${err})`).toBeLessThanOrEqual(tol);
}

/** Number of matching significant digits, −log10 of the relative error (as NIST's LRE). */
export function significantDigits(actual: number, expected: number): number {
  if (actual === expected) return 17;
  return -Math.log10(Math.abs(actual - expected) / Math.abs(expected));
}

export function computed<T>(r: Result<T>): { ok: true } & T {
  if (!r.ok) throw new Error(`expected a computable result, got ${r.reason} (n = ${r.n})`);
  return r;
}

/** JSON.stringify must not turn any number into null (NaN/Infinity) and must round-trip. */
export function expectJsonSafe(value: unknown): void {
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number') expect(Number.isFinite(v), `${path} = ${v}`).toBe(true);
    else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(value, '$');
  expect(JSON.parse(JSON.stringify(value))).toEqual(value);
}

/**
 * Seeded noise for simulated series: uniform draws, standard normals (Box–Muller) and unit-variance
 * AR(1) series of `days` days.
 */
export function noise(seed: number, days: number) {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const ar = (phi: number, n = days) => {
    const out = new Float64Array(n);
    let v = gauss();
    const k = Math.sqrt(1 - phi * phi);
    for (let d = 0; d < n; d++) {
      if (d > 0) v = phi * v + k * gauss();
      out[d] = v;
    }
    return out;
  };
  return { rand, gauss, ar };
}
