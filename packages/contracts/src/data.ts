import { z } from 'zod';
import { insight } from './analytics';
import { entry, entryValue, notes, tags } from './entries';
import { category, clientMutationId, metric, metricName, metricTypes } from './metrics';
import { cleanJson, dateRange, id, localDate, orderedRange, text, timeOfDay } from './primitives';
import { publicUser } from './users';

export const EXPORT_FORMAT_VERSION = 1;
export const CSV_COLUMNS = [
  'date',
  'time',
  'metric',
  'category',
  'type',
  'value',
  'unit',
  'notes',
  'tags',
] as const;

export const exportInput = orderedRange(
  z.strictObject({
    format: z.enum(['json', 'csv']).default('json'),
    ...dateRange,
    metricIds: z.array(id).min(1).max(500).optional(),
  }),
).default({ format: 'json' });
export type ExportInput = z.infer<typeof exportInput>;

/** The exported metric: the metric as the API shows it (its config is checked against its type on import). */
const documentMetric = z.strictObject({
  id,
  name: metricName,
  type: z.enum(metricTypes),
  category,
  config: z.record(text(), cleanJson()).default({}),
  isActive: z.boolean().default(true),
  version: z.number().int().min(1).optional(),
  createdAt: text().optional(),
  updatedAt: text().optional(),
});

const documentEntry = z.strictObject({
  id,
  metricId: id,
  value: entryValue,
  numericValue: z.number().nullable().optional(),
  date: localDate,
  time: timeOfDay.nullable().optional(),
  notes: notes.nullable().optional(),
  tags: tags.default([]),
  version: z.number().int().min(1).optional(),
  createdAt: text().optional(),
  updatedAt: text().optional(),
});

/** A Life XP export, version 1: what `data.export` writes and `data.import` reads. */
export const exportDocument = z.strictObject({
  format: z.literal('lifexp', { error: 'must be "lifexp"' }),
  version: z.literal(EXPORT_FORMAT_VERSION, { error: `must be ${EXPORT_FORMAT_VERSION}` }),
  exportedAt: text().optional(),
  user: z
    .strictObject({
      email: text().optional(),
      timezone: text().optional(),
      preferences: z.record(text(), cleanJson()).optional(),
      createdAt: text().optional(),
    })
    .optional(),
  metrics: z.array(documentMetric).max(1_000),
  entries: z.array(documentEntry).max(2_000_000),
  /** Kept in exports for the record; insights are recomputed, never imported. */
  insights: z.array(cleanJson()).optional(),
});
export type ExportDocument = z.infer<typeof exportDocument>;
export type DocumentMetric = z.infer<typeof documentMetric>;
export type DocumentEntry = z.infer<typeof documentEntry>;

export const importOptions = {
  /** Report what would happen, write nothing. */
  dryRun: z.boolean().default(false),
  /** An entry that exists with different content: keep ours (skip) or take the document's (overwrite). */
  onConflict: z.enum(['skip', 'overwrite']).default('skip'),
  clientMutationId,
};

export const importInput = z.strictObject({
  /** The document as parsed JSON; checked in full before anything is written. */
  document: cleanJson(),
  ...importOptions,
});

export interface ImportProblem {
  /** JSON path of the offending value, e.g. entries[12].value. */
  path: string;
  message: string;
}

export const importCounts = z
  .object({ created: z.number().int(), updated: z.number().int(), skipped: z.number().int() })
  .meta({ id: 'ImportCounts' });
export type ImportCounts = z.infer<typeof importCounts>;

export const importReport = z
  .object({ dryRun: z.boolean(), metrics: importCounts, entries: importCounts })
  .meta({
    id: 'ImportReport',
    example: {
      dryRun: false,
      metrics: { created: 2, updated: 0, skipped: 0 },
      entries: { created: 14, updated: 0, skipped: 0 },
    },
  });
export type ImportReport = z.infer<typeof importReport>;

/** A document as `data.export` writes it (what `data.import` reads back). */
export const exportedDocument = z
  .object({
    format: z.literal('lifexp'),
    version: z.literal(EXPORT_FORMAT_VERSION),
    exportedAt: z.string(),
    user: publicUser.omit({ id: true }),
    metrics: z.array(metric),
    entries: z.array(entry),
    insights: z.array(insight),
  })
  .meta({ id: 'ExportDocument' });
export type ExportedDocument = z.infer<typeof exportedDocument>;

/** `data.export`: the document itself (format json) or the CSV text (format csv). */
export const exportResult = z
  .discriminatedUnion('format', [
    z.object({ format: z.literal('json'), filename: z.string(), content: exportedDocument }),
    z.object({ format: z.literal('csv'), filename: z.string(), content: z.string() }),
  ])
  .meta({ id: 'Export' });
