import { localToday } from '@lifexp/analytics';
import type { Metric, TypedMetric } from '@lifexp/contracts';
import { eq, sql } from 'drizzle-orm';
import { type Executor, rowsOf } from './client';
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
}

export interface UserSeries {
  /** The range asked for (defaults: the first entry, and the user's today in their time zone). */
  from: string | null;
  to: string;
  timezone: string;
  series: MetricSeries[];
}

interface DayRow {
  metricId: string;
  date: string;
  sum: number;
  mean: number;
  min: number;
  max: number;
  last: number;
}

/**
 * Turns a user's entries into daily series, one per numeric metric: each day's entries combined by
 * the metric's aggregation, days without entries unknown (NaN) or zero per its missing-day policy.
 * Dates are the user's local dates; with the `dayStartsAtHour` preference, an entry logged before
 * that hour counts for the day before (a late night belongs to the evening it continues).
 * Text metrics are left out; archived metrics only on request.
 */
export async function loadDailySeries(
  db: Executor,
  userId: string,
  options: SeriesOptions = {},
): Promise<UserSeries> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  const timezone = user?.timezone ?? 'UTC';
  const dayStartsAtHour = Number(
    (user?.preferences as { dayStartsAtHour?: number } | undefined)?.dayStartsAtHour ?? 0,
  );
  const to = options.to ?? localToday(timezone);
  const metricRows = await liveMetricRows(db, userId, {
    includeArchived: options.includeArchived,
    ids: options.metricIds,
    numericOnly: true,
  });
  if (metricRows.length === 0) return { from: options.from ?? null, to, timezone, series: [] };

  const shift = Math.max(0, Math.min(12, Math.trunc(dayStartsAtHour)));
  const result = await db.execute(sql`
    select metric_id as "metricId", to_char(day, 'YYYY-MM-DD') as date,
      sum(v) as sum, avg(v) as mean, min(v) as min, max(v) as max,
      (array_agg(v order by entry_date desc, entry_time desc, created_at desc))[1] as last
    from (
      select metric_id, numeric_value as v, date as entry_date, created_at,
        coalesce(time, '00:00:00'::time) as entry_time,
        case when time is not null and time < make_time(${shift}::int, 0, 0) then date - 1 else date end as day
      from entries
      where user_id = ${userId} and deleted_at is null and numeric_value is not null
        and metric_id in (${sql.join(
          metricRows.map((row) => sql`${row.id}::uuid`),
          sql`, `,
        )})
    ) e
    where day <= ${to}::date ${options.from ? sql`and day >= ${options.from}::date` : sql``}
    group by metric_id, day
    order by metric_id, day`);
  const days = rowsOf<DayRow>(result);

  const byMetric = new Map<string, DayRow[]>();
  for (const row of days) {
    const list = byMetric.get(row.metricId) ?? [];
    list.push(row);
    byMetric.set(row.metricId, list);
  }
  const series = metricRows.flatMap((row) => {
    const metric = toMetric(row);
    const rows = byMetric.get(row.id);
    if (!rows || rows.length === 0) return [];
    const config = (metric as { config: TypedMetric['config'] }).config;
    const start = options.from && config.missing === 'zero' ? options.from : rows[0]!.date;
    const length = dayIndex(start, to) + 1;
    const values = new Float64Array(length).fill(config.missing === 'zero' ? 0 : Number.NaN);
    for (const day of rows) {
      const value = Number(day[config.aggregation]);
      values[dayIndex(start, day.date)] = value;
    }
    return [{ metric, start, values }];
  });
  return { from: options.from ?? null, to, timezone, series };
}

function dayIndex(start: string, date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
}
