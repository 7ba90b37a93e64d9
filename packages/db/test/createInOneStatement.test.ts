import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from '../src/accounts';
import { latestSeq } from '../src/changes';
import type { Db } from '../src/client';
import { createEntries, createEntriesInOneStatement, getEntry } from '../src/entries';
import { createMetric, updateMetric } from '../src/metrics';
import { changeLog, entries } from '../src/schema';
import { createTestDatabase, describeEachDriver, type TestDatabase, testDrivers } from '../src/testing';

const UTC = 'UTC';
const rating = { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' } as const;

async function account(db: Db) {
  const user = await registerUser(db, { email: `${randomUUID()}@example.test`, password: 'long enough pw' });
  const metric = await createMetric(db, user.id, {
    name: 'Mood',
    type: 'rating',
    category: 'mood',
    config: rating,
  });
  return { userId: user.id, metric };
}

async function logOf(db: Db, userId: string) {
  return db.select().from(changeLog).where(eq(changeLog.userId, userId)).orderBy(asc(changeLog.seq));
}

async function entriesOf(db: Db, userId: string) {
  return db.select().from(entries).where(eq(entries.userId, userId));
}

describeEachDriver('createEntries in one statement', (ctx) => {
  it('writes the entries, one change-log event each with the answer as data, consecutive seqs', async () => {
    const { db } = ctx();
    const { userId, metric } = await account(db);
    const other = await createMetric(db, userId, {
      name: 'Sleep',
      type: 'number',
      category: 'health',
      config: { aggregation: 'sum', missing: 'unknown' },
    });
    const before = await latestSeq(db, userId);
    const created = await createEntriesInOneStatement(
      db,
      userId,
      {
        entries: [
          {
            metricId: metric.id,
            value: 4,
            date: '2026-02-01',
            time: '07:30',
            notes: 'fine',
            tags: ['A', 'b'],
          },
          { metricId: other.id, value: 7.25, date: '2026-02-01' },
          { metricId: metric.id, value: 2, date: '2026-02-02', id: randomUUID() },
        ],
        clientMutationId: 'batch-1',
      },
      UTC,
    );
    expect(created).toHaveLength(3);
    // The answer is what is stored, field for field.
    for (const entry of created!) expect(await getEntry(db, userId, entry.id)).toEqual(entry);
    expect(created![0]).toMatchObject({ time: '07:30:00', notes: 'fine', tags: ['a', 'b'], version: 1 });
    const log = (await logOf(db, userId)).filter((row) => row.seq > before);
    expect(log.map((row) => row.seq)).toEqual([before + 1, before + 2, before + 3]);
    expect(log.map((row) => row.entityId)).toEqual(created!.map((entry) => entry.id));
    expect(log.map((row) => row.data)).toEqual(created);
    expect(new Set(log.map((row) => `${row.entity}/${row.op}/${row.clientMutationId}`))).toEqual(
      new Set(['entry/upsert/batch-1']),
    );
    expect(await latestSeq(db, userId)).toBe(before + 3);
  });

  it('answers null and writes nothing for anything but the common case; createEntries then gives the answer', async () => {
    const { db } = ctx();
    const { userId, metric } = await account(db);
    const stranger = await account(db);
    const archived = await createMetric(db, userId, {
      name: 'Old',
      type: 'rating',
      category: 'mood',
      config: rating,
    });
    await updateMetric(db, userId, { id: archived.id, baseVersion: 1, isActive: false });
    const existing = (
      await createEntries(db, userId, { entries: [{ metricId: metric.id, value: 3, date: '2026-03-01' }] })
    )[0]!;
    const twice = randomUUID();
    const cases: [string, Parameters<typeof createEntries>[2], string | null][] = [
      [
        'a value out of range',
        { entries: [{ metricId: metric.id, value: 9, date: '2026-03-02' }] },
        'BAD_REQUEST',
      ],
      [
        'a date after tomorrow',
        { entries: [{ metricId: metric.id, value: 3, date: '2999-01-01' }] },
        'BAD_REQUEST',
      ],
      [
        'an unknown metric',
        { entries: [{ metricId: randomUUID(), value: 3, date: '2026-03-02' }] },
        'NOT_FOUND',
      ],
      [
        'another user’s metric',
        { entries: [{ metricId: stranger.metric.id, value: 3, date: '2026-03-02' }] },
        'NOT_FOUND',
      ],
      [
        'an archived metric',
        { entries: [{ metricId: archived.id, value: 3, date: '2026-03-02' }] },
        'CONFLICT',
      ],
      [
        'the same id twice',
        {
          entries: [
            { id: twice, metricId: metric.id, value: 3, date: '2026-03-02' },
            { id: twice, metricId: metric.id, value: 3, date: '2026-03-02' },
          ],
        },
        'BAD_REQUEST',
      ],
      [
        'an id taken with other content',
        { entries: [{ id: existing.id, metricId: metric.id, value: 5, date: '2026-03-01' }] },
        'CONFLICT',
      ],
      [
        'a valid item beside an invalid one',
        {
          entries: [
            { metricId: metric.id, value: 3, date: '2026-03-02' },
            { metricId: metric.id, value: 0, date: '2026-03-02' },
          ],
        },
        'BAD_REQUEST',
      ],
      // A retry of a stored create: no write, the stored entry is the answer.
      [
        'a retried create',
        { entries: [{ id: existing.id, metricId: metric.id, value: 3, date: '2026-03-01' }] },
        null,
      ],
    ];
    for (const [what, input, code] of cases) {
      const seq = await latestSeq(db, userId);
      const stored = await entriesOf(db, userId);
      expect(await createEntriesInOneStatement(db, userId, input, UTC), what).toBeNull();
      expect(await latestSeq(db, userId), what).toBe(seq);
      expect(await entriesOf(db, userId), what).toEqual(stored);
      const answer = await createEntries(db, userId, input, { timezone: UTC }).then(
        (result) => result,
        (error: { code?: string }) => error.code,
      );
      if (code) expect(answer, what).toBe(code);
      else expect(answer, what).toEqual([existing]);
      expect(await latestSeq(db, userId), what).toBe(seq);
    }
  });

  it('a metric changed since this process read it is judged by its new definition', async () => {
    const { db } = ctx();
    const { userId, metric } = await account(db);
    // Reads (and remembers) the metric as it is now: 1..5.
    expect(
      await createEntriesInOneStatement(
        db,
        userId,
        { entries: [{ metricId: metric.id, value: 3, date: '2026-04-01' }] },
        UTC,
      ),
    ).toHaveLength(1);
    await updateMetric(db, userId, { id: metric.id, baseVersion: 1, config: { ...rating, max: 4 } });
    const seq = await latestSeq(db, userId);
    const input = { entries: [{ metricId: metric.id, value: 5, date: '2026-04-02' }] };
    // The remembered definition would take 5; the statement sees the version moved and writes nothing.
    expect(await createEntriesInOneStatement(db, userId, input, UTC)).toBeNull();
    expect(await latestSeq(db, userId)).toBe(seq);
    await expect(createEntries(db, userId, input, { timezone: UTC })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    // Read afresh, the new definition is used by the statement from then on.
    const [four] = (await createEntriesInOneStatement(
      db,
      userId,
      { entries: [{ metricId: metric.id, value: 4, date: '2026-04-02' }] },
      UTC,
    ))!;
    expect(await getEntry(db, userId, four!.id)).toEqual(four);
    expect(await latestSeq(db, userId)).toBe(seq + 1);
  });

  it('concurrent creates of one user get gap-free seqs, one event per entry', async () => {
    const { db } = ctx();
    const { userId, metric } = await account(db);
    const before = await latestSeq(db, userId);
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createEntries(
          db,
          userId,
          { entries: [{ metricId: metric.id, value: (i % 5) + 1, date: '2026-05-01' }] },
          { timezone: UTC },
        ),
      ),
    );
    const log = (await logOf(db, userId)).filter((row) => row.seq > before);
    expect(log.map((row) => row.seq)).toEqual(Array.from({ length: 40 }, (_, i) => before + i + 1));
    expect(new Set(log.map((row) => row.entityId))).toEqual(new Set(created.map(([entry]) => entry!.id)));
  });
});

// A second connection holds the conflicting row: PostgreSQL only (PGlite has one connection).
if (testDrivers.includes('postgres')) {
  describe('createEntries in one statement, racing another writer [postgres]', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('postgres');
    });
    afterAll(async () => {
      await database?.dispose();
    });
    const ctx = () => database;

    it('an id committed by another writer after the statement began: the transaction answers the retry', async () => {
      const { db, url } = ctx();
      const { userId, metric } = await account(db);
      const id = randomUUID();
      const other = postgres(url!, { max: 2, onnotice: () => {} });
      try {
        const holder = await other.reserve();
        await holder`begin`;
        await holder`insert into entries (id, user_id, metric_id, value, numeric_value, date)
        values (${id}, ${userId}, ${metric.id}, '3'::jsonb, 3, '2026-06-01')`;
        const seq = await latestSeq(db, userId);
        const create = createEntries(
          db,
          userId,
          { entries: [{ id, metricId: metric.id, value: 3, date: '2026-06-01' }] },
          { timezone: UTC },
        );
        // The statement waits on the uncommitted row's unique key, then meets a unique violation.
        for (let i = 0; i < 2_000; i++) {
          const [row] = await other`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
          if ((row?.n as number) >= 1) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await holder`commit`;
        holder.release();
        const [entry] = await create;
        expect(entry).toMatchObject({ id, value: 3, date: '2026-06-01' });
        expect(await latestSeq(db, userId)).toBe(seq);
        expect(await entriesOf(db, userId)).toHaveLength(1);
      } finally {
        await other.end();
      }
    });
  });
}
