import type { ChangeEvent } from '@lifexp/contracts';
import { and, asc, eq, gt, lte, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from './client';
import { fixedStatement, rowsOf } from './client';
import { changeLog, syncState } from './schema';

/** The NOTIFY channel that carries `{"u": userId, "s": seq}` after a user's change commits. */
export const CHANGES_CHANNEL = 'lifexp_changes';
/** The NOTIFY channel that carries a user id whose sessions were ended (logout, password change, deletion). */
export const SESSIONS_CHANNEL = 'lifexp_sessions';

export interface Change {
  entity: string;
  entityId: string;
  op: 'upsert' | 'delete';
  /** The whole object for an upsert; omitted for a delete. */
  data?: unknown;
  /** The client-supplied id of the write that caused the change. */
  clientMutationId?: string | null | undefined;
}

export interface MutationResult<T> {
  result: T;
  /** The seq of the last change written, or null when the work recorded none. */
  lastSeq: number | null;
}

/**
 * Runs `work` in one transaction and appends the changes it records to the user's change_log.
 *
 * The seqs are allocated last, just before commit, by incrementing the user's sync_state row: that
 * row lock serializes concurrent writers of one user for the shortest possible time, so seqs are
 * unique, gap-free (a rollback undoes its increment) and committed in seq order, which is what lets
 * a reader treat "everything up to max(seq)" as complete. The NOTIFY is queued inside the
 * transaction, so PostgreSQL delivers it only if and when the transaction commits.
 */
export async function mutate<T>(
  db: Db,
  userId: string,
  work: (tx: Tx, record: (change: Change) => void) => Promise<T>,
): Promise<MutationResult<T>> {
  return db.transaction(async (tx) => {
    const changes: Change[] = [];
    const result = await work(tx, (change) => {
      changes.push(change);
    });
    if (changes.length === 0) return { result, lastSeq: null };
    const lastSeq = await appendChanges(tx, userId, changes);
    return { result, lastSeq };
  });
}

/**
 * Allocates `changes.length` consecutive seqs, writes the change_log rows and queues the NOTIFY, in one
 * statement (one round trip): the sync_state row lock it takes is then held only for this statement and
 * the COMMIT, which is what bounds how fast one user's writes can follow each other. Call inside a
 * transaction.
 */
export async function appendChanges(tx: Tx, userId: string, changes: readonly Change[]): Promise<number> {
  const [state] = rowsOf<{ seq: string }>(await appendStatement(tx, appendValues(userId, changes)));
  if (!state) throw new Error('sequence allocation returned no row');
  return Number(state.seq);
}

/** The values of appendChangesSql's placeholders (`userId`, `count`, `changes`) for these changes. */
export function appendValues(userId: string, changes: readonly Change[]) {
  return {
    userId,
    count: changes.length,
    changes: JSON.stringify(
      changes.map((change) => ({
        entity: change.entity,
        entityId: change.entityId,
        op: change.op,
        data: change.op === 'delete' ? null : (change.data ?? null),
        clientMutationId: change.clientMutationId ?? null,
      })),
    ),
  };
}

/**
 * The statement behind appendChanges, with placeholders for appendValues, for callers that fold their
 * own write into it (see createEntries): `before` adds common table expressions that run first, and
 * `onlyIf` is a condition on them without which no seq is allocated, nothing is logged and nothing is
 * notified — the statement then answers no row. It answers one row, `seq` (text), otherwise.
 */
export function appendChangesSql(fold: { before: SQL; onlyIf: SQL } | undefined = undefined): SQL {
  const value = sql.placeholder;
  return sql`
    with ${fold ? sql`${fold.before},` : sql``} allocated as (
      insert into ${syncState} (user_id, seq)
      select ${value('userId')}::uuid, ${value('count')} ${fold ? sql`where ${fold.onlyIf}` : sql``}
      on conflict (user_id) do update set seq = ${syncState.seq} + ${value('count')}
      returning seq
    ), logged as (
      insert into ${changeLog} (user_id, seq, entity, entity_id, op, data, client_mutation_id)
      select ${value('userId')}::uuid, allocated.seq - ${value('count')} + change.ord, change.item->>'entity',
        change.item->>'entityId', change.item->>'op', nullif(change.item->'data', 'null'::jsonb),
        change.item->>'clientMutationId'
      from allocated, jsonb_array_elements(${value('changes')}::jsonb) with ordinality as change(item, ord)
    )
    select seq::text as seq,
      pg_notify(${CHANGES_CHANNEL}, json_build_object('u', ${value('userId')}::text, 's', seq)::text)
    from allocated`;
}

const appendStatement = fixedStatement(() => appendChangesSql());

export async function latestSeq(db: Executor, userId: string): Promise<number> {
  const [state] = await db.select({ seq: syncState.seq }).from(syncState).where(eq(syncState.userId, userId));
  return state?.seq ?? 0;
}

/** The user's changes after `afterSeq`, in seq order. */
export async function readChanges(db: Executor, userId: string, afterSeq: number, limit: number) {
  return db
    .select()
    .from(changeLog)
    .where(and(eq(changeLog.userId, userId), gt(changeLog.seq, afterSeq)))
    .orderBy(asc(changeLog.seq))
    .limit(limit);
}

/**
 * The user's position (latest seq, pruned-through) and the changes after `afterSeq`, in one query and
 * one snapshot: every seq up to `latest` was committed when it was read, so a missing row can only
 * have been pruned.
 */
export async function readChangesAt(db: Executor, userId: string, afterSeq: number, limit: number) {
  // The page is a lateral subquery with its own order and limit, so the (user_id, seq) index is read
  // from the cursor for `limit` rows only, however far behind the cursor is.
  const page = db
    .select()
    .from(changeLog)
    .where(and(eq(changeLog.userId, userId), gt(changeLog.seq, afterSeq)))
    .orderBy(asc(changeLog.seq))
    .limit(limit)
    .as('page');
  const rows = await db
    .select({
      latest: syncState.seq,
      prunedThrough: syncState.prunedThrough,
      change: {
        userId: page.userId,
        seq: page.seq,
        entity: page.entity,
        entityId: page.entityId,
        op: page.op,
        data: page.data,
        clientMutationId: page.clientMutationId,
        createdAt: page.createdAt,
      },
    })
    .from(syncState)
    .leftJoinLateral(page, sql`true`)
    .where(eq(syncState.userId, userId))
    .orderBy(asc(page.seq));
  const first = rows[0];
  return {
    latest: first?.latest ?? 0,
    prunedThrough: first?.prunedThrough ?? 0,
    changes: rows.flatMap((row) => (row.change?.seq == null ? [] : [row.change])),
  };
}

export function toChangeEvent(row: typeof changeLog.$inferSelect): ChangeEvent {
  return {
    kind: 'change',
    seq: row.seq,
    entity: row.entity,
    op: row.op,
    id: row.entityId,
    data: row.data ?? null,
    clientMutationId: row.clientMutationId,
    at: row.createdAt.toISOString(),
  };
}

/** Where a user's log stands: the latest seq, and the highest seq that retention has removed. */
export async function syncPosition(
  db: Executor,
  userId: string,
): Promise<{ latest: number; prunedThrough: number }> {
  const [state] = await db
    .select({ latest: syncState.seq, prunedThrough: syncState.prunedThrough })
    .from(syncState)
    .where(eq(syncState.userId, userId));
  return state ?? { latest: 0, prunedThrough: 0 };
}

/**
 * Retention of change_log: removes events older than `keepDays` and all but the newest `keepEvents`
 * of each user. What goes is always a prefix of each user's log (every seq up to a bound), recorded
 * in sync_state.pruned_through so that a cursor below it gets a resync instead of a silent gap.
 */
export async function pruneChangeLog(
  db: Db,
  options: { keepDays: number; keepEvents: number },
  now = new Date(),
): Promise<number> {
  const cutoff = new Date(now.getTime() - options.keepDays * 86_400_000).toISOString();
  return db.transaction(async (tx) => {
    const bounds = await tx.execute(sql`
      select s.user_id as "userId", greatest(
        coalesce((select max(c.seq) from change_log c where c.user_id = s.user_id and c.created_at < ${cutoff}::timestamptz), 0),
        s.seq - ${options.keepEvents}
      ) as bound
      from sync_state s
      where exists (select 1 from change_log c where c.user_id = s.user_id)`);
    let removed = 0;
    for (const row of rowsOf<{ userId: string; bound: number | string }>(bounds)) {
      const { userId } = row;
      const bound = Number(row.bound);
      if (bound <= 0) continue;
      const deleted = await tx
        .delete(changeLog)
        .where(and(eq(changeLog.userId, userId), lte(changeLog.seq, bound)))
        .returning({ seq: changeLog.seq });
      removed += deleted.length;
      await tx
        .update(syncState)
        .set({ prunedThrough: sql`greatest(${syncState.prunedThrough}, ${bound})` })
        .where(eq(syncState.userId, userId));
    }
    return removed;
  });
}

/** Tells every server instance that some of the user's sessions ended, so their live connections are re-checked. */
export async function notifySessionsChanged(db: Executor, userId: string): Promise<void> {
  await db.execute(sql`select pg_notify(${SESSIONS_CHANNEL}, ${userId})`);
}
