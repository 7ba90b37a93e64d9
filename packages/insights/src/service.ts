import { addDays, daysBetween, localToday } from '@lifexp/analytics';
import { type Config, createKeyedBuckets, type KeyedBuckets, type Logger } from '@lifexp/config';
import type { CorrelationsInput, CorrelationsResult, TrendFinding, TrendsInput } from '@lifexp/contracts';
import {
  type Database,
  DomainError,
  getUser,
  latestSeq,
  loadDailySeries,
  type MetricSeries,
  storeInsightSet,
} from '@lifexp/db';
import { createLruCache } from './cache';
import {
  type CorrelationParams,
  correlationPage,
  LimitError,
  type MetricMeta,
  type RankedCorrelations,
  type SeriesInput,
} from './compute';
import { createPacer, type Pacer } from './pacer';
import { type AnalyticsPool, createAnalyticsPool, RETRY_AFTER_SECONDS } from './pool';
import { limitAnswer } from './tasks';

/** Ranked findings of one question kept for its later pages at most (about 3 MB). */
const RANKED_KEEP_MAX = 20_000;
/** What one ranked finding takes in memory, about (a plain object of eleven fields and an array). */
const RANKED_BYTES_EACH = 160;

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
  correlations(userId: string, params: CorrelationsInput): Promise<CorrelationsResult>;
  trends(userId: string, params: TrendsInput): Promise<TrendFinding[]>;
  /** Recomputes and stores the user's insight set; returns its summary. */
  recompute(userId: string): Promise<{ setId: string; count: number }>;
  /** Drops every cached answer of the user (their account is gone). */
  forgetUser(userId: string): void;
  /**
   * Answers served from the cache and computed afresh since start, and the same for the series behind
   * them (calls that differed only in their parameters), for observability.
   */
  cacheStats(): {
    hits: number;
    misses: number;
    size: number;
    bytes: number;
    series: { hits: number; misses: number; bytes: number };
    /** The ranked findings of correlation questions, from which their pages are cut. */
    ranked: { hits: number; misses: number; bytes: number };
  };
  close(): Promise<void>;
}

/** The settings the service reads. */
export type AnalyticsSettings = Pick<
  Config,
  | 'analyticsWorkers'
  | 'analyticsCacheEntries'
  | 'analyticsCacheBytes'
  | 'analyticsCacheAccountBytes'
  | 'insightsQ'
  | 'insightsMinDays'
  | 'metricsMaxActive'
  | 'analyticsMaxDays'
  | 'analyticsMaxLag'
  | 'analyticsPageMax'
  | 'analyticsAnswerMaxBytes'
  | 'analyticsTaskTimeoutMs'
  | 'analyticsWorkerMemoryMb'
  | 'analyticsQueueMax'
  | 'analyticsQueuePerAccount'
  | 'analyticsAccountPercent'
  | 'analyticsAccountBurstMs'
  | 'insightsRecomputePercent'
>;

type Range = { from?: string | undefined; to?: string | undefined; metricId?: string | undefined };

const byteSize = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');
/** Cache keys start with the account's id. */
const accountOf = (key: string) => key.slice(0, key.indexOf(':'));

export function createAnalyticsService(
  config: AnalyticsSettings,
  database: Database,
  log: Logger,
  options: { pacer?: Pacer; allowance?: KeyedBuckets } = {},
): AnalyticsService {
  const pool: AnalyticsPool = createAnalyticsPool(
    {
      size: config.analyticsWorkers,
      taskTimeoutMs: config.analyticsTaskTimeoutMs,
      workerMemoryMb: config.analyticsWorkerMemoryMb,
      queueMax: config.analyticsQueueMax,
    },
    log,
  );
  const cache = createLruCache<unknown>({
    capacity: config.analyticsCacheEntries,
    maxBytes: config.analyticsCacheBytes,
    maxEntryBytes: config.analyticsAnswerMaxBytes,
    sizeOf: byteSize,
    ownerOf: accountOf,
    maxOwnerBytes: config.analyticsCacheAccountBytes,
  });
  const cacheOn = config.analyticsCacheEntries > 0 && config.analyticsCacheBytes > 0;
  /**
   * The series behind the answers, per (user, data version, local date, range): calls that differ
   * only in their parameters (q, minN, lags, the page) read the database once. Bounded in bytes by a
   * quarter of ANALYTICS_CACHE_BYTES, and per account like the answers (ANALYTICS_CACHE_ACCOUNT_BYTES);
   * the worker gets a copy, so an entry stays usable.
   */
  const seriesCache = createLruCache<Loaded>({
    capacity: config.analyticsCacheEntries,
    maxBytes: Math.floor(config.analyticsCacheBytes / 4),
    sizeOf: (loaded) => loaded.inputs.reduce((sum, input) => sum + input.values.byteLength + 256, 256),
    ownerOf: accountOf,
    maxOwnerBytes: config.analyticsCacheAccountBytes,
  });
  /**
   * Each correlation question's ranked findings (its parameters but the page's): the next page of a
   * question is cut from them on this thread, without scanning again. Kept for questions of at most
   * RANKED_KEEP_MAX findings; a larger one is scanned again for each page.
   */
  const rankedCache = createLruCache<RankedCorrelations>({
    capacity: config.analyticsCacheEntries,
    maxBytes: Math.floor(config.analyticsCacheBytes / 4),
    sizeOf: (ranked) => ranked.kept.length * RANKED_BYTES_EACH + 256,
    ownerOf: accountOf,
    maxOwnerBytes: config.analyticsCacheAccountBytes,
  });
  let rankedHits = 0;
  let rankedMisses = 0;
  /** Series loads in progress, by series-cache key: calls arriving together read the database once. */
  const seriesLoading = new Map<string, Promise<Loaded>>();
  /** Requests in progress, by key: a repeated request joins the one running. */
  const inflight = new Map<string, Promise<unknown>>();
  /** Each account's distinct requests in progress (their keys). */
  const active = new Map<string, Set<string>>();
  /** Keys of requests in progress whose user was forgotten meanwhile: their answers are not kept. */
  const dropped = new Set<string>();
  /**
   * Background recomputes share one pace (INSIGHTS_RECOMPUTE_PERCENT): their loading, math and
   * storing run step by step, and rest in between, so other users do not feel them. Interactive
   * calls never go through it.
   */
  const pacer = options.pacer ?? createPacer(config.insightsRecomputePercent);
  /**
   * Each account's computed answers may take ANALYTICS_ACCOUNT_PERCENT of real time on average
   * (series loads and worker time), after a burst of ANALYTICS_ACCOUNT_BURST_MS: an account that
   * keeps asking fresh questions cannot keep a worker and the database busy for everyone else.
   * Answers from the cache and requests joining one in progress are never refused.
   */
  const allowance =
    options.allowance ??
    createKeyedBuckets({
      perSecond: config.analyticsAccountPercent * 10, // ms of compute per second of real time
      capacity: config.analyticsAccountBurstMs,
    });
  let hits = 0;
  let misses = 0;
  let seriesHits = 0;
  let seriesMisses = 0;

  function badRequest(message: string, details?: Record<string, unknown>): DomainError {
    return new DomainError('BAD_REQUEST', message, details);
  }

  /**
   * The analysed window: `to` no later than the user's tomorrow, an explicit range no longer than
   * ANALYTICS_MAX_DAYS, and an open-ended one cut to its newest ANALYTICS_MAX_DAYS days.
   */
  function window(range: Range, today: string) {
    const tomorrow = addDays(today, 1);
    if (range.to !== undefined && range.to > tomorrow) {
      throw badRequest(`"to" may be at most tomorrow (${tomorrow})`, { to: range.to, latest: tomorrow });
    }
    const to = range.to ?? today;
    const maxDays = config.analyticsMaxDays;
    if (range.from !== undefined) {
      const days = daysBetween(range.from, to) + 1;
      if (days > maxDays) {
        throw badRequest(`the range covers ${days} days; analytics looks at most ${maxDays} days at once`, {
          days,
          limit: maxDays,
        });
      }
    }
    return { from: range.from, to, notBefore: addDays(to, -(maxDays - 1)) };
  }

  async function inputs(userId: string, range: Range, today: string, step?: typeof pacer.step) {
    const bounds = window(range, today);
    const loaded = await loadDailySeries(database.db, userId, {
      from: bounds.from,
      to: bounds.to,
      notBefore: bounds.notBefore,
      metricIds: range.metricId ? [range.metricId] : undefined,
      maxMetrics: config.metricsMaxActive,
      step,
    });
    return { ...loaded, inputs: loaded.series.map(toSeriesInput) };
  }

  type Loaded = Awaited<ReturnType<typeof inputs>>;

  function seriesKeyOf(userId: string, seq: number, today: string, { from, to, metricId }: Range): string {
    return `${userId}:${seq}:${today}:${JSON.stringify({ from, to, metricId })}`;
  }

  /** A correlation question's ranking: its parameters but the page's. */
  function rankedKeyOf(userId: string, seq: number, today: string, params: CorrelationsInput): string {
    const { cursor: _cursor, limit: _limit, ...question } = params;
    return `${userId}:${seq}:${today}:${JSON.stringify(question)}`;
  }

  /** The series of an interactive call, from the series cache when the data have not changed. */
  async function seriesOf(
    userId: string,
    seq: number,
    range: Range,
    today: string,
    spent: (ms: number) => void,
  ): Promise<Loaded> {
    const key = seriesKeyOf(userId, seq, today, range);
    const hit = cacheOn ? seriesCache.get(key) : undefined;
    if (hit) {
      seriesHits += 1;
      return hit;
    }
    const joined = seriesLoading.get(key);
    if (joined) {
      seriesHits += 1;
      return joined;
    }
    seriesMisses += 1;
    const started = performance.now();
    const loading = inputs(userId, range, today).finally(() => spent(performance.now() - started));
    seriesLoading.set(key, loading);
    try {
      const loaded = await loading;
      // Kept only if the user was not forgotten while it loaded (forgetUser drops the entry).
      if (cacheOn && seriesLoading.get(key) === loading) seriesCache.set(key, loaded);
      return loaded;
    } finally {
      if (seriesLoading.get(key) === loading) seriesLoading.delete(key);
    }
  }

  /** A page cut from a question's ranked findings, bounded as a worker's answer is. */
  function pageOf(inputs: SeriesInput[], ranked: RankedCorrelations, params: CorrelationParams) {
    try {
      return limitAnswer(correlationPage(inputs, ranked, params), config.analyticsAnswerMaxBytes);
    } catch (error) {
      throw error instanceof LimitError ? badRequest(error.message) : error;
    }
  }

  /** At most ANALYTICS_QUEUE_PER_ACCOUNT distinct requests per account; a repeated one joins its twin. */
  function admit<T>(userId: string, key: string, work: () => Promise<T>): Promise<T> {
    const joined = inflight.get(key);
    if (joined) return joined as Promise<T>;
    const mine = active.get(userId) ?? new Set<string>();
    if (mine.size >= config.analyticsQueuePerAccount) {
      return Promise.reject(
        new DomainError(
          'TOO_MANY_REQUESTS',
          `at most ${config.analyticsQueuePerAccount} analytics requests at a time; wait for the ones running`,
          { retryAfterSeconds: RETRY_AFTER_SECONDS },
        ),
      );
    }
    mine.add(key);
    active.set(userId, mine);
    const promise = work().finally(() => {
      inflight.delete(key);
      dropped.delete(key);
      mine.delete(key);
      if (mine.size === 0 && active.get(userId) === mine) active.delete(userId);
    });
    inflight.set(key, promise);
    return promise;
  }

  /**
   * Answers are cached per (user, data version, local date, parameters): any write moves the
   * version on, and an open-ended range ends today, so yesterday's answer is stale after midnight.
   */
  async function cached<T>(
    userId: string,
    kind: string,
    params: Range,
    compute: (
      today: string,
      seq: number,
      spent: (ms: number) => void,
      /** Whether the user was forgotten while this ran: what it made is then not kept. */
      forgotten: () => boolean,
    ) => Promise<T>,
    /** Whether the answer can be made without loading or scanning (never refused for the share). */
    free?: (today: string, seq: number) => boolean,
  ): Promise<T> {
    const [seq, user] = await Promise.all([latestSeq(database.db, userId), getUser(database.db, userId)]);
    const today = localToday(user.timezone);
    window(params, today); // refuse a bad range before anything is loaded
    const key = `${userId}:${seq}:${today}:${kind}:${JSON.stringify(params)}`;
    if (cacheOn) {
      const hit = cache.get(key);
      if (hit !== undefined) {
        hits += 1;
        return hit as T;
      }
    }
    if (!inflight.has(key) && allowance.available(userId) <= 0 && !free?.(today, seq)) {
      const seconds = allowance.retryAfterSeconds(userId);
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        `this account's analytics used its share of compute time (${config.analyticsAccountPercent} %); ask again in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
    return admit(userId, key, async () => {
      misses += 1;
      const value = await compute(
        today,
        seq,
        (ms) => allowance.take(userId, ms),
        () => dropped.has(key),
      );
      if (cacheOn && !dropped.has(key)) cache.set(key, value);
      return value;
    });
  }

  return {
    correlations: (userId, params) => {
      if (params.maxLag > config.analyticsMaxLag) {
        return Promise.reject(
          badRequest(`maxLag may be at most ${config.analyticsMaxLag}`, { limit: config.analyticsMaxLag }),
        );
      }
      if (params.limit > config.analyticsPageMax) {
        return Promise.reject(
          badRequest(`limit may be at most ${config.analyticsPageMax} findings per page`, {
            limit: config.analyticsPageMax,
          }),
        );
      }
      return cached(
        userId,
        'correlations',
        params,
        async (today, seq, spent, forgotten) => {
          const loaded = await seriesOf(userId, seq, params, today, spent);
          const from = params.from ?? firstDay(loaded.inputs);
          const rankedKey = rankedKeyOf(userId, seq, today, params);
          const ranked = cacheOn ? rankedCache.get(rankedKey) : undefined;
          if (ranked) {
            rankedHits += 1;
            return { from, to: loaded.to, ...pageOf(loaded.inputs, ranked, params) };
          }
          rankedMisses += 1;
          const { ranked: kept, ...result } = await pool.run(
            {
              kind: 'correlations',
              inputs: loaded.inputs,
              params,
              maxAnswerBytes: config.analyticsAnswerMaxBytes,
              keepRankedUpTo: RANKED_KEEP_MAX,
            },
            userId,
            { spent },
          );
          if (kept && cacheOn && !forgotten()) rankedCache.set(rankedKey, kept);
          return { from, to: loaded.to, ...result };
        },
        // A page cut from a kept ranking and kept series costs no compute share.
        (today, seq) =>
          cacheOn &&
          rankedCache.get(rankedKeyOf(userId, seq, today, params)) !== undefined &&
          seriesCache.get(seriesKeyOf(userId, seq, today, params)) !== undefined,
      );
    },
    trends: (userId, params) =>
      cached(userId, 'trends', params, async (today, seq, spent) => {
        const loaded = await seriesOf(userId, seq, params, today, spent);
        return pool.run(
          { kind: 'trends', inputs: loaded.inputs, maxAnswerBytes: config.analyticsAnswerMaxBytes },
          userId,
          { spent },
        );
      }),
    recompute: (userId) =>
      admit(userId, `${userId}:recompute`, async () => {
        // As loadDailySeries: a user row gone meanwhile reads as UTC (storing the set then fails).
        const user = await pacer.step(() => getUser(database.db, userId).catch(() => undefined));
        const loaded = await inputs(userId, {}, localToday(user?.timezone ?? 'UTC'), pacer.step);
        const drafts = await pacer.step(() =>
          pool.run(
            {
              kind: 'insights',
              inputs: loaded.inputs,
              params: { q: config.insightsQ, minN: config.insightsMinDays, to: loaded.to },
            },
            userId,
            { transfer: true },
          ),
        );
        const stored = await pacer.step(() => storeInsightSet(database.db, userId, drafts));
        log.info({ userId, insights: stored.count }, 'insights recomputed');
        return stored;
      }),
    forgetUser(userId) {
      cache.deletePrefix(`${userId}:`);
      seriesCache.deletePrefix(`${userId}:`);
      rankedCache.deletePrefix(`${userId}:`);
      for (const key of seriesLoading.keys()) if (key.startsWith(`${userId}:`)) seriesLoading.delete(key);
      for (const key of active.get(userId) ?? []) dropped.add(key);
    },
    cacheStats: () => ({
      hits,
      misses,
      size: cache.size,
      bytes: cache.bytes,
      series: { hits: seriesHits, misses: seriesMisses, bytes: seriesCache.bytes },
      ranked: { hits: rankedHits, misses: rankedMisses, bytes: rankedCache.bytes },
    }),
    close: () => pool.close(),
  };
}

function firstDay(inputs: SeriesInput[]): string | null {
  return inputs.reduce<string | null>(
    (first, input) => (first === null || input.start < first ? input.start : first),
    null,
  );
}
