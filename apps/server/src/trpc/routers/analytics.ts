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
    .input(correlationsInput)
    .output(correlationsResult)
    .query(({ ctx, input }) => ctx.deps.analytics.correlations(ctx.auth.user.id, input)),
  /** Per metric: direction, slope per week in its unit, Mann–Kendall p, strength. */
  trends: protectedProcedure
    .input(trendsInput)
    .output(trendsResult)
    .query(({ ctx, input }) => ctx.deps.analytics.trends(ctx.auth.user.id, input)),
  /** The newest precomputed set: correlations, trends, weekday patterns, streaks, recommendations. */
  insights: protectedProcedure
    .input(insightsInput)
    .output(insightList)
    .query(({ ctx, input }) => listActiveInsights(ctx.db, ctx.auth.user.id, input.types)),
  /** Experience points and level from logging consistency (formula in docs/design.md). */
  progress: protectedProcedure.output(progress).query(({ ctx }) => computeProgress(ctx.db, ctx.auth.user.id)),
});
