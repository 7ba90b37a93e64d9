import {
  correlationsInput,
  correlationsResult,
  insightList,
  insightsInput,
  progress,
  trendsInput,
  trendsResult,
} from '@lifexp/contracts';
import { computeProgress, listActiveInsights } from '@lifexp/db';
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
