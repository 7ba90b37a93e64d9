import type { Config, Logger } from '@lifexp/config';
import { type Database, usersAtLocalHour } from '@lifexp/db';
import type { AnalyticsService } from '@lifexp/insights';
import { fromPglite, PgBoss } from 'pg-boss';
import { safeError } from './errorLog';

export const RECOMPUTE_QUEUE = 'insights-recompute';
export const SWEEP_QUEUE = 'insights-daily-sweep';

export interface Jobs {
  /**
   * Asks for a recompute of the user's insights, debounced: a burst of writes gives one job. Never
   * fails the caller: a failure to queue is logged.
   */
  requestRecompute(userId: string): void;
  /**
   * Removes every job that carries the user's id (waiting, retrying, running or kept after it ran):
   * after deleteAccount, nothing in the queue names the user.
   */
  forgetUser(userId: string): Promise<number>;
  /** Called after each recompute that stored a new insight set (the new-insight notice hooks in here). */
  onRecomputed(listener: (userId: string, setId: string) => Promise<void>): void;
  boss: PgBoss;
  stop(): Promise<void>;
}

/**
 * Background jobs on pg-boss, which keeps its queue in our own database (PostgreSQL, or the embedded
 * PGlite): jobs survive restarts and are shared by every instance. Recomputes are idempotent (each
 * replaces the active set), retried with backoff, and debounced by a per-user singleton that waits
 * INSIGHTS_DEBOUNCE_SECONDS before it runs. An hourly sweep queues the users for whom it is now
 * early morning (INSIGHTS_LOCAL_HOUR), so everyone wakes up to fresh insights.
 */
export async function startJobs(
  config: Config,
  database: Database,
  analytics: AnalyticsService,
  log: Logger,
): Promise<Jobs> {
  const recomputed: ((userId: string, setId: string) => Promise<void>)[] = [];
  const boss =
    database.driver === 'pglite' && database.pglite
      ? new PgBoss({ db: fromPglite(database.pglite), backend: 'pglite' })
      : new PgBoss({ connectionString: database.url!, max: 3 });
  boss.on('error', (error) => log.error({ error: safeError(error) }, 'job queue error'));
  await boss.start();
  await boss.createQueue(RECOMPUTE_QUEUE, {
    policy: 'short',
    retryLimit: 4,
    retryDelay: 5,
    retryBackoff: true,
    expireInSeconds: 600,
  });
  await boss.createQueue(SWEEP_QUEUE, { policy: 'singleton', retryLimit: 2 });
  await boss.work<{ userId: string }>(
    RECOMPUTE_QUEUE,
    { pollingIntervalSeconds: config.jobsPollSeconds, batchSize: 1 },
    async ([job]) => {
      if (!job) return;
      const stored = await analytics.recompute(job.data.userId);
      for (const listener of recomputed) {
        // A listener's failure is its own: the recompute itself succeeded and is not retried.
        await listener(job.data.userId, stored.setId).catch((error: unknown) =>
          log.error({ error: safeError(error), userId: job.data.userId }, 'after-recompute work failed'),
        );
      }
    },
  );
  await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
    const userIds = await usersAtLocalHour(database.db, config.insightsLocalHour);
    for (const userId of userIds) await boss.send(RECOMPUTE_QUEUE, { userId }, { singletonKey: userId });
    log.info({ users: userIds.length }, 'queued the daily insight recomputes');
  });
  await boss.schedule(SWEEP_QUEUE, '5 * * * *');

  // Within a debounce window the queue would drop a second request anyway: do not even ask it.
  const requestedAt = new Map<string, number>();
  return {
    boss,
    onRecomputed(listener) {
      recomputed.push(listener);
    },
    requestRecompute(userId) {
      const now = Date.now();
      const window = config.insightsDebounceSeconds * 1000;
      if (now - (requestedAt.get(userId) ?? Number.NEGATIVE_INFINITY) < window) return;
      requestedAt.set(userId, now);
      for (const [id, at] of requestedAt) if (now - at >= window) requestedAt.delete(id);
      boss
        .send(
          RECOMPUTE_QUEUE,
          { userId },
          { singletonKey: userId, startAfter: config.insightsDebounceSeconds },
        )
        .catch((error: unknown) =>
          log.error({ error: safeError(error), userId }, 'could not queue an insights recompute'),
        );
    },
    async forgetUser(userId) {
      requestedAt.delete(userId);
      return removeUserJobs(boss, RECOMPUTE_QUEUE, userId);
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 5_000 });
    },
  };
}

/** Removes every job of a queue whose data names the user (waiting, retrying, running or kept). */
export async function removeUserJobs(boss: PgBoss, queue: string, userId: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const jobs = await boss.findJobs(queue, { data: { userId }, limit: 1_000 });
    if (jobs.length === 0) break;
    await boss.deleteJob(
      queue,
      jobs.map((job) => job.id),
    );
    removed += jobs.length;
    if (jobs.length < 1_000) break;
  }
  return removed;
}
