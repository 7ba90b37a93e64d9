import {
  createMetricInput,
  deletedMetric,
  deleteInput,
  getInput,
  listMetricsInput,
  metric,
  metricList,
  updateMetricInput,
} from '@lifexp/contracts';
import { createMetric, deleteMetric, getMetric, listMetrics, updateMetric } from '@lifexp/db';
import { dataProcedure, protectedProcedure, router } from '../init';

export const metricsRouter = router({
  list: protectedProcedure
    .input(listMetricsInput)
    .output(metricList)
    .query(({ ctx, input }) => listMetrics(ctx.db, ctx.auth.user.id, input)),
  get: protectedProcedure
    .input(getInput)
    .output(metric)
    .query(({ ctx, input }) => getMetric(ctx.db, ctx.auth.user.id, input.id)),
  create: dataProcedure
    .input(createMetricInput)
    .output(metric)
    .mutation(({ ctx, input }) =>
      createMetric(ctx.db, ctx.auth.user.id, input, { maxActive: ctx.deps.config.metricsMaxActive }),
    ),
  /** Also archives (isActive: false) and restores a metric. */
  update: dataProcedure
    .input(updateMetricInput)
    .output(metric)
    .mutation(({ ctx, input }) =>
      updateMetric(ctx.db, ctx.auth.user.id, input, { maxActive: ctx.deps.config.metricsMaxActive }),
    ),
  /** Deletes the metric and all its entries. */
  delete: dataProcedure
    .input(deleteInput)
    .output(deletedMetric)
    .mutation(({ ctx, input }) => deleteMetric(ctx.db, ctx.auth.user.id, input)),
});
