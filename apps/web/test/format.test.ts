import { addDays, localToday } from '@lifexp/analytics';
import { describe, expect, it } from 'vitest';
import {
  durationSeconds,
  fieldErrors,
  formatDuration,
  formatP,
  formatValue,
  isNetworkError,
  parseTags,
  signed,
  unitOf,
} from '../src/lib/format';

describe('dates', () => {
  it('takes today in the user’s time zone, not the machine’s', () => {
    const instant = new Date('2026-03-01T23:30:00Z');
    expect(localToday('UTC', instant)).toBe('2026-03-01');
    expect(localToday('Europe/Berlin', instant)).toBe('2026-03-02');
    expect(localToday('America/Los_Angeles', instant)).toBe('2026-03-01');
  });

  it('shifts dates across months, leap days and years', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
  });
});

describe('durations', () => {
  it('reads hours and minutes as typed', () => {
    expect(durationSeconds('7', '30')).toBe(27_000);
    expect(durationSeconds('', '45')).toBe(2_700);
    expect(durationSeconds('1.5', '')).toBe(5_400);
  });

  it('refuses nothing, negatives and words', () => {
    expect(durationSeconds('', '')).toBeNull();
    expect(durationSeconds('-1', '0')).toBeNull();
    expect(durationSeconds('seven', '')).toBeNull();
  });

  it('shows seconds as hours and minutes', () => {
    expect(formatDuration(27_000)).toBe('7 h 30 min');
    expect(formatDuration(3_600)).toBe('1 h');
    expect(formatDuration(2_700)).toBe('45 min');
  });
});

describe('values in the metric’s terms', () => {
  it('formats each type', () => {
    expect(formatValue({ type: 'binary', config: { aggregation: 'max', missing: 'unknown' } }, true)).toBe(
      'Yes',
    );
    expect(formatValue({ type: 'binary', config: { aggregation: 'max', missing: 'unknown' } }, false)).toBe(
      'No',
    );
    expect(
      formatValue({ type: 'rating', config: { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' } }, 4),
    ).toBe('4 / 5');
    expect(
      formatValue(
        { type: 'number', config: { unit: 'kg', decimals: 1, aggregation: 'mean', missing: 'unknown' } },
        70,
      ),
    ).toBe('70.0 kg');
    expect(
      formatValue(
        { type: 'duration', config: { displayUnit: 'hours', aggregation: 'sum', missing: 'unknown' } },
        5_400,
      ),
    ).toBe('1 h 30 min');
  });

  it('names the unit of numbers and durations', () => {
    expect(unitOf({ type: 'number', config: { unit: 'km', aggregation: 'sum', missing: 'zero' } })).toBe(
      'km',
    );
    expect(
      unitOf({ type: 'duration', config: { displayUnit: 'hours', aggregation: 'sum', missing: 'unknown' } }),
    ).toBe('h');
    expect(
      unitOf({ type: 'rating', config: { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' } }),
    ).toBe('');
  });

  it('prints p-values and signed slopes readably', () => {
    expect(formatP(0.0004)).toBe('< 0.001');
    expect(formatP(0.0042)).toBe('0.004');
    expect(formatP(0.31)).toBe('0.31');
    expect(signed(0.314)).toBe('+0.31');
    expect(signed(-1.2)).toBe('−1.20');
  });

  it('splits tags and drops empty ones', () => {
    expect(parseTags(' late, , work ,')).toEqual(['late', 'work']);
    expect(parseTags('')).toEqual([]);
  });
});

describe('API errors on forms', () => {
  it('puts schema errors on their fields', () => {
    const error = {
      message: 'email: must be an email address; password: too short',
      data: {
        code: 'BAD_REQUEST',
        zodError: {
          properties: {
            email: { errors: ['must be an email address'] },
            password: { errors: ['too short'] },
          },
        },
      },
    };
    expect(fieldErrors(error, ['email', 'password'])).toEqual({
      email: 'must be an email address',
      password: 'too short',
    });
  });

  it('puts other errors where their code belongs, or on the form', () => {
    const taken = { message: 'an account with this email already exists', data: { code: 'CONFLICT' } };
    expect(fieldErrors(taken, ['email'], { CONFLICT: 'email' })).toEqual({ email: taken.message });
    const busy = { message: 'too many attempts', data: { code: 'TOO_MANY_REQUESTS' } };
    expect(fieldErrors(busy, ['email'], { CONFLICT: 'email' })).toEqual({ form: 'too many attempts' });
    expect(fieldErrors(null, ['email'])).toEqual({});
  });

  it('tells a request that never arrived from an answer', () => {
    expect(isNetworkError({ message: 'Failed to fetch', cause: new TypeError('Failed to fetch') })).toBe(
      true,
    );
    expect(isNetworkError({ message: 'not signed in', data: { code: 'UNAUTHORIZED' } })).toBe(false);
    expect(isNetworkError({ message: 'the value must be at most 5', data: { code: 'BAD_REQUEST' } })).toBe(
      false,
    );
  });
});
