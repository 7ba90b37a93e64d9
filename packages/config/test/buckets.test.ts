import { describe, expect, it } from 'vitest';
import { createKeyedBuckets } from '../src/buckets';

function clocked(perSecond: number, capacity: number) {
  let now = 0;
  const buckets = createKeyedBuckets({ perSecond, capacity, now: () => now });
  return { buckets, advance: (ms: number) => (now += ms) };
}

describe('keyed token buckets', () => {
  it('starts full, spends, refills at its rate and never beyond its capacity', () => {
    const { buckets, advance } = clocked(2, 10);
    expect(buckets.available('a')).toBe(10);
    buckets.take('a', 10);
    expect(buckets.available('a')).toBe(0);
    advance(1500);
    expect(buckets.available('a')).toBe(3);
    advance(60_000);
    expect(buckets.available('a')).toBe(10);
  });

  it('keeps each key apart', () => {
    const { buckets } = clocked(1, 5);
    buckets.take('a', 5);
    expect(buckets.available('a')).toBe(0);
    expect(buckets.available('b')).toBe(5);
    expect(buckets.size()).toBe(1);
  });

  it('goes into debt for a cost known afterwards, and says when the key may go on', () => {
    const { buckets, advance } = clocked(200, 5000); // 20 % of real time, in ms
    buckets.take('a', 9000);
    expect(buckets.available('a')).toBe(-4000);
    // 4,000 ms of debt at 200 ms a second: 20 s until it is above zero.
    expect(buckets.retryAfterSeconds('a')).toBe(20);
    advance(20_001);
    expect(buckets.available('a')).toBeGreaterThan(0);
    expect(buckets.retryAfterSeconds('a')).toBe(1);
  });

  it('says how long until a given amount is there', () => {
    const { buckets } = clocked(1, 10);
    buckets.take('a', 10);
    expect(buckets.retryAfterSeconds('a', 3)).toBe(3);
  });

  it('ignores negative amounts', () => {
    const { buckets } = clocked(1, 10);
    buckets.take('a', -50);
    expect(buckets.available('a')).toBe(10);
  });

  it('forgets full buckets, so memory follows the keys in use', () => {
    const { buckets, advance } = clocked(1000, 1);
    for (let i = 0; i < 5000; i++) {
      buckets.take(`key-${i}`, 1);
      advance(1); // each bucket is full again a millisecond later
    }
    expect(buckets.size()).toBeLessThanOrEqual(1024);
    advance(10);
    for (let i = 0; i < 1024; i++) buckets.take('busy', 0.001);
    expect(buckets.size()).toBe(1);
  });
});
