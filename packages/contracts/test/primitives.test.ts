import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localDate, timeOfDay } from '../src/primitives';

describe('localDate', () => {
  it.each(['2026-02-28', '2024-02-29', '1900-01-01', '2026-12-31'])('accepts %s', (value) => {
    expect(localDate.parse(value)).toBe(value);
  });

  it.each([
    ['2026-02-30', 'must be a real calendar date'],
    ['2025-02-29', 'must be a real calendar date'],
    ['2026-13-01', 'must be a real calendar date'],
    ['2026-1-01', 'must be a date as YYYY-MM-DD'],
    ['2026-01-01T00:00:00Z', 'must be a date as YYYY-MM-DD'],
    ['1899-12-31', 'must not be before 1900-01-01'],
  ])('refuses %s: %s', (value, message) => {
    const result = localDate.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toContain(message);
  });

  it('agrees with the calendar for every day of several years', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          const text = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
          expect(localDate.safeParse(text).success).toBe(d <= daysInMonth);
        },
      ),
    );
  });
});

describe('timeOfDay', () => {
  it('normalizes HH:MM to HH:MM:SS', () => {
    expect(timeOfDay.parse('07:30')).toBe('07:30:00');
    expect(timeOfDay.parse('23:59:59')).toBe('23:59:59');
  });

  it.each(['24:00', '7:30', '12:60', '12:00:60', '12:00:00.5', ''])('refuses %j', (value) => {
    expect(timeOfDay.safeParse(value).success).toBe(false);
  });
});
