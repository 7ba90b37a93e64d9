import { and, eq, isNull } from 'drizzle-orm';
import type { Executor, Tx } from './client';
import { type DomainError, staleVersion } from './errors';
import type { entries, metrics } from './schema';

/** The tables of user-owned, versioned, soft-deleted objects: each has id, user_id, version, deleted_at. */
type OwnedTable = typeof entries | typeof metrics;

/** One kind of owned object: its table, its name in messages, its API form and its not-found error. */
export interface OwnedKind<T extends OwnedTable, Api extends { version: number }> {
  table: T;
  name: 'entry' | 'metric';
  toApi: (row: T['$inferSelect']) => Api;
  missing: () => DomainError;
}

/**
 * The live (not deleted) row `id` of this user, or the kind's not-found error: another user's row
 * and a deleted one answer the same. `lock` holds the row for the rest of the transaction, so
 * concurrent writes to it serialize.
 */
export async function findLiveRow<T extends OwnedTable>(
  db: Executor,
  kind: OwnedKind<T, { version: number }>,
  userId: string,
  id: string,
  lock = false,
): Promise<T['$inferSelect']> {
  const { table } = kind;
  const query = db
    .select()
    .from(table as OwnedTable)
    .where(and(eq(table.id, id), eq(table.userId, userId), isNull(table.deletedAt)));
  const [row] = await (lock ? query.for('update') : query);
  if (!row) throw kind.missing();
  return row as T['$inferSelect'];
}

/**
 * Locks this user's live row for a write based on `baseVersion`: an older base is CONFLICT carrying
 * the current object.
 */
export async function lockForWrite<T extends OwnedTable>(
  tx: Tx,
  kind: OwnedKind<T, { version: number }>,
  userId: string,
  id: string,
  baseVersion: number,
): Promise<T['$inferSelect']> {
  const row = await findLiveRow(tx, kind, userId, id, true);
  if (row.version !== baseVersion) throw staleVersion(kind.name, kind.toApi(row));
  return row;
}

/**
 * Writes new content over `userId`'s row, live again if it was deleted, and bumps its version. The
 * update is scoped by the user as well as the id: a row of another account is never written, and
 * asking to is the kind's not-found error.
 */
export async function rewriteRow<T extends OwnedTable>(
  tx: Tx,
  kind: OwnedKind<T, { version: number }>,
  userId: string,
  row: T['$inferSelect'],
  content: Partial<T['$inferInsert']>,
): Promise<T['$inferSelect']> {
  const { table } = kind;
  const [updated] = await tx
    .update(table as OwnedTable)
    .set({ ...content, deletedAt: null, version: row.version + 1, updatedAt: new Date() })
    .where(and(eq(table.id, row.id), eq(table.userId, userId)))
    .returning();
  if (!updated) throw kind.missing();
  return updated as T['$inferSelect'];
}
