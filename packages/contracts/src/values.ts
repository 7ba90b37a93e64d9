import type { TypedMetric } from './metrics';

export type ValueCheck = { ok: true; numericValue: number | null } | { ok: false; reason: string };

/**
 * Checks an entry's value against its metric and derives the number the analytics use
 * (binary → 0/1, text → null). Shared by the server and any client that wants to check first.
 */
export function checkEntryValue(metric: TypedMetric, value: unknown): ValueCheck {
  switch (metric.type) {
    case 'rating': {
      const { min, max } = metric.config;
      if (typeof value !== 'number' || !Number.isInteger(value))
        return fail('a rating must be a whole number');
      if (value < min || value > max) return fail(`a rating must be from ${min} to ${max}`);
      return { ok: true, numericValue: value };
    }
    case 'duration': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return fail('a duration must be a number of seconds');
      if (value < 0) return fail('a duration must not be negative');
      // A day has 86,400 s; a week's worth leaves room for a summed entry without admitting nonsense.
      if (value > 7 * 86_400) return fail('a duration must be at most 604800 seconds');
      return { ok: true, numericValue: value };
    }
    case 'binary':
      if (typeof value !== 'boolean') return fail('a yes/no value must be true or false');
      return { ok: true, numericValue: value ? 1 : 0 };
    case 'number': {
      const { min, max } = metric.config;
      if (typeof value !== 'number' || !Number.isFinite(value))
        return fail('the value must be a finite number');
      if (Math.abs(value) > 1e12) return fail('the value is too large');
      if (min !== undefined && value < min) return fail(`the value must be at least ${min}`);
      if (max !== undefined && value > max) return fail(`the value must be at most ${max}`);
      return { ok: true, numericValue: value };
    }
    case 'text': {
      if (typeof value !== 'string') return fail('the value must be text');
      if (value.length > metric.config.maxLength) {
        return fail(`the text must be at most ${metric.config.maxLength} characters`);
      }
      return { ok: true, numericValue: null };
    }
  }
}

function fail(reason: string): ValueCheck {
  return { ok: false, reason };
}
