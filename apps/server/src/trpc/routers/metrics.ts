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
    .meta({
      openapi: { method: 'GET', path: '/api/metrics', summary: 'The user’s metrics', tags: ['metrics'] },
    })
    .input(listMetricsInput)
    .output(metricList)
    .query(({ ctx, input }) => listMetrics(ctx.db, ctx.auth.user.id, input)),
  get: protectedProcedure
    .meta({ openapi: { method: 'GET', path: '/api/metrics/{id}', summary: 'One metric', tags: ['metrics'] } })
    .input(getInput)
    .output(metric)
    .query(({ ctx, input }) => getMetric(ctx.db, ctx.auth.user.id, input.id)),
  create: dataProcedure
    .meta({
      openapi: { method: 'POST', path: '/api/metrics', summary: 'Defines a metric', tags: ['metrics'] },
      created: true,
    })
    .input(createMetricInput)
    .output(metric)
    .mutation(({ ctx, input }) =>
      createMetric(ctx.db, ctx.auth.user.id, input, { maxActive: ctx.deps.config.metricsMaxActive }),
    ),
  /** Also archives (isActive: false) and restores a metric. */
  update: dataProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/api/metrics/{id}',
        summary: 'Renames, reconfigures, archives or restores a metric',
        tags: ['metrics'],
      },
    })
    .input(updateMetricInput)
    .output(metric)
    .mutation(({ ctx, input }) =>
      updateMetric(ctx.db, ctx.auth.user.id, input, { maxActive: ctx.deps.config.metricsMaxActive }),
    ),
  /** Deletes the metric and all its entries. */
  delete: dataProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/api/metrics/{id}',
        summary: 'Deletes a metric with all its entries',
        tags: ['metrics'],
      },
    })
    .input(deleteInput)
    .output(deletedMetric)
    .mutation(({ ctx, input }) => deleteMetric(ctx.db, ctx.auth.user.id, input)),
});
