import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import type { HonoEnv } from './env';

/**
 * GET /metrics in Prometheus text format, for a scraper that sends `Authorization: Bearer
 * METRICS_TOKEN`. Without METRICS_TOKEN the route does not exist (404); a missing or wrong token
 * is 401, with nothing else said.
 */
export function metricsRoute(deps: AppDeps): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const { metrics } = deps;
  const token = deps.config.metricsToken;
  if (!metrics || !token) return app;
  const expected = Buffer.from(`Bearer ${token}`);
  app.get('/metrics', async (c) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json({ error: 'unauthorized' }, 401);
    }
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });
  return app;
}
