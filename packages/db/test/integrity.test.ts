import { randomUUID } from 'node:crypto';
import { and, count, eq, isNull } from 'drizzle-orm';
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { registerUser } from '../src/accounts';
import type { Db } from '../src/client';
import { createEntries, createEntry } from '../src/entries';
import { createMetric, deleteMetric, updateMetric } from '../src/metrics';
import { entries } from '../src/schema';
import { describeEachDriver } from '../src/testing';

async function liveEntriesOf(db: Db, metricId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(entries)
    .where(and(eq(entries.metricId, metricId), isNull(entries.deletedAt)));
  return row!.n;
}

/** Polls until `check` holds; a condition, never a duration, decides. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2_000 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describeEachDriver('no live entry on a deleted or archived metric', (ctx) => {
  // Without a time zone a create runs as a transaction; with the writer's time zone (the server's
  // HTTP path) it first tries the single statement, which locks and re-checks the metric itself.
  it.each([
    { what: 'deleted', archive: false, how: 'in a transaction', writer: {} },
    { what: 'archived', archive: true, how: 'in a transaction', writer: {} },
    { what: 'deleted', archive: false, how: 'in one statement', writer: { timezone: 'UTC' } },
    { what: 'archived', archive: true, how: 'in one statement', writer: { timezone: 'UTC' } },
  ])(
    'a create racing the metric being $what leaves no live entry on it ($how)',
    async ({ archive, writer }) => {
      const { db, url } = ctx();
      const user = await registerUser(db, {
        email: `${randomUUID()}@example.test`,
        password: 'long enough pw',
      });
      const metric = await createMetric(db, user.id, {
        name: 'Raced',
        type: 'rating',
        category: 'mood',
        config: {
          min: 1,
          max: 5,
          aggregation: 'mean',
          missing: 'unknown',
        },
      });
      const change = () =>
        archive
          ? updateMetric(db, user.id, { id: metric.id, baseVersion: 1, isActive: false })
          : deleteMetric(db, user.id, { id: metric.id, baseVersion: 1 });
      if (!url) {
        // One connection: transactions run one after another. Many creates around the change still must
        // not leave a live entry behind it.
        const creates = Array.from({ length: 60 }, () =>
          createEntry(db, user.id, { metricId: metric.id, value: 3, date: '2026-01-05' }, writer).catch(
            () => null,
          ),
        );
        const changed = change();
        creates.push(
          ...Array.from({ length: 60 }, () =>
            createEntries(
              db,
              user.id,
              { entries: [{ metricId: metric.id, value: 2, date: '2026-01-05' }] },
              writer,
            )
              .then(([entry]) => entry!)
              .catch(() => null),
          ),
        );
        await changed;
        const created = (await Promise.all(creates)).filter((entry) => entry !== null).length;
        expect(await liveEntriesOf(db, metric.id)).toBe(archive ? created : 0);
        // In a transaction, the creates queued before the change on the one connection all go first. A
        // single statement reads the metric before it queues, so some of those may come after the
        // change and be refused: which ones is a matter of order, that none is left live is not.
        if (!('timezone' in writer)) expect(created).toBe(60);
        return;
      }
      // PostgreSQL: the interleaving of the report, made deterministic. Another session holds the user's
      // sequence row, so the change stops just before its commit, with the metric row locked; a create
      // then starts, and the other session lets go.
      // The metric as it was before the change, read (and remembered) by this process: a single
      // statement must find out, under the lock, that it changed.
      const warmed = 'timezone' in writer;
      if (warmed)
        await createEntry(db, user.id, { metricId: metric.id, value: 1, date: '2026-01-04' }, writer);
      const other = postgres(url, { max: 2, onnotice: () => {} });
      try {
        const holder = await other.reserve();
        await holder`begin`;
        await holder`insert into sync_state (user_id, seq) values (${user.id}, 0)
        on conflict (user_id) do update set seq = sync_state.seq`;
        const waiting = async (n: number) => {
          const [row] = await other`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
          return (row?.n as number) >= n;
        };
        const changed = change();
        await until(() => waiting(1));
        const created = createEntry(
          db,
          user.id,
          { metricId: metric.id, value: 3, date: '2026-01-05' },
          writer,
        ).then(
          () => 'created',
          (error: unknown) => (error as { code?: string }).code ?? 'failed',
        );
        await until(() => waiting(2));
        await holder`commit`;
        holder.release();
        await changed;
        expect(await created).toBe(archive ? 'CONFLICT' : 'NOT_FOUND');
        // Archiving keeps the entries made before it; deleting removes them.
        expect(await liveEntriesOf(db, metric.id)).toBe(archive && warmed ? 1 : 0);
      } finally {
        await other.end();
      }
    },
  );
});
