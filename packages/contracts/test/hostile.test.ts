import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clientMutationId,
  createEntryInput,
  createMetricInput,
  exportDocument,
  hostileJsonPath,
  importInput,
  isHostileText,
  listEntriesInput,
  loginInput,
  updateMetricInput,
  updatePreferencesInput,
} from '../src';

const NUL = String.fromCharCode(0);
const LONE_HIGH = String.fromCharCode(0xd800);
const LONE_LOW = String.fromCharCode(0xdc00);
const metricId = '0b8f6c1e-6a0b-4d2c-9f3e-8a7b6c5d4e3f';

describe('hostile text', () => {
  it('finds NUL and lone surrogates, and accepts well-formed pairs', () => {
    expect(isHostileText(`a${NUL}b`)).toBe(true);
    expect(isHostileText(`a${LONE_HIGH}`)).toBe(true);
    expect(isHostileText(`${LONE_LOW}a`)).toBe(true);
    expect(isHostileText(`${LONE_LOW}${LONE_HIGH}`)).toBe(true);
    expect(isHostileText('😀 café')).toBe(false);
  });

  it('agrees with well-formedness for any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const wellFormed = encodeURIComponentSafe(value);
        expect(isHostileText(value)).toBe(!wellFormed || value.includes(NUL));
      }),
    );
  });

  const cases: [string, () => unknown][] = [
    ['notes', () => createEntryInput.safeParse({ metricId, value: 1, date: '2026-01-01', notes: `x${NUL}` })],
    [
      'a text value',
      () => createEntryInput.safeParse({ metricId, value: `v${LONE_HIGH}`, date: '2026-01-01' }),
    ],
    [
      'a tag',
      () => createEntryInput.safeParse({ metricId, value: 1, date: '2026-01-01', tags: [`t${NUL}`] }),
    ],
    [
      'a metric name',
      () => createMetricInput.safeParse({ name: `m${NUL}`, type: 'binary', category: 'habits' }),
    ],
    ['clientMutationId', () => clientMutationId.safeParse(`c${NUL}`)],
    ['a listing tag', () => listEntriesInput.safeParse({ tag: `t${NUL}` })],
    ['a cursor', () => listEntriesInput.safeParse({ cursor: `c${NUL}` })],
    ['a login email', () => loginInput.safeParse({ email: `a${NUL}@b.c`, password: 'x' })],
    ['a password', () => loginInput.safeParse({ email: 'a@b.c', password: `p${NUL}` })],
    [
      'preferences ui',
      () => updatePreferencesInput.safeParse({ preferences: { ui: { deep: [{ x: `v${NUL}` }] } } }),
    ],
    [
      'a preferences key',
      () => updatePreferencesInput.safeParse({ preferences: { ui: { [`k${NUL}`]: 1 } } }),
    ],
    [
      'a metric config',
      () => updateMetricInput.safeParse({ id: metricId, baseVersion: 1, config: { unit: `u${NUL}` } }),
    ],
    ['an import document', () => importInput.safeParse({ document: { metrics: [{ name: `m${NUL}` }] } })],
    [
      'an export document',
      () =>
        exportDocument.safeParse({
          format: 'lifexp',
          version: 1,
          metrics: [{ id: metricId, name: 'M', type: 'text', category: 'custom' }],
          entries: [{ id: metricId, metricId, value: `v${NUL}`, date: '2026-01-01' }],
        }),
    ],
  ];
  it.each(cases)('refuses hostile text in %s', (_name, parse) => {
    expect((parse() as { success: boolean }).success).toBe(false);
  });

  it('finds prototype keys and hostile text at any depth, without recursion', () => {
    expect(hostileJsonPath(JSON.parse('{"a":{"__proto__":{"x":1}}}'))).toBe('a.__proto__');
    expect(hostileJsonPath({ a: [1, { constructor: 2 }] })).toBe('a[1].constructor');
    let deep: unknown = `x${NUL}`;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(hostileJsonPath(deep)).not.toBeNull();
    expect(hostileJsonPath({ a: ['fine', { b: 'also fine 😀' }] })).toBeNull();
  });
});

function encodeURIComponentSafe(value: string): boolean {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}
