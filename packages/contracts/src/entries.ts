import { z } from 'zod';
import { clientMutationId } from './metrics';
import { dateRange, id, localDate, orderedRange, text, timeOfDay } from './primitives';

export const MAX_TAGS = 32;
export const MAX_BATCH = 1_000;

/** Up to 32 tags of up to 64 characters, trimmed, lower-cased and de-duplicated (first order kept). */
export const tags = z
  .array(
    text()
      .trim()
      .toLowerCase()
      .min(1, { error: 'a tag must not be empty' })
      .max(64, { error: 'a tag must be at most 64 characters' }),
  )
  .max(MAX_TAGS, { error: `at most ${MAX_TAGS} tags` })
  .transform((list) => [...new Set(list)]);

/** Any JSON scalar; whether it suits the metric is checked against the metric itself. */
export const entryValue = z.union([z.number(), z.boolean(), text().max(10_000)], {
  error: 'must be a number, true/false or text',
});

export const notes = text().max(10_000, { error: 'must be at most 10000 characters' });

export const createEntryInput = z.strictObject({
  /** Client-generated, so that a retried or offline-queued create is applied once. */
  id: id.optional(),
  metricId: id,
  value: entryValue,
  date: localDate,
  time: timeOfDay.optional(),
  notes: notes.optional(),
  tags: tags.optional(),
  clientMutationId,
});
export type CreateEntryInput = z.infer<typeof createEntryInput>;

export const createManyEntriesInput = z.strictObject({
  entries: z
    .array(createEntryInput.omit({ clientMutationId: true }))
    .min(1, { error: 'give at least one entry' })
    .max(MAX_BATCH, { error: `at most ${MAX_BATCH} entries per call` }),
  clientMutationId,
});

export const updateEntryInput = z.strictObject({
  id,
  baseVersion: z.number().int().min(1),
  value: entryValue.optional(),
  date: localDate.optional(),
  time: timeOfDay.nullable().optional(),
  notes: notes.nullable().optional(),
  tags: tags.optional(),
  clientMutationId,
});
export type UpdateEntryInput = z.infer<typeof updateEntryInput>;

export const listEntriesInput = orderedRange(
  z.strictObject({
    ...dateRange,
    metricId: id.optional(),
    tag: text().trim().toLowerCase().min(1).max(64).optional(),
    /** Opaque: the nextCursor of the previous page. */
    cursor: text().max(200).optional(),
    limit: z.number().int().min(1).max(500).default(100),
  }),
).default({ limit: 100 });
export type ListEntriesInput = z.infer<typeof listEntriesInput>;

export interface Entry {
  id: string;
  metricId: string;
  value: number | boolean | string;
  numericValue: number | null;
  date: string;
  time: string | null;
  notes: string | null;
  tags: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
}
