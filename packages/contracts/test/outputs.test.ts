import { describe, expect, it } from 'vitest';
import { correlationsResult, entry, listEntriesInput, metric, publicUser } from '../src';

const stamp = '2026-11-25T08:00:00.000Z';
const base = {
  id: 'm1',
  name: 'Mood',
  category: 'mood',
  isActive: true,
  version: 1,
  createdAt: stamp,
  updatedAt: stamp,
};

describe('output schemas', () => {
  it('check a metric against the config of its own type, and keep nothing the contract does not name', () => {
    const rating = {
      ...base,
      type: 'rating',
      config: { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' },
    };
    expect(metric.parse({ ...rating, userId: 'someone', deletedAt: null })).toEqual(rating);
    // A number config on a rating metric is not a rating's config.
    expect(
      metric.safeParse({ ...rating, config: { unit: 'kg', aggregation: 'mean', missing: 'unknown' } })
        .success,
    ).toBe(false);
    expect(metric.safeParse({ ...rating, type: 'mood' }).success).toBe(false);
  });

  it('leave no hash or internal column in a user, and allow null where the contract does', () => {
    const user = { id: 'u1', email: 'a@example.test', timezone: 'UTC', preferences: {}, createdAt: stamp };
    expect(publicUser.parse({ ...user, passwordHash: '$argon2id$…' })).toEqual(user);
    const item = {
      id: 'e1',
      metricId: 'm1',
      value: 'a line',
      numericValue: null,
      date: '2026-11-25',
      time: null,
      notes: null,
      tags: [],
      version: 1,
      createdAt: stamp,
      updatedAt: stamp,
    };
    expect(entry.parse(item)).toEqual(item);
    expect(entry.safeParse({ ...item, value: null }).success).toBe(false);
  });

  it('type the correlations answer (null bounds and cursors allowed, findings checked)', () => {
    const answer = {
      from: null,
      to: '2026-11-25',
      findings: [],
      total: 0,
      nextCursor: null,
      testsRun: 0,
      skipped: 2,
    };
    expect(correlationsResult.parse(answer)).toEqual(answer);
    expect(correlationsResult.safeParse({ ...answer, findings: [{ lag: 1 }] }).success).toBe(false);
  });
});

describe('entries.list tag filter', () => {
  it('takes one tag or a list of them, normalized, and refuses an empty or too long list', () => {
    expect(listEntriesInput.parse({ tag: ' Work ' }).tag).toBe('work');
    expect(listEntriesInput.parse({ tag: ['Work', 'home'] }).tag).toEqual(['work', 'home']);
    expect(listEntriesInput.safeParse({ tag: [] }).success).toBe(false);
    expect(listEntriesInput.safeParse({ tag: Array.from({ length: 33 }, (_, i) => `t${i}`) }).success).toBe(
      false,
    );
  });
});
