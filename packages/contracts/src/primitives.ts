import { z } from 'zod';

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
