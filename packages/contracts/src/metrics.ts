import { z } from 'zod';
import { cleanJson, id, text } from './primitives';

export const metricTypes = ['rating', 'duration', 'binary', 'number', 'text'] as const;
export type MetricType = (typeof metricTypes)[number];

export const categories = ['sleep', 'mood', 'productivity', 'health', 'fitness', 'habits', 'custom'] as const;
export const category = z.enum(categories, { error: `must be one of ${categories.join(', ')}` });

/** How several entries of one day combine into the day's value. */
export const aggregations = ['sum', 'mean', 'last', 'min', 'max'] as const;
export const aggregation = z.enum(aggregations, { error: `must be one of ${aggregations.join(', ')}` });

/** What a day without an entry means: unknown (left out of the analytics) or zero. */
export const missingDay = z.enum(['unknown', 'zero'], { error: 'must be unknown or zero' });

const LIMIT = 1e12;
const bound = z.number().finite().min(-LIMIT).max(LIMIT);

export const ratingConfig = z
  .strictObject({
    min: z.number().int().min(-100).max(100).default(1),
    max: z.number().int().min(-100).max(100).default(5),
    aggregation: aggregation.default('mean'),
    missing: missingDay.default('unknown'),
  })
  .refine((config) => config.min < config.max, { error: 'min must be less than max', path: ['max'] });

export const durationConfig = z.strictObject({
  /** How the dashboard shows the stored seconds. */
  displayUnit: z.enum(['seconds', 'minutes', 'hours']).default('minutes'),
  aggregation: aggregation.default('sum'),
  missing: missingDay.default('unknown'),
});

export const binaryConfig = z.strictObject({
  /** max: the day counts as "yes" if any entry of it says yes. */
  aggregation: aggregation.default('max'),
  missing: missingDay.default('unknown'),
});

export const numberConfig = z
  .strictObject({
    min: bound.optional(),
    max: bound.optional(),
    unit: text().trim().max(16).optional(),
    decimals: z.number().int().min(0).max(6).optional(),
    aggregation: aggregation.default('mean'),
    missing: missingDay.default('unknown'),
  })
  .refine((config) => config.min === undefined || config.max === undefined || config.min < config.max, {
    error: 'min must be less than max',
    path: ['max'],
  });

export const textConfig = z.strictObject({
  maxLength: z.number().int().min(1).max(10_000).default(1_000),
  aggregation: z.literal('last').default('last'),
  missing: z.literal('unknown').default('unknown'),
});

export const metricConfigs = {
  rating: ratingConfig,
  duration: durationConfig,
  binary: binaryConfig,
  number: numberConfig,
  text: textConfig,
} as const;

export type RatingConfig = z.infer<typeof ratingConfig>;
export type DurationConfig = z.infer<typeof durationConfig>;
export type BinaryConfig = z.infer<typeof binaryConfig>;
export type NumberConfig = z.infer<typeof numberConfig>;
export type TextConfig = z.infer<typeof textConfig>;

/** A metric's type with its matching, defaults-filled config. */
export type TypedMetric =
  | { type: 'rating'; config: RatingConfig }
  | { type: 'duration'; config: DurationConfig }
  | { type: 'binary'; config: BinaryConfig }
  | { type: 'number'; config: NumberConfig }
  | { type: 'text'; config: TextConfig };

export const metricName = text()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'must be at most 100 characters' });

/** A client-chosen id of one write, echoed in the sync event it causes so a device knows its own writes. */
export const clientMutationId = text().min(1).max(64).optional();

const createBase = {
  /** Client-generated, so that a retried or offline-queued create is applied once. */
  id: id.optional(),
  name: metricName,
  category,
  clientMutationId,
};

export const createMetricInput = z.discriminatedUnion('type', [
  z.strictObject({
    ...createBase,
    type: z.literal('rating'),
    config: ratingConfig.default(ratingConfig.parse({})),
  }),
  z.strictObject({
    ...createBase,
    type: z.literal('duration'),
    config: durationConfig.default(durationConfig.parse({})),
  }),
  z.strictObject({
    ...createBase,
    type: z.literal('binary'),
    config: binaryConfig.default(binaryConfig.parse({})),
  }),
  z.strictObject({
    ...createBase,
    type: z.literal('number'),
    config: numberConfig.default(numberConfig.parse({})),
  }),
  z.strictObject({
    ...createBase,
    type: z.literal('text'),
    config: textConfig.default(textConfig.parse({})),
  }),
]);
export type CreateMetricInput = z.infer<typeof createMetricInput>;

export const updateMetricInput = z.strictObject({
  id,
  baseVersion: z.number().int().min(1),
  name: metricName.optional(),
  category: category.optional(),
  isActive: z.boolean().optional(),
  type: z.enum(metricTypes).optional(),
  /** Checked against the metric's (new) type; omitted keys take their defaults. */
  config: z.record(text(), cleanJson()).optional(),
  clientMutationId,
});
export type UpdateMetricInput = z.infer<typeof updateMetricInput>;

export const deleteInput = z.strictObject({ id, baseVersion: z.number().int().min(1), clientMutationId });
export type DeleteInput = z.infer<typeof deleteInput>;
export const getInput = z.strictObject({ id });
export const listMetricsInput = z.strictObject({ includeArchived: z.boolean().default(false) }).default({
  includeArchived: false,
});

/** Parses a config for a type: the single place that knows which schema belongs to which type. */
export function parseMetricConfig(
  type: MetricType,
  config: unknown,
): z.ZodSafeParseResult<TypedMetric['config']> {
  return metricConfigs[type].safeParse(config ?? {}) as z.ZodSafeParseResult<TypedMetric['config']>;
}

const metricFields = {
  id: z.string(),
  name: z.string(),
  category,
  isActive: z.boolean(),
  /** Starts at 1 and grows with every change: the `baseVersion` (or `If-Match`) of the next write. */
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
};

/** A metric as the API returns it: its type with the matching, defaults-filled config. */
export const metric = z
  .discriminatedUnion('type', [
    z.object({ ...metricFields, type: z.literal('rating'), config: ratingConfig }),
    z.object({ ...metricFields, type: z.literal('duration'), config: durationConfig }),
    z.object({ ...metricFields, type: z.literal('binary'), config: binaryConfig }),
    z.object({ ...metricFields, type: z.literal('number'), config: numberConfig }),
    z.object({ ...metricFields, type: z.literal('text'), config: textConfig }),
  ])
  .meta({
    id: 'Metric',
    example: {
      id: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10',
      name: 'Mood',
      type: 'rating',
      category: 'mood',
      config: { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' },
      isActive: true,
      version: 1,
      createdAt: '2026-11-25T08:00:00.000Z',
      updatedAt: '2026-11-25T08:00:00.000Z',
    },
  });
export type Metric = z.infer<typeof metric>;

/** The answer of a metric's deletion: its entries went with it. */
export const deletedMetric = z
  .object({ id: z.string(), deletedEntries: z.number().int() })
  .meta({ id: 'DeletedMetric' });

export const metricList = z.array(metric).meta({ id: 'MetricList' });
