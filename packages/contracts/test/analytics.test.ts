import { describe, expect, it } from 'vitest';
import { correlationsInput } from '../src/analytics';

describe('correlationsInput', () => {
  it('pages by default: 50 findings from the start', () => {
    expect(correlationsInput.parse(undefined)).toEqual({
      method: 'auto',
      maxLag: 1,
      minN: 14,
      q: 0.05,
      all: false,
      limit: 50,
    });
    expect(correlationsInput.parse({})).toMatchObject({ limit: 50 });
    expect(correlationsInput.parse({}).cursor).toBeUndefined();
  });

  it('takes maxLag up to its ceiling of 30, limit 1–1000 and a cursor from 0; refuses beyond', () => {
    expect(correlationsInput.parse({ maxLag: 30, limit: 1000, cursor: 0 })).toMatchObject({
      maxLag: 30,
      limit: 1000,
      cursor: 0,
    });
    expect(correlationsInput.parse({ limit: 1, cursor: 10_000_000 })).toMatchObject({ limit: 1 });
    for (const bad of [
      { maxLag: 31 },
      { limit: 0 },
      { limit: 1001 },
      { cursor: -1 },
      { cursor: 1.5 },
      { cursor: 10_000_001 },
    ]) {
      expect(correlationsInput.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
