import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../src/index';

describe('reconnectDelay', () => {
  it('waits between half and all of the ceiling, whatever the random source says', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      expect(reconnectDelay(attempt, 250, 10_000, () => 0)).toBe(Math.round(ceiling / 2));
      expect(reconnectDelay(attempt, 250, 10_000, () => 0.999_999)).toBe(Math.round(ceiling));
      for (let sample = 0; sample < 200; sample++) {
        const delay = reconnectDelay(attempt, 250, 10_000);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('doubles the ceiling with each attempt and caps it at maxMs', () => {
    const ceilings = Array.from({ length: 8 }, (_, attempt) => reconnectDelay(attempt, 50, 500, () => 1));
    expect(ceilings).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);
    // Defaults: 250 ms, capped at 10 s.
    expect(reconnectDelay(0, undefined, undefined, () => 1)).toBe(250);
    expect(reconnectDelay(5, undefined, undefined, () => 1)).toBe(8_000);
    expect(reconnectDelay(6, undefined, undefined, () => 1)).toBe(10_000);
  });

  it('stays finite and capped for absurd attempt numbers', () => {
    for (const attempt of [31, 100, 1_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      const delay = reconnectDelay(attempt, 250, 10_000, () => 0.5);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBe(7_500);
    }
  });

  it('actually jitters: clients cut off together do not all retry at the same moment', () => {
    for (const attempt of [0, 3, 10]) {
      const delays = Array.from({ length: 200 }, () => reconnectDelay(attempt, 250, 10_000));
      const distinct = new Set(delays);
      expect(distinct.size).toBeGreaterThan(20);
      // Spread over the lower and the upper half of the allowed range.
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      expect(delays.some((delay) => delay < ceiling * 0.75)).toBe(true);
      expect(delays.some((delay) => delay > ceiling * 0.75)).toBe(true);
    }
  });
});
