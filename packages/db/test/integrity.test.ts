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
  it.each([
    ['deleted', false],
    ['archived', true],
  ])('a create racing the metric being %s leaves no live entry on it', async (_what, archive) => {
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
        createEntry(db, user.id, { metricId: metric.id, value: 3, date: '2026-01-05' }).catch(() => null),
      );
      const changed = change();
      creates.push(
        ...Array.from({ length: 60 }, () =>
          createEntries(db, user.id, { entries: [{ metricId: metric.id, value: 2, date: '2026-01-05' }] })
            .then(([entry]) => entry!)
            .catch(() => null),
        ),
      );
      await changed;
      const created = (await Promise.all(creates)).filter((entry) => entry !== null).length;
      expect(await liveEntriesOf(db, metric.id)).toBe(archive ? created : 0);
      expect(created).toBe(60);
      return;
    }
    // PostgreSQL: the interleaving of the report, made deterministic. Another session holds the user's
    // sequence row, so the change stops just before its commit, with the metric row locked; a create
    // then starts, and the other session lets go.
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
      const created = createEntry(db, user.id, { metricId: metric.id, value: 3, date: '2026-01-05' }).then(
        () => 'created',
        (error: unknown) => (error as { code?: string }).code ?? 'failed',
      );
      await until(() => waiting(2));
      await holder`commit`;
      holder.release();
      await changed;
      expect(await created).toBe(archive ? 'CONFLICT' : 'NOT_FOUND');
      expect(await liveEntriesOf(db, metric.id)).toBe(0);
    } finally {
      await other.end();
    }
  });
});
