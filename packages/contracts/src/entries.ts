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

const tagFilter = text().trim().toLowerCase().min(1).max(64);

export const listEntriesInput = orderedRange(
  z.strictObject({
    ...dateRange,
    metricId: id.optional(),
    /** Entries carrying this tag, or every one of these tags. */
    tag: z.union([tagFilter, z.array(tagFilter).min(1).max(MAX_TAGS)]).optional(),
    /** Opaque: the nextCursor of the previous page. */
    cursor: text().max(200).optional(),
    limit: z.number().int().min(1).max(500).default(100),
  }),
).default({ limit: 100 });
export type ListEntriesInput = z.infer<typeof listEntriesInput>;

/** An entry as the API returns it. */
export const entry = z
  .object({
    id: z.string(),
    metricId: z.string(),
    value: z.union([z.number(), z.boolean(), z.string()]),
    /** The number the analytics use: binary 0/1, text null. */
    numericValue: z.number().nullable(),
    date: z.string(),
    time: z.string().nullable(),
    notes: z.string().nullable(),
    tags: z.array(z.string()),
    /** Starts at 1 and grows with every change: the `baseVersion` (or `If-Match`) of the next write. */
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({
    id: 'Entry',
    example: {
      id: '5f0e3a1c-7b2d-4e8f-9c6a-1d2e3f4a5b6c',
      metricId: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10',
      value: 4,
      numericValue: 4,
      date: '2026-11-25',
      time: '21:30:00',
      notes: null,
      tags: ['work'],
      version: 1,
      createdAt: '2026-11-25T21:30:05.000Z',
      updatedAt: '2026-11-25T21:30:05.000Z',
    },
  });
export type Entry = z.infer<typeof entry>;

/** One page of entries, newest first; `nextCursor` fetches the next (null on the last page). */
export const entryPage = z
  .object({ items: z.array(entry), nextCursor: z.string().nullable() })
  .meta({ id: 'EntryPage' });

export const entryList = z.array(entry).meta({ id: 'EntryList' });

export const deletedEntry = z.object({ id: z.string() }).meta({ id: 'DeletedEntry' });
