import { addDays, daysBetween } from '@lifexp/analytics';
import {
  correlationsInput,
  correlationsResult,
  dailySeriesResult,
  insightList,
  insightsInput,
  progress,
  seriesInput,
  trendsInput,
  trendsResult,
} from '@lifexp/contracts';
import { computeProgress, getMetric, listActiveInsights, loadDailySeries } from '@lifexp/db';
import { protectedProcedure, router } from '../init';

export const analyticsRouter = router({
  /** Which metrics move together, same day and with a lag, with honest uncertainty. */
  correlations: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/analytics/correlations',
        summary: 'Which metrics move together, the same day and days apart',
        tags: ['analytics'],
      },
    })
    .input(correlationsInput)
    .output(correlationsResult)
    .query(({ ctx, input }) => ctx.deps.analytics.correlations(ctx.auth.user.id, input)),
  /** Per metric: direction, slope per week in its unit, Mann–Kendall p, strength. */
  trends: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/analytics/trends',
        summary: 'Per metric: direction and slope per week, with a Mann–Kendall test',
        tags: ['analytics'],
      },
    })
    .input(trendsInput)
    .output(trendsResult)
    .query(({ ctx, input }) => ctx.deps.analytics.trends(ctx.auth.user.id, input)),
  /** The newest precomputed set: correlations, trends, weekday patterns, streaks, recommendations. */
  insights: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/analytics/insights',
        summary: 'The newest precomputed insights, strongest first',
        tags: ['analytics'],
      },
    })
    .input(insightsInput)
    .output(insightList)
    .query(({ ctx, input }) => listActiveInsights(ctx.db, ctx.auth.user.id, input.types)),
  /**
   * One metric's daily values as the statistics see them (the day's entries combined by its
   * aggregation, missing days per its policy), for charts; at most ANALYTICS_MAX_DAYS days.
   */
  series: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/analytics/series',
        summary: 'One metric’s daily values, as the statistics see them (for charts)',
        tags: ['analytics'],
      },
    })
    .input(seriesInput)
    .output(dailySeriesResult)
    .query(async ({ ctx, input }) => {
      const metric = await getMetric(ctx.db, ctx.auth.user.id, input.metricId);
      const loaded = await loadDailySeries(ctx.db, ctx.auth.user.id, {
        from: input.from,
        to: input.to,
        metricIds: [metric.id],
        includeArchived: true,
      });
      const notBefore = addDays(loaded.to, -(ctx.deps.config.analyticsMaxDays - 1));
      const found = loaded.series[0];
      if (!found)
        return {
          metric: { id: metric.id, name: metric.name, type: metric.type },
          start: null,
          to: loaded.to,
          values: [],
        };
      // The newest ANALYTICS_MAX_DAYS days at most.
      const skip = Math.max(0, daysBetween(found.start, notBefore));
      const values = Array.from(found.values.subarray(skip), (value) => (Number.isNaN(value) ? null : value));
      return {
        metric: { id: metric.id, name: metric.name, type: metric.type },
        start: skip > 0 ? notBefore : found.start,
        to: loaded.to,
        values,
      };
    }),
  /** Experience points and level from logging consistency (formula in docs/design.md). */
  progress: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/analytics/progress',
        summary: 'Experience points, level and streaks',
        tags: ['analytics'],
      },
    })
    .output(progress)
    .query(({ ctx }) => computeProgress(ctx.db, ctx.auth.user.id)),
});
