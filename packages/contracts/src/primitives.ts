import { z } from 'zod';

/**
 * A NUL character, or half of a UTF-16 surrogate pair without its other half. Neither can be stored
 * (PostgreSQL text and jsonb refuse NUL; a lone surrogate is not valid UTF-8) nor shown, so every
 * string the API takes refuses them.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUL = String.fromCharCode(0);

export const HOSTILE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** Whether a string holds a NUL character or a lone surrogate. */
export function isHostileText(value: string): boolean {
  return value.includes(NUL) || LONE_SURROGATE.test(value);
}

/** A string of storable text: the base of every string input of the API (see isHostileText). */
export function text() {
  return z.string().refine((value) => !isHostileText(value), { error: HOSTILE_TEXT_MESSAGE });
}

/** Object keys that would reach an object's prototype when copied into a plain object. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whether a JSON-like value holds, anywhere inside, a string or key that `text()` refuses, or a key
 * such as `__proto__`. Iterative, so deep nesting cannot overflow the stack.
 */
export function hostileJsonPath(value: unknown): string | null {
  const pending: [unknown, string][] = [[value, '']];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [current, path] = item;
    if (typeof current === 'string') {
      if (isHostileText(current)) return path || '(value)';
    } else if (Array.isArray(current)) {
      current.forEach((child, index) => {
        pending.push([child, `${path}[${index}]`]);
      });
    } else if (current !== null && typeof current === 'object') {
      for (const key of Object.keys(current)) {
        const at = path ? `${path}.${key}` : key;
        if (isHostileText(key) || PROTOTYPE_KEYS.has(key)) return at;
        pending.push([(current as Record<string, unknown>)[key], at]);
      }
    }
  }
  return null;
}

/** Any JSON value without hostile text or prototype keys inside (see hostileJsonPath). */
export function cleanJson() {
  return z.unknown().superRefine((value, ctx) => {
    const path = hostileJsonPath(value);
    if (path !== null)
      ctx.addIssue({ code: 'custom', message: `${path}: ${HOSTILE_TEXT_MESSAGE} or prototype keys` });
  });
}

/** A real calendar date `YYYY-MM-DD` (2026-02-30 is refused), from 1900-01-01 on. */
export const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date as YYYY-MM-DD' })
  .refine(isRealDate, { error: 'must be a real calendar date' })
  .refine((value) => value >= '1900-01-01', { error: 'must not be before 1900-01-01' });

/** A local time of day `HH:MM` or `HH:MM:SS`, normalized to `HH:MM:SS`. */
export const timeOfDay = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, { error: 'must be a time as HH:MM or HH:MM:SS' })
  .transform((value) => (value.length === 5 ? `${value}:00` : value));

export const id = z.uuid({ error: 'must be a UUID' });

/** A time of day exactly as stored, `HH:MM:SS` (a cursor's time). */
export const storedTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/, {
  error: 'must be a time as HH:MM:SS',
});

function isRealDate(value: string): boolean {
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** An optional date range: `from` and `to`, both inclusive local dates. */
export const dateRange = {
  from: localDate.optional(),
  to: localDate.optional(),
};

/** The input's range, when both ends are given, must not run backwards (reported on `to`). */
export function orderedRange<T extends z.ZodType<{ from?: string | undefined; to?: string | undefined }>>(
  schema: T,
) {
  return schema.refine((input) => !input.from || !input.to || input.from <= input.to, {
    error: 'from must not be after to',
    path: ['to'],
  });
}

/** The answer of `system.ping`: the API and the database answered. */
export const pong = z.object({ ok: z.literal(true), time: z.string() }).meta({ id: 'Pong' });

/** The body of every error of the REST API. */
export const apiError = z.object({
  /** BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, PAYLOAD_TOO_LARGE, TOO_MANY_REQUESTS, … */
  code: z.string().meta({ example: 'CONFLICT' }),
  message: z.string().meta({ example: 'the entry has changed (it is at version 4); reload and retry' }),
  /** Field problems (`issues: [{path, message}]`), the current object of a conflict, a retry delay… */
  details: z.record(z.string(), z.unknown()).optional(),
  /** The X-Request-Id of the request: quote it when reporting a problem. */
  requestId: z.string(),
});
