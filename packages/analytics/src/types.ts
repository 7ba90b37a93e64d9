// Shared result shapes. Every statistic returns either `{ ok: true, ... }` or a NotComputable record, so
// callers can serialise results to JSON without ever meeting NaN or Infinity.

/** Numeric input: plain arrays, typed arrays, or arrays with `null` for missing values. */
export type NumericInput = ArrayLike<number | null | undefined>;

/** Why a statistic could not be computed. */
export type NotComputableReason = 'too-few' | 'constant';

/** A result that could not be computed; `n` is the number of usable (complete) observations. */
export interface NotComputable {
  ok: false;
  reason: NotComputableReason;
  n: number;
}

/** Either a computed statistic (`ok: true` plus its fields) or a NotComputable record. */
export type Result<T> = ({ ok: true } & T) | NotComputable;

/** A two-sided interval as `[lower, upper]`. */
export type Interval = [lower: number, upper: number];

export function notComputable(reason: NotComputableReason, n: number): NotComputable {
  return { ok: false, reason, n };
}
