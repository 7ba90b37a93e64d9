import { z } from 'zod';
import { entryValue, notes, tags } from './entries';
import { category, clientMutationId, metricName, metricTypes } from './metrics';
import { cleanJson, dateRange, id, localDate, orderedRange, text, timeOfDay } from './primitives';

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

export interface ImportCounts {
  created: number;
  updated: number;
  skipped: number;
}

export interface ImportReport {
  dryRun: boolean;
  metrics: ImportCounts;
  entries: ImportCounts;
}
