import { randomUUID } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import {
  CHANGES_CHANNEL,
  type Change,
  latestSeq,
  mutate,
  pruneChangeLog,
  readChanges,
  readChangesAt,
} from '../src/changes';
import type { Db } from '../src/client';
import { changeLog, users } from '../src/schema';
import { describeEachDriver } from '../src/testing';

async function newUser(db: Db): Promise<string> {
  const id = randomUUID();
  await db.insert(users).values({ id, email: `${id}@example.test`, passwordHash: 'x' });
  return id;
}

function change(n: number): Change {
  return { entity: 'entry', entityId: randomUUID(), op: 'upsert', data: { n } };
}

async function seqsOf(db: Db, userId: string): Promise<number[]> {
  const rows = await db
    .select({ seq: changeLog.seq })
    .from(changeLog)
    .where(eq(changeLog.userId, userId))
    .orderBy(asc(changeLog.seq));
  return rows.map((row) => row.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeEachDriver('change_log sequence', (ctx) => {
  it('starts at 1 and numbers a multi-change mutation consecutively', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const first = await mutate(db, userId, async (_tx, record) => {
      record(change(1));
      return 'one';
    });
    const second = await mutate(db, userId, async (_tx, record) => {
      for (const n of [2, 3, 4]) record(change(n));
      return 'three';
    });
    expect(first).toEqual({ result: 'one', lastSeq: 1 });
    expect(second).toEqual({ result: 'three', lastSeq: 4 });
    expect(await seqsOf(db, userId)).toEqual([1, 2, 3, 4]);
    expect(await latestSeq(db, userId)).toBe(4);
    const rows = await readChanges(db, userId, 1, 10);
    expect(rows.map((row) => (row.data as { n: number }).n)).toEqual([2, 3, 4]);
  });

  it('a mutation that records nothing allocates no seq', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    expect(await mutate(db, userId, async () => 42)).toEqual({ result: 42, lastSeq: null });
    expect(await latestSeq(db, userId)).toBe(0);
  });

  it('a rolled-back mutation leaves no gap and no row', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    await mutate(db, userId, async (_tx, record) => record(change(1)));
    await expect(
      mutate(db, userId, async (tx, record) => {
        record(change(2));
        // Fails inside the transaction after the domain work, before commit.
        await tx.execute(sql`select 1 / 0`);
      }),
    ).rejects.toThrow();
    await mutate(db, userId, async (_tx, record) => record(change(3)));
    expect(await seqsOf(db, userId)).toEqual([1, 2]);
    const rows = await readChanges(db, userId, 0, 10);
    expect(rows.map((row) => (row.data as { n: number }).n)).toEqual([1, 3]);
  });

  it('concurrent mutations of one user get unique, gap-free seqs, visible only as a prefix', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const otherUser = await newUser(db);
    const writers = 40;
    let done = false;
    const snapshots: number[][] = [];
    // A reader polls while the writers run: at every instant the committed seqs must be exactly
    // 1..max, i.e. commit order equals seq order and no reader ever sees a hole.
    const reader = (async () => {
      while (!done) {
        snapshots.push(await seqsOf(db, userId));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const results = await Promise.all(
      range(1, writers).map((i) =>
        mutate(db, i % 5 === 0 ? otherUser : userId, async (tx, record) => {
          // Domain work of uneven length, so transactions overlap and finish out of start order.
          await tx.execute(sql`select pg_sleep(${(i % 7) / 1000})`);
          const count = (i % 3) + 1;
          for (let k = 0; k < count; k++) record(change(i * 10 + k));
          return count;
        }),
      ),
    );
    done = true;
    await reader;

    const mine = results.filter((_, index) => (index + 1) % 5 !== 0);
    const total = mine.reduce((sum, r) => sum + r.result, 0);
    expect(await seqsOf(db, userId)).toEqual(range(1, total));
    const otherTotal = results.filter((_, index) => (index + 1) % 5 === 0).reduce((s, r) => s + r.result, 0);
    expect(await seqsOf(db, otherUser)).toEqual(range(1, otherTotal));
    // Each mutation got a consecutive block ending at its lastSeq, and the blocks tile 1..total.
    const blocks = mine
      .map((r) => range(r.lastSeq! - r.result + 1, r.lastSeq!))
      .sort((a, b) => a[0]! - b[0]!)
      .flat();
    expect(blocks).toEqual(range(1, total));
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snapshot of snapshots) expect(snapshot).toEqual(range(1, snapshot.length));
  });

  it('notifies listeners after commit, and never for a rollback', async () => {
    const { database, db } = ctx();
    const userId = await newUser(db);
    const heard: { u: string; s: number }[] = [];
    const unlisten = await database.listen(CHANGES_CHANNEL, (payload) => {
      const poke = JSON.parse(payload) as { u: string; s: number };
      if (poke.u === userId) heard.push(poke);
    });
    try {
      await expect(
        mutate(db, userId, async (tx, record) => {
          record(change(1));
          await tx.execute(sql`select 1 / 0`);
        }),
      ).rejects.toThrow();
      await mutate(db, userId, async (_tx, record) => {
        record(change(2));
        record(change(3));
      });
      await expect.poll(() => heard, { timeout: 5_000 }).toEqual([{ u: userId, s: 2 }]);
    } finally {
      await unlisten();
    }
  });

  it('deleting a user removes their sequence and change log', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    await mutate(db, userId, async (_tx, record) => record(change(1)));
    await db.delete(users).where(eq(users.id, userId));
    expect(await seqsOf(db, userId)).toEqual([]);
    expect(await latestSeq(db, userId)).toBe(0);
  });
});

describeEachDriver('reading the position and a page at once', (ctx) => {
  it('answers the latest seq, the pruned bound and the page after a cursor, as the separate reads do', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    // A user who never wrote: position 0, no page.
    expect(await readChangesAt(db, userId, 0, 10)).toEqual({ latest: 0, prunedThrough: 0, changes: [] });
    for (let n = 1; n <= 7; n++) await mutate(db, userId, async (_tx, record) => record(change(n)));
    const other = await newUser(db);
    await mutate(db, other, async (_tx, record) => record(change(99)));

    const page = await readChangesAt(db, userId, 2, 3);
    expect(page.latest).toBe(7);
    expect(page.prunedThrough).toBe(0);
    expect(page.changes).toEqual(await readChanges(db, userId, 2, 3));
    expect(page.changes.map((row) => row.seq)).toEqual([3, 4, 5]);
    // At the end, and beyond it: the position, no rows.
    expect(await readChangesAt(db, userId, 7, 10)).toEqual({ latest: 7, prunedThrough: 0, changes: [] });
    expect(await readChangesAt(db, userId, 9, 10)).toEqual({ latest: 7, prunedThrough: 0, changes: [] });

    // Retention keeps the newest 100 per user at least; the bound is recorded and read back.
    await db.execute(sql`update change_log set created_at = now() - interval '400 days'
      where user_id = ${userId}::uuid and seq <= 4`);
    await pruneChangeLog(db, { keepDays: 365, keepEvents: 100 });
    const pruned = await readChangesAt(db, userId, 0, 10);
    expect(pruned.prunedThrough).toBe(4);
    expect(pruned.changes.map((row) => row.seq)).toEqual([5, 6, 7]);
    expect((await readChangesAt(db, other, 0, 10)).changes.map((row) => row.seq)).toEqual([1]);
  });
});
