import type { Config, Logger, Role } from '@lifexp/config';
import { type Database, usersAtLocalHour } from '@lifexp/db';
import type { AnalyticsService } from '@lifexp/insights';
import { fromPglite, PgBoss, type Queue, type WorkHandler, type WorkOptions } from 'pg-boss';
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
  /**
   * Adds queues defined elsewhere (notifications') as jobQueues' own are added: created by every role,
   * worked where jobs run, counted in depth().
   */
  add(queues: JobQueue[]): Promise<void>;
  /** Jobs waiting (created or due for a retry) and running, per queue: counted now, not cached. */
  depth(): Promise<Record<string, { waiting: number; active: number }>>;
  stop(): Promise<void>;
}

/** Whether a process of this role works the job queues (a `web` process only sends to them). */
export function runsJobs(role: Role): boolean {
  return role !== 'web';
}

type RecomputeListener = (userId: string, setId: string) => Promise<void>;

/** A queue of the application: how it is created, polled and scheduled, and what a job does. */
export interface JobQueue {
  name: string;
  options: Omit<Queue, 'name'>;
  work: WorkOptions;
  /** A cron expression: the queue gets one job at each tick. */
  schedule?: string;
  handle: WorkHandler<object>;
}

/**
 * The insights' job queues (the notifications service brings its own, added through Jobs.add). Every
 * role creates them; the processes that run jobs (ROLE=all or worker) work them.
 */
export function jobQueues(context: {
  config: Config;
  database: Database;
  analytics: AnalyticsService;
  log: Logger;
  boss: PgBoss;
  recomputed: RecomputeListener[];
}): JobQueue[] {
  const { config, database, analytics, log, boss, recomputed } = context;
  return [
    {
      name: RECOMPUTE_QUEUE,
      options: { policy: 'short', retryLimit: 4, retryDelay: 5, retryBackoff: true, expireInSeconds: 600 },
      work: { pollingIntervalSeconds: config.jobsPollSeconds, batchSize: 1 },
      handle: async ([job]) => {
        if (!job) return;
        const { userId } = job.data as { userId: string };
        const stored = await analytics.recompute(userId);
        for (const listener of recomputed) {
          // A listener's failure is its own: the recompute itself succeeded and is not retried.
          await listener(userId, stored.setId).catch((error: unknown) =>
            log.error({ error: safeError(error), userId }, 'after-recompute work failed'),
          );
        }
      },
    },
    {
      name: SWEEP_QUEUE,
      options: { policy: 'singleton', retryLimit: 2 },
      work: { pollingIntervalSeconds: 30 },
      schedule: '5 * * * *',
      handle: async () => {
        const userIds = await usersAtLocalHour(database.db, config.insightsLocalHour);
        for (const userId of userIds) await boss.send(RECOMPUTE_QUEUE, { userId }, { singletonKey: userId });
        log.info({ users: userIds.length }, 'queued the daily insight recomputes');
      },
    },
  ];
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
  // A web process only sends jobs: the queue's own upkeep and its cron clock run where jobs run.
  const worker = runsJobs(config.role);
  const roleOptions = { supervise: worker, schedule: worker };
  const boss =
    database.driver === 'pglite' && database.pglite
      ? new PgBoss({ db: fromPglite(database.pglite), backend: 'pglite', ...roleOptions })
      : new PgBoss({ connectionString: database.url!, max: 3, ...roleOptions });
  boss.on('error', (error) => log.error({ error: safeError(error) }, 'job queue error'));
  await boss.start();
  const counted: string[] = [];
  async function add(queues: JobQueue[]): Promise<void> {
    // Every role creates the queues (a web process sends to them); only a worker works them.
    for (const queue of queues) {
      await boss.createQueue(queue.name, queue.options);
      counted.push(queue.name);
    }
    if (!worker) return;
    for (const queue of queues) {
      await boss.work(queue.name, queue.work, queue.handle);
      if (queue.schedule) await boss.schedule(queue.name, queue.schedule);
    }
  }
  const recomputed: RecomputeListener[] = [];
  await add(jobQueues({ config, database, analytics, log, boss, recomputed }));

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
    add,
    async depth() {
      const names = [...counted];
      const depth = Object.fromEntries(names.map((name) => [name, { waiting: 0, active: 0 }]));
      const { rows } = await boss.getDb().executeSql(
        `select name, state::text as state, count(*)::int as count from pgboss.job
            where name = any($1) and state in ('created', 'retry', 'active') group by name, state`,
        [names],
      );
      for (const row of rows as { name: string; state: string; count: number }[]) {
        const entry = depth[row.name];
        if (!entry) continue;
        if (row.state === 'active') entry.active += row.count;
        else entry.waiting += row.count;
      }
      return depth;
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
