import fc from 'fast-check';
import { z } from 'zod';
import { appRouter } from '../src/trpc/router';
import { send as httpSend } from './support';

/**
 * The router as data, for the suites that must cover every procedure, today's and tomorrow's: each
 * procedure's path, type and input schemas, read from `appRouter` itself.
 */
export interface ProcedureInfo {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  inputs: z.ZodType[];
  /** The JSON schema of the (first) input, as a client would send it; null without input. */
  json: JsonSchema | null;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  default?: unknown;
}

export function listProcedures(): ProcedureInfo[] {
  const procedures = appRouter._def.procedures as unknown as Record<
    string,
    { _def: { type: ProcedureInfo['type']; inputs: z.ZodType[] } }
  >;
  return Object.entries(procedures)
    .map(([path, procedure]) => {
      const inputs = procedure._def.inputs;
      const json = inputs[0]
        ? (z.toJSONSchema(inputs[0], { unrepresentable: 'any', io: 'input', cycles: 'ref' }) as JsonSchema)
        : null;
      return { path, type: procedure._def.type, inputs, json };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Every place in a schema where an id (a UUID) goes, as a path of property names ('*' for array items). */
export function idPaths(schema: JsonSchema | null, path: string[] = []): string[][] {
  if (!schema) return [];
  if (schema.format === 'uuid') return [path];
  const found: string[][] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    found.push(...idPaths(child, [...path, key]));
  if (schema.items) found.push(...idPaths(schema.items, [...path, '*']));
  for (const option of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    found.push(...idPaths(option, path));
  return found;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const two = (n: number) => String(n).padStart(2, '0');
const dateArbitrary = fc
  .integer({ min: Date.UTC(1899, 11, 25), max: Date.UTC(2030, 0, 1) })
  .map((ms) => new Date(ms).toISOString().slice(0, 10));
const timeArbitrary = fc
  .tuple(
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.option(fc.integer({ min: 0, max: 59 })),
  )
  .map(([h, m, s]) => `${two(h)}:${two(m)}${s === null ? '' : `:${two(s)}`}`);

export interface ArbitraryOptions {
  /** Ids worth trying: the caller's own objects (so that valid calls reach the data), another user's. */
  ids: () => string[];
  /** Cap on generated array lengths (the schema's own maximum may be far larger). */
  maxItems?: number;
}

/** A fast-check arbitrary of inputs that mostly satisfy the JSON schema (and sometimes just miss it). */
export function arbitraryFromSchema(
  schema: JsonSchema | null,
  options: ArbitraryOptions,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.constant(undefined);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const options_ = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  if (options_.length > 0)
    return fc.oneof(...options_.map((option) => arbitraryFromSchema(option, options, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid')
        return fc.oneof(
          {
            weight: 3,
            arbitrary: fc.constant(null).chain(() => fc.constantFrom(...fallbackIds(options.ids()))),
          },
          { weight: 1, arbitrary: fc.uuid() },
        );
      if (schema.pattern === DATE.source) return dateArbitrary;
      if (schema.pattern?.includes(':[0-5]\\d')) return timeArbitrary;
      if (schema.format === 'email') return fc.emailAddress();
      if (schema.pattern) {
        try {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((value) => value.length <= (schema.maxLength ?? 1_000));
        } catch {
          // fall through to plain strings
        }
      }
      return fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 40, 40),
        unit: 'grapheme',
      });
    }
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1_000, -1_000_000),
        max: Math.min(schema.maximum ?? 1_000, 1_000_000),
      });
    case 'number':
      return fc.double({
        min: schema.minimum ?? schema.exclusiveMinimum ?? -1e6,
        max: schema.maximum ?? schema.exclusiveMaximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryFromSchema(schema.items ?? {}, options, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 5, options.maxItems ?? 5)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(properties))
        shape[key] = arbitraryFromSchema(child, options, depth + 1);
      if (Object.keys(shape).length === 0)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      return fc.record(shape, { requiredKeys: [...required].filter((key) => key in shape) });
    }
    default:
      // An unconstrained value (z.unknown(), a document): any JSON, and sometimes a small export document.
      return fc.oneof(fc.jsonValue({ maxDepth: 3 }), exportDocumentArbitrary(options));
  }
}

function fallbackIds(ids: string[]): string[] {
  return ids.length > 0 ? ids : ['00000000-0000-4000-8000-000000000000'];
}

function exportDocumentArbitrary(options: ArbitraryOptions) {
  const metricId = fc.oneof(
    fc.uuid(),
    fc.constant(null).chain(() => fc.constantFrom(...fallbackIds(options.ids()))),
  );
  return fc.record({
    format: fc.constant('lifexp'),
    version: fc.constant(1),
    metrics: fc.array(
      fc.record({
        id: metricId,
        name: fc.string({ minLength: 1, maxLength: 12 }),
        type: fc.constantFrom('rating', 'duration', 'binary', 'number', 'text'),
        category: fc.constantFrom('mood', 'custom'),
      }),
      { maxLength: 2 },
    ),
    entries: fc.array(
      fc.record({
        id: fc.uuid(),
        metricId,
        value: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.string({ maxLength: 10 })),
        date: dateArbitrary,
        notes: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      }),
      { maxLength: 3 },
    ),
  });
}

/** A value whose JSON text is written as it is: what JSON.stringify cannot produce (1e999, NaN-like). */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON() {
    return `RawJson(${this.text.slice(0, 40)})`;
  }
  [fc.toStringMethod]() {
    return `RawJson(${this.text.length > 40 ? `${this.text.slice(0, 40)}… (${this.text.length} characters)` : this.text})`;
  }
}

/** JSON text of a value, with RawJson pieces spliced in and own `__proto__` keys written as keys. */
export function toJsonText(value: unknown): string {
  const pending: string[] = [];
  const write = (current: unknown): void => {
    if (current instanceof RawJson) pending.push(current.text);
    else if (Array.isArray(current)) {
      pending.push('[');
      current.forEach((item, index) => {
        if (index > 0) pending.push(',');
        write(item === undefined ? null : item);
      });
      pending.push(']');
    } else if (current !== null && typeof current === 'object') {
      pending.push('{');
      let first = true;
      for (const key of Object.keys(current)) {
        const child = (current as Record<string, unknown>)[key];
        if (child === undefined) continue;
        if (!first) pending.push(',');
        first = false;
        pending.push(JSON.stringify(key), ':');
        write(child);
      }
      pending.push('}');
    } else pending.push(JSON.stringify(current) ?? 'null');
  };
  write(value);
  return pending.join('');
}

const NUL = String.fromCharCode(0);
const hostileLeaves: fc.Arbitrary<unknown>[] = [
  fc.constantFrom(
    `x${NUL}y`,
    NUL,
    String.fromCharCode(0xd800),
    `a${String.fromCharCode(0xdfff)}`,
    '\u202e\u0000',
  ),
  fc.constantFrom(
    new RawJson('1e999'),
    new RawJson('-1e999'),
    new RawJson('1e308'),
    new RawJson('-0'),
    new RawJson('123456789012345678901234567890'),
    Number.MAX_SAFE_INTEGER + 2,
    Number.MIN_VALUE,
    -1,
    0,
  ),
  fc.constantFrom(
    '-'.repeat(36),
    '00000000-0000-0000-0000-000000000000',
    '99:99:99',
    '2026-02-30',
    '9999-99-99',
  ),
  fc.constantFrom(true, false, null, [], {}, '', 'null', '[object Object]'),
  fc
    .constant(null)
    .map(() => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}')),
  // Deep nesting as raw text: the parsers meet 3,000 levels, while a printed counterexample stays short.
  fc.constant(new RawJson(`${'['.repeat(3_000)}1${']'.repeat(3_000)}`)),
  fc.constant(new RawJson(`${'{"a":'.repeat(2_000)}"leaf"${'}'.repeat(2_000)}`)),
  // Oversized values as raw text too, so that shrinking a failure never walks 5,000 items.
  fc.constant(new RawJson(`[${Array.from({ length: 5_000 }, (_, i) => i).join(',')}]`)),
  fc.constant(new RawJson(JSON.stringify('long'.repeat(5_000)))),
];

/** A hostile value anywhere: replace one spot of a generated input (or the whole input) by something nasty. */
export function hostile(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(...hostileLeaves);
  return fc.tuple(base, leaf, fc.nat(), fc.boolean()).map(([input, nasty, pick, asKey]) => {
    const spots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const visit = (value: unknown) => {
      if (Array.isArray(value))
        value.forEach((item, index) => {
          spots.push({ parent: value, key: index });
          visit(item);
        });
      else if (value !== null && typeof value === 'object') {
        for (const key of Object.keys(value)) {
          spots.push({ parent: value as Record<string, unknown>, key });
          visit((value as Record<string, unknown>)[key]);
        }
      }
    };
    const copy = structuredCloneSafe(input);
    visit(copy);
    if (spots.length === 0) return nasty;
    const spot = spots[pick % spots.length]!;
    if (asKey && !Array.isArray(spot.parent) && typeof nasty === 'string' && nasty.length < 100) {
      spot.parent[nasty] = spot.parent[spot.key as string];
    } else (spot.parent as Record<string | number, unknown>)[spot.key] = nasty;
    return copy;
  });
}

function structuredCloneSafe(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Percent-encodes UTF-8 bytes: the query string of a GET call. */
function encodeQuery(text: string): string {
  return [...new TextEncoder().encode(text)]
    .map((byte) =>
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/**
 * One call of a procedure over HTTP with a bearer token, as any client sends it: a mutation as a POST
 * body, a query or subscription as `?input=`. A subscription may stream: only its status is read.
 */
export async function callProcedure(url: string, procedure: ProcedureInfo, input: unknown, token: string) {
  const text = input === undefined ? undefined : toJsonText(input);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const abort = new AbortController();
  const target =
    procedure.type === 'mutation'
      ? `${url}/trpc/${procedure.path}`
      : `${url}/trpc/${procedure.path}${text === undefined ? '' : `?input=${encodeQuery(text)}`}`;
  const response = await httpSend(target, {
    method: procedure.type === 'mutation' ? 'POST' : 'GET',
    headers,
    signal: abort.signal,
    ...(procedure.type === 'mutation' ? { body: text ?? '' } : {}),
  });
  // A subscription over HTTP may stream: its status is what matters.
  const body = procedure.type === 'subscription' ? '' : await response.text();
  abort.abort();
  return { status: response.status, body };
}
