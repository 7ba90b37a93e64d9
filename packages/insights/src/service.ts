import { localToday } from '@lifexp/analytics';
import type { Config, Logger } from '@lifexp/config';
import type { CorrelationsInput, TrendsInput } from '@lifexp/contracts';
import {
  type Database,
  getUser,
  latestSeq,
  loadDailySeries,
  type MetricSeries,
  storeInsightSet,
} from '@lifexp/db';
import { createLruCache } from './cache';
import type { MetricMeta, SeriesInput } from './compute';
import { type AnalyticsPool, createAnalyticsPool } from './pool';

const SECONDS_PER = { seconds: 1, minutes: 60, hours: 3600 } as const;
const UNIT_LABEL = { seconds: 's', minutes: 'min', hours: 'h' } as const;

/** A metric's series in the unit a person reads (durations in their display unit). */
export function toSeriesInput(series: MetricSeries): SeriesInput {
  const { metric } = series;
  const config = metric.config as { unit?: string; displayUnit?: keyof typeof SECONDS_PER };
  let values = series.values;
  let unit: string | null = null;
  if (metric.type === 'duration') {
    const displayUnit = config.displayUnit ?? 'minutes';
    const factor = SECONDS_PER[displayUnit];
    values = values.map((value) => value / factor);
    unit = UNIT_LABEL[displayUnit];
  } else if (metric.type === 'number') {
    unit = config.unit ?? null;
  } else if (metric.type === 'rating') {
    unit = 'points';
  }
  const meta: MetricMeta = {
    id: metric.id,
    name: metric.name,
    type: metric.type as MetricMeta['type'],
    unit,
  };
  return { metric: meta, start: series.start, values };
}

export interface AnalyticsService {
  correlations(userId: string, params: CorrelationsInput): Promise<unknown>;
  trends(userId: string, params: TrendsInput): Promise<unknown>;
  /** Recomputes and stores the user's insight set; returns its summary. */
  recompute(userId: string): Promise<{ setId: string; count: number }>;
  /** Answers served from the cache and computed afresh since start (observability). */
  cacheStats(): { hits: number; misses: number; size: number };
  close(): Promise<void>;
}

/** The settings the service reads. */
export type AnalyticsSettings = Pick<
  Config,
  'analyticsWorkers' | 'analyticsCacheEntries' | 'insightsQ' | 'insightsMinDays'
>;

export function createAnalyticsService(
  config: AnalyticsSettings,
  database: Database,
  log: Logger,
): AnalyticsService {
  const pool: AnalyticsPool = createAnalyticsPool(config.analyticsWorkers, log);
  const cache = createLruCache<unknown>(Math.max(1, config.analyticsCacheEntries));
  let hits = 0;
  let misses = 0;

  async function inputs(
    userId: string,
    range: { from?: string | undefined; to?: string | undefined; metricId?: string | undefined },
  ) {
    const loaded = await loadDailySeries(database.db, userId, {
      from: range.from,
      to: range.to,
      metricIds: range.metricId ? [range.metricId] : undefined,
    });
    return { ...loaded, inputs: loaded.series.map(toSeriesInput) };
  }

  /** Answers are cached per (user, data version, parameters): any write moves the version on. */
  async function cached<T>(
    userId: string,
    kind: string,
    params: unknown,
    compute: () => Promise<T>,
  ): Promise<T> {
    if (config.analyticsCacheEntries === 0) {
      misses += 1;
      return compute();
    }
    // The user's local date is part of the key too: an open-ended range ends today, so yesterday's
    // answer is stale after midnight even without a write.
    const [seq, user] = await Promise.all([latestSeq(database.db, userId), getUser(database.db, userId)]);
    const key = `${userId}:${seq}:${localToday(user.timezone)}:${kind}:${JSON.stringify(params)}`;
    const hit = cache.get(key);
    if (hit !== undefined) {
      hits += 1;
      return hit as T;
    }
    misses += 1;
    const value = await compute();
    cache.set(key, value);
    return value;
  }

  return {
    correlations: (userId, params) =>
      cached(userId, 'correlations', params, async () => {
        const loaded = await inputs(userId, params);
        const result = await pool.run({ kind: 'correlations', inputs: loaded.inputs, params });
        return { from: params.from ?? firstDay(loaded.inputs), to: loaded.to, ...result };
      }),
    trends: (userId, params) =>
      cached(userId, 'trends', params, async () => {
        const loaded = await inputs(userId, params);
        return pool.run({ kind: 'trends', inputs: loaded.inputs });
      }),
    async recompute(userId) {
      const loaded = await inputs(userId, {});
      const drafts = await pool.run({
        kind: 'insights',
        inputs: loaded.inputs,
        params: { q: config.insightsQ, minN: config.insightsMinDays, to: loaded.to },
      });
      const stored = await storeInsightSet(database.db, userId, drafts);
      log.info({ userId, insights: stored.count }, 'insights recomputed');
      return stored;
    },
    cacheStats: () => ({ hits, misses, size: cache.size }),
    close: () => pool.close(),
  };
}

function firstDay(inputs: SeriesInput[]): string | null {
  return inputs.reduce<string | null>(
    (first, input) => (first === null || input.start < first ? input.start : first),
    null,
  );
}
