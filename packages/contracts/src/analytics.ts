import { z } from 'zod';
import { metricTypes } from './metrics';
import { dateRange, id, orderedRange } from './primitives';

export const correlationsInput = orderedRange(
  z.strictObject({
    ...dateRange,
    /** auto: Spearman for ratings, point-biserial for yes/no metrics, Pearson otherwise. */
    method: z.enum(['auto', 'pearson', 'spearman']).default('auto'),
    /**
     * Largest lag in days: lag 1 compares a day with the next (sleep tonight, mood tomorrow). The
     * server allows up to ANALYTICS_MAX_LAG (default 3); 30 is the schema's ceiling.
     */
    maxLag: z.number().int().min(0).max(30).default(1),
    /** Fewest paired days for a finding. */
    minN: z.number().int().min(7).max(3650).default(14),
    /** The false-discovery rate: findings with q above it are left out (unless `all`). */
    q: z.number().gt(0).max(1).default(0.05),
    /** Every pair tested, significant or not. */
    all: z.boolean().default(false),
    /** Findings per page, strongest first; the server allows up to ANALYTICS_PAGE_MAX (default 200). */
    limit: z.number().int().min(1).max(1000).default(50),
    /** Where the page starts: the `nextCursor` of the previous page. */
    cursor: z.number().int().min(0).max(10_000_000).optional(),
  }),
).default({ method: 'auto', maxLag: 1, minN: 14, q: 0.05, all: false, limit: 50 });
export type CorrelationsInput = z.infer<typeof correlationsInput>;

export const trendsInput = orderedRange(z.strictObject({ ...dateRange, metricId: id.optional() })).default(
  {},
);
export type TrendsInput = z.infer<typeof trendsInput>;

/** One metric's daily values, as the statistics see them (for charts). */
export const seriesInput = orderedRange(z.strictObject({ ...dateRange, metricId: id }));
export type SeriesInput = z.infer<typeof seriesInput>;

export const insightKinds = ['correlation', 'trend', 'pattern', 'streak', 'recommendation'] as const;
export const insightsInput = z
  .strictObject({ types: z.array(z.enum(insightKinds)).min(1).max(5).optional() })
  .default({});

export const strength = z.enum(['negligible', 'weak', 'moderate', 'strong']);
export type Strength = z.infer<typeof strength>;

export const metricRef = z.object({ id: z.string(), name: z.string() }).meta({ id: 'MetricRef' });
export type MetricRef = z.infer<typeof metricRef>;

/** One metric's daily values for charts: `values[i]` is the value of `start + i` days, null where unknown. */
export const dailySeriesResult = z
  .object({
    metric: metricRef.extend({ type: z.enum(metricTypes) }),
    /** The first day, YYYY-MM-DD (null when the metric has no values). */
    start: z.string().nullable(),
    to: z.string(),
    values: z.array(z.number().nullable()),
  })
  .meta({ id: 'DailySeries' });
export type DailySeriesResult = z.infer<typeof dailySeriesResult>;

export const correlationFinding = z
  .object({
    a: metricRef,
    /** b is taken `lag` days after a. */
    b: metricRef,
    lag: z.number().int(),
    method: z.enum(['pearson', 'spearman', 'point-biserial']),
    /**
     * r, ρ or r_pb of what was tested: each metric's deviations from its own trend and weekday rhythm
     * (`tested: 'deviations'`), or its day-to-day changes when a side wanders like a random walk
     * (`tested: 'changes'`), so two things that merely both drifted are not reported as related.
     */
    effect: z.number(),
    tested: z.enum(['deviations', 'changes', 'values']),
    /** The same correlation of the values as recorded, not tested: shown only labelled as such. */
    rawR: z.number().nullable(),
    n: z.number().int(),
    /** Effective sample size after the autocorrelation correction. */
    nEff: z.number(),
    p: z.number(),
    q: z.number(),
    ci95: z.tuple([z.number(), z.number()]),
    strength,
    /** Fewer than 60 paired days: worth watching, not yet worth acting on. */
    tentative: z.boolean(),
    significant: z.boolean(),
    /** For a yes/no metric a: the mean of b on days with and without. */
    meanWith: z.number().optional(),
    meanWithout: z.number().optional(),
    sentence: z.string(),
  })
  .meta({ id: 'CorrelationFinding' });
export type CorrelationFinding = z.infer<typeof correlationFinding>;

export const correlationsResult = z
  .object({
    from: z.string().nullable(),
    to: z.string(),
    /** One page, strongest first (smallest q, then p, then the largest |effect|). */
    findings: z.array(correlationFinding),
    /** Findings in all pages (significant ones, or every tested pair with `all`). */
    total: z.number().int(),
    /** The `cursor` of the next page, or null on the last one. */
    nextCursor: z.number().int().nullable(),
    /** How many hypotheses were tested in all (the Benjamini–Hochberg family). */
    testsRun: z.number().int(),
    /** Metrics or pairs left out (too few days, constant). */
    skipped: z.number().int(),
  })
  .meta({
    id: 'Correlations',
    example: {
      from: '2026-01-01',
      to: '2026-11-25',
      findings: [
        {
          a: { id: '9d2b6a10-1f3e-4c5d-8e7f-0a1b2c3d4e5f', name: 'Sleep' },
          b: { id: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10', name: 'Mood' },
          lag: 1,
          method: 'spearman',
          effect: 0.41,
          tested: 'deviations',
          rawR: 0.38,
          n: 214,
          nEff: 180.5,
          p: 0.0004,
          q: 0.01,
          ci95: [0.28, 0.52],
          strength: 'moderate',
          tentative: false,
          significant: true,
          sentence: 'On days after your Sleep is higher than usual, your Mood is higher too',
        },
      ],
      total: 1,
      nextCursor: null,
      testsRun: 6,
      skipped: 0,
    },
  });
export type CorrelationsResult = z.infer<typeof correlationsResult>;

export const trendFinding = z
  .object({
    metric: metricRef,
    direction: z.enum(['up', 'down', 'flat']),
    /** Theil–Sen slope in the metric's own unit per week. */
    slopePerWeek: z.number(),
    unit: z.string().nullable(),
    p: z.number(),
    tau: z.number(),
    strength,
    n: z.number().int(),
    tentative: z.boolean(),
    sentence: z.string(),
  })
  .meta({ id: 'TrendFinding' });
export type TrendFinding = z.infer<typeof trendFinding>;

export const trendsResult = z.array(trendFinding).meta({ id: 'Trends' });

export const insight = z
  .object({
    id: z.string(),
    type: z.enum(insightKinds),
    confidence: z.number(),
    dateFrom: z.string().nullable(),
    dateTo: z.string().nullable(),
    /** The finding itself (its fields depend on the type); always with a plain sentence. */
    data: z.looseObject({ sentence: z.string() }),
    createdAt: z.string(),
  })
  .meta({ id: 'Insight' });
export type Insight = z.infer<typeof insight>;

export const insightList = z.array(insight).meta({ id: 'InsightList' });

/** A computed insight before it is stored (the store gives it an id and a time). */
export type InsightDraft = Omit<Insight, 'id' | 'createdAt'>;

export const progress = z
  .object({
    xp: z.number().int(),
    level: z.number().int(),
    /** XP earned within the current level, and what the next level needs in all. */
    xpIntoLevel: z.number().int(),
    xpForNextLevel: z.number().int(),
    daysLogged: z.number().int(),
    entries: z.number().int(),
    currentStreak: z.number().int(),
    longestStreak: z.number().int(),
  })
  .meta({
    id: 'Progress',
    example: {
      xp: 420,
      level: 3,
      xpIntoLevel: 120,
      xpForNextLevel: 300,
      daysLogged: 21,
      entries: 63,
      currentStreak: 5,
      longestStreak: 12,
    },
  });
export type Progress = z.infer<typeof progress>;
