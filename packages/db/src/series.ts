import { dayNumber, daysBetween, localToday } from '@lifexp/analytics';
import type { Metric, TypedMetric } from '@lifexp/contracts';
import { eq, sql } from 'drizzle-orm';
import { type Executor, rowsOf } from './client';
import { DomainError } from './errors';
import { liveMetricRows, toMetric } from './metrics';
import { users } from './schema';

/** One value per local day of one metric, NaN where the day is unknown. */
export interface MetricSeries {
  metric: Metric;
  /** First day, YYYY-MM-DD; `values[i]` is `start + i` days. */
  start: string;
  values: Float64Array;
}

export interface SeriesOptions {
  from?: string | undefined;
  to?: string | undefined;
  includeArchived?: boolean | undefined;
  metricIds?: string[] | undefined;
  /**
   * No day before this one is read (the analysed window's first day), without moving a series'
   * start as `from` does for zero-filled metrics: a series still starts at its first entry.
   */
  notBefore?: string | undefined;
  /** More numeric metrics than this is refused with BAD_REQUEST. */
  maxMetrics?: number | undefined;
  /**
   * Runs each piece of the loading (the metric list, then each metric's query and decoding): a
   * background caller paces them (see the insights pacer); by default they run at once.
   */
  step?: (<T>(work: () => Promise<T>) => Promise<T>) | undefined;
}

export interface UserSeries {
  /** The range asked for (defaults: the first entry, and the user's today in their time zone). */
  from: string | null;
  to: string;
  timezone: string;
  series: MetricSeries[];
}

interface DayRow {
  date: string;
  value: number | string;
}

/** The SQL of each aggregation, over one metric's entries of one (shifted) day. */
const AGGREGATE = {
  sum: sql`sum(v)`,
  mean: sql`avg(v)`,
  min: sql`min(v)`,
  max: sql`max(v)`,
  last: sql`(array_agg(v order by entry_date desc, entry_time desc, created_at desc))[1]`,
} as const;

/**
 * Turns a user's entries into daily series, one per numeric metric: each day's entries combined by
 * the metric's aggregation, days without entries unknown (NaN) or zero per its missing-day policy.
 * Dates are the user's local dates; with the `dayStartsAtHour` preference, an entry logged before
 * that hour counts for the day before (a late night belongs to the evening it continues).
 * Text metrics are left out; archived metrics only on request.
 *
 * The series are read one metric at a time, each query computing only that metric's aggregation,
 * with a turn of the event loop between metrics: loading a heavy account never holds the event loop
 * for longer than one metric's days (at most the analysed window when `notBefore` bounds it).
 */
export async function loadDailySeries(
  db: Executor,
  userId: string,
  options: SeriesOptions = {},
): Promise<UserSeries> {
  const step = options.step ?? ((work) => work());
  const { user, metricRows } = await step(async () => {
    const [user] = await db.select().from(users).where(eq(users.id, userId));
    const metricRows = await liveMetricRows(db, userId, {
      includeArchived: options.includeArchived,
      ids: options.metricIds,
      numericOnly: true,
    });
    return { user, metricRows };
  });
  const timezone = user?.timezone ?? 'UTC';
  const dayStartsAtHour = Number(
    (user?.preferences as { dayStartsAtHour?: number } | undefined)?.dayStartsAtHour ?? 0,
  );
  const to = options.to ?? localToday(timezone);
  if (options.maxMetrics !== undefined && metricRows.length > options.maxMetrics) {
    throw new DomainError(
      'BAD_REQUEST',
      `analytics covers at most ${options.maxMetrics} metrics and this account has ${metricRows.length}; archive some or ask about one metric`,
      { metrics: metricRows.length, limit: options.maxMetrics },
    );
  }
  const shift = Math.max(0, Math.min(12, Math.trunc(dayStartsAtHour)));
  const floor = [options.from, options.notBefore]
    .filter((day): day is string => !!day)
    .sort()
    .at(-1);
  const series: MetricSeries[] = [];
  for (const row of metricRows) {
    const metric = toMetric(row);
    const config = (metric as { config: TypedMetric['config'] }).config;
    const loaded = await step(async () => {
      const result = await db.execute(sql`
      select to_char(day, 'YYYY-MM-DD') as date, ${AGGREGATE[config.aggregation] ?? AGGREGATE.mean} as value
      from (
        select numeric_value as v, date as entry_date, created_at,
          coalesce(time, '00:00:00'::time) as entry_time,
          case when time is not null and time < make_time(${shift}::int, 0, 0) then date - 1 else date end as day
        from entries
        where user_id = ${userId} and metric_id = ${row.id}::uuid and deleted_at is null
          and numeric_value is not null
          and date <= ${to}::date + 1 ${floor ? sql`and date >= ${floor}::date` : sql``}
      ) e
      where day <= ${to}::date ${floor ? sql`and day >= ${floor}::date` : sql``}
      group by day
      order by day`);
      const days = rowsOf<DayRow>(result);
      if (days.length === 0) return undefined;
      const start = options.from && config.missing === 'zero' ? floor! : days[0]!.date;
      const values = new Float64Array(daysBetween(start, to) + 1).fill(
        config.missing === 'zero' ? 0 : Number.NaN,
      );
      const first = dayNumber(start);
      for (const day of days) values[dayNumber(day.date) - first] = Number(day.value);
      return { metric, start, values };
    });
    if (loaded) series.push(loaded);
    // Let API calls and sync deliveries in between the metrics of a heavy account.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { from: options.from ?? null, to, timezone, series };
}
