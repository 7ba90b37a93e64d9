import { z } from 'zod';
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

export interface DailySeriesResult {
  metric: MetricRef & { type: string };
  /** The first day, YYYY-MM-DD: `values[i]` is the value of `start + i` days; null where unknown. */
  start: string | null;
  to: string;
  values: (number | null)[];
}

export const insightKinds = ['correlation', 'trend', 'pattern', 'streak', 'recommendation'] as const;
export const insightsInput = z
  .strictObject({ types: z.array(z.enum(insightKinds)).min(1).max(5).optional() })
  .default({});

export type Strength = 'negligible' | 'weak' | 'moderate' | 'strong';

export interface MetricRef {
  id: string;
  name: string;
}

export interface CorrelationFinding {
  a: MetricRef;
  b: MetricRef;
  /** b is taken `lag` days after a. */
  lag: number;
  method: 'pearson' | 'spearman' | 'point-biserial';
  /**
   * r, ρ or r_pb of what was tested: each metric's deviations from its own trend and weekday rhythm
   * (`tested: 'deviations'`), or its day-to-day changes when a side wanders like a random walk
   * (`tested: 'changes'`), so two things that merely both drifted are not reported as related.
   */
  effect: number;
  tested: 'deviations' | 'changes' | 'values';
  /** The same correlation of the values as recorded, not tested: shown only labelled as such. */
  rawR: number | null;
  n: number;
  /** Effective sample size after the autocorrelation correction. */
  nEff: number;
  p: number;
  q: number;
  ci95: [number, number];
  strength: Strength;
  /** Fewer than 60 paired days: worth watching, not yet worth acting on. */
  tentative: boolean;
  significant: boolean;
  /** For a yes/no metric a: the mean of b on days with and without. */
  meanWith?: number;
  meanWithout?: number;
  sentence: string;
}

export interface CorrelationsResult {
  from: string | null;
  to: string;
  /** One page, strongest first (smallest q, then p, then the largest |effect|). */
  findings: CorrelationFinding[];
  /** Findings in all pages (significant ones, or every tested pair with `all`). */
  total: number;
  /** The `cursor` of the next page, or null on the last one. */
  nextCursor: number | null;
  /** How many hypotheses were tested in all (the Benjamini–Hochberg family). */
  testsRun: number;
  /** Metrics or pairs left out (too few days, constant). */
  skipped: number;
}

export interface TrendFinding {
  metric: MetricRef;
  direction: 'up' | 'down' | 'flat';
  /** Theil–Sen slope in the metric's own unit per week. */
  slopePerWeek: number;
  unit: string | null;
  p: number;
  tau: number;
  strength: Strength;
  n: number;
  tentative: boolean;
  sentence: string;
}

export interface Insight {
  id: string;
  type: (typeof insightKinds)[number];
  confidence: number;
  dateFrom: string | null;
  dateTo: string | null;
  data: Record<string, unknown> & { sentence: string };
  createdAt: string;
}

/** A computed insight before it is stored (the store gives it an id and a time). */
export type InsightDraft = Omit<Insight, 'id' | 'createdAt'>;

export interface Progress {
  xp: number;
  level: number;
  /** XP earned within the current level, and what the next level needs in all. */
  xpIntoLevel: number;
  xpForNextLevel: number;
  daysLogged: number;
  entries: number;
  currentStreak: number;
  longestStreak: number;
}
