import type { AnalyticsService } from '@lifexp/insights';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Jobs } from './jobs';

/** Where the scrape-time figures come from; bound once the server has them. */
export interface MetricSources {
  /** Open WebSockets on this instance. */
  sockets(): number;
  jobs: Jobs;
  analytics: AnalyticsService;
}

/**
 * The server's Prometheus metrics (GET /metrics, when METRICS_TOKEN is set). One registry per server,
 * so that several servers in one process (tests) never mix their figures. Labels are bounded: a
 * procedure label is a procedure of the router or a route pattern, never a raw path.
 */
export interface ServerMetrics {
  registry: Registry;
  /** A finished call: a tRPC procedure (`metrics.list`) or a plain route (`GET /api/export`). */
  observe(procedure: string, transport: 'http' | 'ws', outcome: string, seconds: number): void;
  /** A subscription started; the returned function marks its end (idempotent). */
  subscriptionStarted(): () => void;
  bind(sources: MetricSources): void;
  /** Stops the event-loop monitor. */
  stop(): void;
}

/** Latency buckets in seconds: 1 ms to 30 s. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(role: string): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  // Process figures (CPU, memory, handles) and the event-loop delay (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  let sources: MetricSources | undefined;

  const requests = new Counter({
    name: 'lifexp_requests_total',
    help: 'Finished procedure calls and plain HTTP routes, by procedure, transport and outcome (ok or an error code).',
    labelNames: ['procedure', 'transport', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'lifexp_request_duration_seconds',
    help: 'Time to answer a procedure call or plain route (for a subscription: until its stream starts).',
    labelNames: ['procedure', 'transport'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'lifexp_subscriptions',
    help: 'Subscriptions running on this instance (WebSocket and HTTP streams).',
    registers: [registry],
  });
  new Gauge({
    name: 'lifexp_open_sockets',
    help: 'Open WebSocket connections on this instance.',
    registers: [registry],
    collect() {
      this.set(sources?.sockets() ?? 0);
    },
  });
  new Gauge({
    name: 'lifexp_job_queue_depth',
    help: 'Jobs per queue and state: waiting (created or due for a retry) or active.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!sources) return;
      const depth = await sources.jobs.depth();
      for (const [queue, counts] of Object.entries(depth)) {
        this.set({ queue, state: 'waiting' }, counts.waiting);
        this.set({ queue, state: 'active' }, counts.active);
      }
    },
  });
  const cacheStats = () => sources?.analytics.cacheStats() ?? { hits: 0, misses: 0, size: 0, bytes: 0 };
  new Counter({
    name: 'lifexp_analytics_cache_hits_total',
    help: 'Analytics answers served from the cache since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cacheStats().hits);
    },
  });
  new Counter({
    name: 'lifexp_analytics_cache_misses_total',
    help: 'Analytics answers computed afresh since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cacheStats().misses);
    },
  });
  new Gauge({
    name: 'lifexp_analytics_cache_bytes',
    help: 'Bytes of answers held by the analytics cache.',
    registers: [registry],
    collect() {
      this.set(cacheStats().bytes);
    },
  });

  return {
    registry,
    observe(procedure, transport, outcome, seconds) {
      requests.inc({ procedure, transport, outcome });
      duration.observe({ procedure, transport }, seconds);
    },
    subscriptionStarted() {
      subscriptions.inc();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        subscriptions.dec();
      };
    },
    bind(bound) {
      sources = bound;
    },
    stop() {
      // The default metrics' event-loop histogram is released with the registry's metrics.
      registry.clear();
    },
  };
}
