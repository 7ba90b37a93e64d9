import { expect, it, vi } from 'vitest';
import { RECOMPUTE_QUEUE } from '../src/jobs';
import { call, describeServer, eventually, send, signUp, wsClient } from './support';

vi.setConfig({ testTimeout: 120_000 });

const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describeServer(
  'GET /metrics with METRICS_TOKEN',
  (ctx) => {
    it('refuses a scrape without the token, or with a wrong one, and tells nothing', async () => {
      const { url } = ctx();
      for (const authorization of [
        undefined,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        TOKEN,
        'Basic x',
      ]) {
        const response = await fetch(`${url}/metrics`, {
          headers: authorization ? { authorization } : {},
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
        expect(await response.text()).not.toContain('lifexp_');
      }
    });

    it('counts calls and their latencies by procedure and outcome', async () => {
      const { url } = ctx();
      const person = await signUp(url);
      await person.client.metrics.list.query();
      await person.client.metrics.list.query();
      const missing = await call(
        url,
        'metrics.get',
        { id: '00000000-0000-4000-8000-000000000000' },
        {
          type: 'query',
          headers: { authorization: `Bearer ${person.token}` },
        },
      );
      expect(missing.status).toBe(404);
      const text = await scrape(url);
      expect(
        sample(text, 'lifexp_requests_total', {
          procedure: 'metrics.list',
          transport: 'http',
          outcome: 'ok',
        }),
      ).toBe(2);
      expect(
        sample(text, 'lifexp_requests_total', {
          procedure: 'metrics.get',
          transport: 'http',
          outcome: 'NOT_FOUND',
        }),
      ).toBe(1);
      expect(
        sample(text, 'lifexp_request_duration_seconds_count', {
          procedure: 'metrics.list',
          transport: 'http',
        }),
      ).toBe(2);
      expect(
        sample(text, 'lifexp_request_duration_seconds_bucket', {
          procedure: 'metrics.list',
          transport: 'http',
          le: '+Inf',
        }),
      ).toBe(2);
      // Bounded labels: an unknown procedure is not a label.
      await send(`${url}/trpc/no.such.procedure`, { method: 'POST', body: '{}' });
      expect(await scrape(url)).not.toContain('no.such.procedure');
      // Plain routes by pattern.
      const exported = await send(`${url}/api/analytics/export`, {
        headers: { authorization: `Bearer ${person.token}` },
      });
      expect(exported.status).toBe(200);
      await exported.arrayBuffer();
      expect(
        sample(await scrape(url), 'lifexp_requests_total', {
          procedure: 'GET /api/analytics/export',
          outcome: 'ok',
        }),
      ).toBe(1);
    });

    it('reports open sockets and running subscriptions, and their end', async () => {
      const { url } = ctx();
      const person = await signUp(url);
      const before = await scrape(url);
      expect(sample(before, 'lifexp_open_sockets')).toBe(0);
      expect(sample(before, 'lifexp_subscriptions')).toBe(0);
      const { socket, client } = wsClient(url, { token: person.token });
      const subscription = client.sync.changes.subscribe(undefined, { onData: () => {} });
      await eventually(async () => {
        const text = await scrape(url);
        return sample(text, 'lifexp_subscriptions') === 1 && sample(text, 'lifexp_open_sockets') === 1
          ? true
          : undefined;
      }, 'the subscription to be counted');
      expect(
        sample(await scrape(url), 'lifexp_requests_total', {
          procedure: 'sync.changes',
          transport: 'ws',
          outcome: 'ok',
        }),
      ).toBe(1);
      subscription.unsubscribe();
      await eventually(
        async () => (sample(await scrape(url), 'lifexp_subscriptions') === 0 ? true : undefined),
        'the subscription to end',
      );
      await socket.close();
      await eventually(
        async () => (sample(await scrape(url), 'lifexp_open_sockets') === 0 ? true : undefined),
        'the socket to close',
      );
    });

    it('reports the job queue depth, analytics cache hits and the event-loop delay', async () => {
      const { url } = ctx();
      const person = await signUp(url);
      const metric = await person.client.metrics.create.mutate({
        name: 'Mood',
        type: 'rating',
        category: 'mood',
      });
      await person.client.entries.create.mutate({ metricId: metric.id, value: 4, date: '2026-03-01' });
      // The write queued a debounced recompute: waiting, not yet run.
      const text = await scrape(url);
      expect(sample(text, 'lifexp_job_queue_depth', { queue: RECOMPUTE_QUEUE, state: 'waiting' })).toBe(1);
      expect(sample(text, 'lifexp_job_queue_depth', { queue: RECOMPUTE_QUEUE, state: 'active' })).toBe(0);

      const hitsBefore = sample(text, 'lifexp_analytics_cache_hits_total') ?? 0;
      await person.client.analytics.trends.query({});
      await person.client.analytics.trends.query({});
      const after = await scrape(url);
      expect(sample(after, 'lifexp_analytics_cache_hits_total')).toBe(hitsBefore + 1);
      expect(sample(after, 'lifexp_analytics_cache_misses_total')).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(after, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      // Every sample carries the process's role.
      expect(after).toMatch(/lifexp_open_sockets\{role="all"\} 0/);
    });
  },
  { METRICS_TOKEN: TOKEN, INSIGHTS_DEBOUNCE_SECONDS: '3600' },
  { listen: true },
);

describeServer('GET /metrics without METRICS_TOKEN', (ctx) => {
  it('does not exist, whatever the request carries', async () => {
    const { url } = ctx();
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const response = await send(`${url}/metrics`, { headers });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('lifexp_');
    }
    expect(ctx().server.deps.metrics).toBeNull();
  });
});
