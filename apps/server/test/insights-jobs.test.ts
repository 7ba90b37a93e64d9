import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDays, localToday } from '@lifexp/analytics';
import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { type Db, readChanges, schema } from '@lifexp/db';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { PgBoss } from 'pg-boss';
import { afterAll, describe, expect, it } from 'vitest';
import { RECOMPUTE_QUEUE } from '../src/jobs';
import { startServer } from '../src/server';
import { describeServer, eventually, httpClient, signUp } from './support';

type Client = Awaited<ReturnType<typeof signUp>>['client'];

/** The user's insight sets, oldest first: set id → rows and whether they are active. */
async function setsOf(db: Db, userId: string) {
  const rows = await db
    .select({
      setId: schema.insights.setId,
      id: schema.insights.id,
      isActive: schema.insights.isActive,
      createdAt: schema.insights.createdAt,
    })
    .from(schema.insights)
    .where(eq(schema.insights.userId, userId))
    .orderBy(asc(schema.insights.createdAt), asc(schema.insights.id));
  const sets = new Map<string, { ids: string[]; active: boolean[] }>();
  for (const row of rows) {
    const set = sets.get(row.setId) ?? { ids: [], active: [] };
    set.ids.push(row.id);
    set.active.push(row.isActive);
    sets.set(row.setId, set);
  }
  return [...sets.entries()].map(([setId, set]) => ({ setId, ...set }));
}

async function insightEvents(db: Db, userId: string) {
  const changes = await readChanges(db, userId, 0, 10_000);
  return changes.filter((change) => change.entity === 'insights');
}

/** The recompute jobs of one user (singletonKey = user id), whatever their state. */
async function jobsOf(boss: PgBoss, userId: string) {
  return boss.findJobs<{ userId: string }>(RECOMPUTE_QUEUE, { key: userId });
}

/** Waits until every recompute job of the user has finished (none created, retrying or active). */
async function settled(boss: PgBoss, userId: string) {
  return eventually(async () => {
    const jobs = await jobsOf(boss, userId);
    return jobs.length > 0 && jobs.every((job) => job.state === 'completed') ? jobs : undefined;
  }, 'the recompute jobs to finish');
}

/** A metric with one entry per day for `days` days: enough for a streak insight (never an empty set). */
async function habit(client: Client, days: number) {
  const metric = await client.metrics.create.mutate({ name: 'Walk', type: 'binary', category: 'habits' });
  const today = localToday('UTC');
  return { metric, today, dates: Array.from({ length: days }, (_, i) => addDays(today, i - days + 1)) };
}

// By design the window is fixed: a recompute runs INSIGHTS_DEBOUNCE_SECONDS after the first write
// ("this long after the first"), and writes after it has started queue the next one. 50 HTTP round
// trips take 1.5–4.5 s on this machine (PGlite, loaded), so with a 2 s window the same burst gives one
// or two sets depending on speed. The burst test therefore gets a 10 s window; the others keep 2 s.
const BURST_WINDOW_SECONDS = 10;

/** The hourly sweep recomputes users whose local hour is INSIGHTS_LOCAL_HOUR: keep it far from now (UTC users). */
const QUIET_HOUR = String((new Date().getUTCHours() + 12) % 24);

describeServer(
  'a burst of writes',
  (ctx) => {
    it('a burst of 50 writes gives exactly one recompute: one set, one sync event', async () => {
      const { client, user } = await signUp(ctx().url);
      const { db } = ctx().database;
      const boss = ctx().server.deps.jobs.boss;
      const { metric, dates } = await habit(client, 50);
      // 50 separate calls, one HTTP request each, one after another; each asks for a recompute. The
      // metric's creation opened the debounce window (a per-user singleton job that starts
      // INSIGHTS_DEBOUNCE_SECONDS later); every write inside it is folded into that one job.
      const started = Date.now();
      for (const date of dates) {
        await client.entries.create.mutate({ metricId: metric.id, value: true, date });
      }
      const burstMs = Date.now() - started;

      await eventually(async () => ((await setsOf(db, user.id)).length > 0 ? true : undefined), 'a set');
      const jobs = await settled(boss, user.id);
      expect(
        jobs,
        `one job expected; the burst took ${burstMs} ms of the ${BURST_WINDOW_SECONDS} s window`,
      ).toHaveLength(1);
      expect(jobs[0]!.data).toEqual({ userId: user.id });
      const sets = await setsOf(db, user.id);
      expect(sets).toHaveLength(1);
      expect(sets[0]!.active.every(Boolean)).toBe(true);
      const events = await insightEvents(db, user.id);
      expect(events).toHaveLength(1);
      expect(events[0]!.entityId).toBe(sets[0]!.setId);
      expect(events[0]!.data).toMatchObject({ setId: sets[0]!.setId, count: sets[0]!.ids.length });
      const listed = await client.analytics.insights.query();
      expect(listed.map((insight) => insight.id).sort()).toEqual([...sets[0]!.ids].sort());
      expect(listed.find((insight) => insight.type === 'streak')?.data.sentence).toBe(
        'Walk: 50 days in a row, your best run yet',
      );
    });
  },
  {
    INSIGHTS_DEBOUNCE_SECONDS: String(BURST_WINDOW_SECONDS),
    JOBS_POLL_SECONDS: '1',
    INSIGHTS_LOCAL_HOUR: QUIET_HOUR,
  },
);

describeServer(
  'insight recompute jobs',
  (ctx) => {
    it('a later write gives a new set; the old one is deactivated, not deleted, and no longer listed', async () => {
      const { client, user } = await signUp(ctx().url);
      const { db } = ctx().database;
      const boss = ctx().server.deps.jobs.boss;
      const { metric, dates, today } = await habit(client, 20);
      await client.entries.createMany.mutate({
        entries: dates.slice(0, -1).map((date) => ({ metricId: metric.id, value: true, date })),
      });
      await eventually(async () => ((await setsOf(db, user.id)).length > 0 ? true : undefined), 'a set');
      await settled(boss, user.id);
      // Normally one set by now (two if the machine was slow enough to split the first writes).
      const before = await setsOf(db, user.id);
      const eventsBefore = await insightEvents(db, user.id);
      const first = before.at(-1)!;
      expect(first.active.every(Boolean)).toBe(true);

      await client.entries.create.mutate({ metricId: metric.id, value: true, date: today });
      await eventually(
        async () => ((await setsOf(db, user.id)).length > before.length ? true : undefined),
        'the next set',
      );
      await settled(boss, user.id);
      const sets = await setsOf(db, user.id);
      expect(sets).toHaveLength(before.length + 1);
      const newest = sets.at(-1)!;
      // The old rows are all still there, every one inactive; the new ones are all active.
      for (const old of before) {
        const now = sets.find((set) => set.setId === old.setId)!;
        expect(now.ids).toEqual(old.ids);
        expect(now.active.every((active) => active === false)).toBe(true);
      }
      expect(newest.active.every(Boolean)).toBe(true);
      const listed = await client.analytics.insights.query();
      expect(listed.map((insight) => insight.id).sort()).toEqual([...newest.ids].sort());
      expect(listed.find((insight) => insight.type === 'streak')?.data.sentence).toBe(
        'Walk: 20 days in a row, your best run yet',
      );
      // One more sync event, naming the new set.
      const events = await insightEvents(db, user.id);
      expect(events).toHaveLength(eventsBefore.length + 1);
      expect(events.at(-1)!.entityId).toBe(newest.setId);
      // Exactly one active set per user, in the table itself.
      const active = await db
        .select({ sets: sql<number>`count(distinct ${schema.insights.setId})::int` })
        .from(schema.insights)
        .where(and(eq(schema.insights.userId, user.id), eq(schema.insights.isActive, true)));
      expect(active[0]?.sets).toBe(1);
    });

    it('a failing recompute is kept and retried with backoff, not dropped', async () => {
      const boss = ctx().server.deps.jobs.boss;
      // No such user: storing the set breaks a foreign key, so the job fails every time.
      const ghost = randomUUID();
      const id = await boss.send(RECOMPUTE_QUEUE, { userId: ghost }, { singletonKey: ghost });
      expect(id).toBeTruthy();
      const find = async () => (await boss.findJobs<{ userId: string }>(RECOMPUTE_QUEUE, { id: id! }))[0];
      const retrying = await eventually(async () => {
        const job = await find();
        return job && job.state === 'retry' ? job : undefined;
      }, 'the first failure');
      // pg-boss counts retries started: after the first failure the job waits in `retry` at count 0.
      expect(retrying).toMatchObject({
        retryCount: 0,
        retryLimit: 4,
        retryBackoff: true,
        completedOn: null,
        data: { userId: ghost },
      });
      // Scheduled for later, not now: the backoff.
      expect(retrying.startAfter.getTime()).toBeGreaterThan(retrying.startedOn.getTime());
      expect(JSON.stringify(retrying.output)).toMatch(/foreign key|violates|sync_state/i);
      // And it does run again (the second attempt is retry 1), and fails again into `retry`.
      const again = await eventually(
        async () => {
          const job = await find();
          return job && job.retryCount >= 1 && job.state === 'retry' ? job : undefined;
        },
        'the second attempt',
        90_000,
      );
      expect(again.id).toBe(id);
      expect(again.startAfter.getTime()).toBeGreaterThan(retrying.startAfter.getTime());
      await boss.cancel(RECOMPUTE_QUEUE, id!);
      const logged = ctx().logs.filter((line) => line.msg === 'insights recomputed' && line.userId === ghost);
      expect(logged).toEqual([]);
    }, 120_000);
  },
  { INSIGHTS_DEBOUNCE_SECONDS: '2', JOBS_POLL_SECONDS: '1', INSIGHTS_LOCAL_HOUR: QUIET_HOUR },
);

describe('a recompute queued before a restart', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const driver of testDrivers) {
    it(`runs after the restart [${driver}]`, async () => {
      let url: string | undefined;
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        PORT: '0',
        INSIGHTS_DEBOUNCE_SECONDS: '1',
        JOBS_POLL_SECONDS: '1',
        INSIGHTS_LOCAL_HOUR: QUIET_HOUR,
      };
      if (driver === 'postgres') {
        url = await createPostgresDatabase();
        env.DATABASE_URL = url;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'lifexp-jobs-'));
        dirs.push(dir);
        env.DATA_DIR = dir;
      }
      try {
        const firstLog = memoryLog();
        const first = await startServer(loadConfig(env), { log: firstLog.log });
        let userId: string;
        let token: string;
        let jobId: string;
        try {
          // This instance takes no recompute jobs: as if it went down before the job was due.
          await first.deps.jobs.boss.offWork(RECOMPUTE_QUEUE);
          const account = await signUp(first.url);
          userId = account.user.id;
          token = account.token;
          const { metric, dates } = await habit(account.client, 10);
          await account.client.entries.createMany.mutate({
            entries: dates.map((date) => ({ metricId: metric.id, value: true, date })),
          });
          const queued = await eventually(async () => {
            const jobs = await jobsOf(first.deps.jobs.boss, userId);
            return jobs.length > 0 ? jobs : undefined;
          }, 'the queued job');
          expect(queued).toHaveLength(1);
          expect(queued[0]!.state).toBe('created');
          jobId = queued[0]!.id;
        } finally {
          await first.close();
        }
        expect(firstLog.lines.filter((line) => line.msg === 'insights recomputed')).toEqual([]);

        const secondLog = memoryLog();
        const second = await startServer(loadConfig(env), { log: secondLog.log });
        try {
          const done = await eventually(async () => {
            const [job] = await second.deps.jobs.boss.findJobs(RECOMPUTE_QUEUE, { id: jobId });
            return job?.state === 'completed' ? job : undefined;
          }, 'the job to run after the restart');
          expect(done.id).toBe(jobId);
          expect(
            secondLog.lines.filter((line) => line.msg === 'insights recomputed' && line.userId === userId),
          ).toHaveLength(1);
          // The session survived too; the new instance serves the fresh set.
          const client = httpClient(second.url, { authorization: `Bearer ${token}` });
          const insights = await client.analytics.insights.query();
          expect(insights.find((insight) => insight.type === 'streak')?.data.sentence).toBe(
            'Walk: 10 days in a row, your best run yet',
          );
          const events = await insightEvents(second.deps.database.db, userId);
          expect(events).toHaveLength(1);
        } finally {
          await second.close();
        }
      } finally {
        if (url) await dropPostgresDatabase(url);
      }
    }, 120_000);
  }
});
