import { createMetricInput } from '@lifexp/contracts';
import { describe, expect, it } from 'vitest';
import { configOf, draftOf, emptyDraft, type MetricDraft } from '../src/screens/Metrics';

function input(draft: MetricDraft) {
  return createMetricInput.safeParse({
    name: draft.name,
    type: draft.type,
    category: draft.category,
    config: configOf(draft),
  });
}

describe('the metric form', () => {
  it('turns each type’s fields into a config the API takes', () => {
    const base = { ...emptyDraft(), name: 'x' };
    const drafts: MetricDraft[] = [
      { ...base, type: 'rating', min: '0', max: '10', aggregation: 'mean' },
      { ...base, type: 'duration', displayUnit: 'hours', aggregation: 'sum', missing: 'zero' },
      { ...base, type: 'binary', aggregation: 'max' },
      { ...base, type: 'number', min: '', max: '', unit: 'kg', decimals: '1', aggregation: 'last' },
      { ...base, type: 'text', aggregation: 'last' },
    ];
    for (const draft of drafts) expect(input(draft).success, draft.type).toBe(true);
    expect(configOf(drafts[1]!)).toEqual({ displayUnit: 'hours', aggregation: 'sum', missing: 'zero' });
    expect(configOf(drafts[3]!)).toEqual({
      unit: 'kg',
      decimals: 1,
      aggregation: 'last',
      missing: 'unknown',
    });
  });

  it('leaves a bad range for the API to refuse on the range', () => {
    const result = input({ ...emptyDraft(), name: 'x', type: 'rating', min: '5', max: '1' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('min must be less than max');
  });

  it('round-trips a stored metric', () => {
    const draft = draftOf({
      id: '00000000-0000-4000-8000-000000000001',
      name: 'Weight',
      type: 'number',
      category: 'health',
      config: { unit: 'kg', min: 20, aggregation: 'mean', missing: 'unknown' },
      isActive: true,
      version: 1,
      createdAt: '',
      updatedAt: '',
    });
    expect(draft).toMatchObject({ name: 'Weight', unit: 'kg', min: '20', max: '', aggregation: 'mean' });
    expect(configOf(draft)).toEqual({ unit: 'kg', min: 20, aggregation: 'mean', missing: 'unknown' });
  });
});
