import type { Config, KeyedBuckets, Logger } from '@lifexp/config';
import type { Database } from '@lifexp/db';
import type { AnalyticsService } from '@lifexp/insights';
import type { Jobs } from './jobs';
import type { ServerMetrics } from './metrics';
import type { NotificationsService } from './notifications';
import type { SyncHub } from './sync/hub';

/** What the server is built from; created once at start-up. */
export interface AppDeps {
  config: Config;
  database: Database;
  log: Logger;
  hub: SyncHub;
  analytics: AnalyticsService;
  jobs: Jobs;
  notifications: NotificationsService;
  /**
   * Each account's API calls on this instance (API_ACCOUNT_CALLS_PER_SECOND after
   * API_ACCOUNT_CALLS_BURST), over HTTP and WebSocket alike: see http/accountRate.
   */
  accountCalls: KeyedBuckets;
  /** Prometheus metrics; null unless METRICS_TOKEN is set. */
  metrics: ServerMetrics | null;
}
