import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metricConfigs, parseMetricConfig, type TypedMetric } from '../src/metrics';
import { checkEntryValue } from '../src/values';

const rating = (min: number, max: number): TypedMetric => ({
  type: 'rating',
  config: metricConfigs.rating.parse({ min, max }),
});

describe('checkEntryValue (property-based)', () => {
  it('a rating accepts exactly the whole numbers within its range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100, max: 99 }),
        fc.integer({ min: 1, max: 100 }),
        fc.oneof(fc.integer({ min: -300, max: 300 }), fc.double({ noNaN: false })),
        (min, span, value) => {
          const max = Math.min(100, min + span);
          const result = checkEntryValue(rating(min, max), value);
          const valid = Number.isInteger(value) && value >= min && value <= max;
          expect(result.ok).toBe(valid);
          if (result.ok) expect(result.numericValue).toBe(value);
        },
      ),
    );
  });

  it('a number accepts exactly the finite values within its optional bounds', () => {
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: undefined }),
        fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: undefined }),
        fc.double(),
        (a, b, value) => {
          const [min, max] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
          fc.pre(min === undefined || max === undefined || min < max);
          const metric = { type: 'number', config: metricConfigs.number.parse({ min, max }) } as TypedMetric;
          const valid =
            Number.isFinite(value) &&
            Math.abs(value) <= 1e12 &&
            (min === undefined || value >= min) &&
            (max === undefined || value <= max);
          expect(checkEntryValue(metric, value).ok).toBe(valid);
        },
      ),
    );
  });

  it('a duration accepts finite seconds from 0 to a week; binary only booleans; text up to its length', () => {
    const duration = { type: 'duration', config: metricConfigs.duration.parse({}) } as TypedMetric;
    const binary = { type: 'binary', config: metricConfigs.binary.parse({}) } as TypedMetric;
    fc.assert(
      fc.property(
        fc.anything(),
        fc.integer({ min: 1, max: 200 }),
        fc.string({ maxLength: 300 }),
        (value, maxLength, text) => {
          const durationValid =
            typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 604_800;
          expect(checkEntryValue(duration, value).ok).toBe(durationValid);
          const binaryResult = checkEntryValue(binary, value);
          expect(binaryResult.ok).toBe(typeof value === 'boolean');
          if (binaryResult.ok) expect(binaryResult.numericValue).toBe(value ? 1 : 0);
          const textMetric = { type: 'text', config: metricConfigs.text.parse({ maxLength }) } as TypedMetric;
          const textResult = checkEntryValue(textMetric, text);
          expect(textResult).toEqual(
            text.length <= maxLength
              ? { ok: true, numericValue: null }
              : expect.objectContaining({ ok: false }),
          );
        },
      ),
    );
  });

  it('never accepts NaN or an infinity for any numeric type', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const type of ['rating', 'duration', 'number'] as const) {
        const metric = { type, config: metricConfigs[type].parse({}) } as TypedMetric;
        expect(checkEntryValue(metric, value).ok).toBe(false);
      }
    }
  });
});

describe('parseMetricConfig', () => {
  it('fills defaults per type and refuses keys of another type', () => {
    expect(parseMetricConfig('rating', undefined)).toMatchObject({ success: true, data: { min: 1, max: 5 } });
    expect(parseMetricConfig('binary', { maxLength: 3 }).success).toBe(false);
    expect(parseMetricConfig('rating', { min: 4, max: 2 }).success).toBe(false);
  });
});
