import { randomUUID } from 'node:crypto';
import { addDays, localToday } from '@lifexp/analytics';
import {
  type CreateEntryInput,
  type DeleteInput,
  type Entry,
  id as idSchema,
  type ListEntriesInput,
  localDate,
  storedTime,
  type UpdateEntryInput,
} from '@lifexp/contracts';
import { and, arrayContains, desc, eq, gte, inArray, isNull, lte, type Placeholder, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import { appendChangesSql, appendValues, mutate } from './changes';
import { type Db, type Executor, fixedStatement, rowsOf, type Tx } from './client';
import { type EntryColumns, type EntryProblem, normalizeEntry, sameEntryContent } from './entryRules';
import { DomainError } from './errors';
import { findMetric, isUniqueViolation } from './metrics';
import { findLiveRow, lockForWrite, type OwnedKind, rewriteRow } from './owned';
import { entries, metrics, users } from './schema';

type EntryRow = typeof entries.$inferSelect;

export function toEntry(row: EntryRow): Entry {
  return {
    id: row.id,
    metricId: row.metricId,
    value: row.value as Entry['value'],
    numericValue: row.numericValue,
    date: row.date,
    time: row.time,
    notes: row.notes,
    tags: row.tags,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * An entry as JSON text, built by the database: the fields, their order and their forms of toEntry
 * (timestamps as toISOString writes them), so the rows never pass through JavaScript objects.
 */
export const ENTRY_JSON = `'{"id":"' || id || '","metricId":"' || metric_id || '","value":' || value::text ||
  ',"numericValue":' || coalesce(numeric_value::text, 'null') || ',"date":"' || date || '","time":' ||
  coalesce('"' || time || '"', 'null') || ',"notes":' || coalesce(to_json(notes)::text, 'null') ||
  ',"tags":' || to_json(tags)::text || ',"version":' || version ||
  ',"createdAt":"' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ||
  '","updatedAt":"' || to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}'`;

const entryKind: OwnedKind<typeof entries, Entry> = {
  table: entries,
  name: 'entry',
  toApi: toEntry,
  missing: () => new DomainError('NOT_FOUND', 'entry not found'),
};

/** Who is writing: the server already knows the signed-in user's time zone; scripts may leave it out. */
export interface WriterOptions {
  timezone?: string | undefined;
}

/**
 * The latest date an entry may carry: a day ahead of the user's today (travel, time zones). The
 * time zone is read from the account only when the caller does not already know it.
 */
export async function latestAllowedDate(db: Executor, userId: string, timezone?: string): Promise<string> {
  let zone = timezone;
  if (!zone) {
    const [user] = await db.select({ timezone: users.timezone }).from(users).where(eq(users.id, userId));
    zone = user?.timezone ?? 'UTC';
  }
  return addDays(localToday(zone), 1);
}

export async function getEntry(db: Executor, userId: string, entryId: string): Promise<Entry> {
  return toEntry(await findLiveRow(db, entryKind, userId, entryId));
}

export interface ItemProblem {
  index: number;
  reason: string;
}

/** An item's problem with the code it is answered with when it is the only item. */
interface ItemFailure extends ItemProblem {
  code: EntryProblem['code'] | 'NOT_FOUND';
}

/**
 * Creates entries atomically: all or none. Every invalid item is reported by index and reason.
 * A client-supplied id that this user already has with the same content is a retried write and
 * is returned as it is; with different content it is a conflict.
 */
export async function createEntries(
  db: Db,
  userId: string,
  input: { entries: CreateEntryInput[]; clientMutationId?: string | undefined },
  options: WriterOptions = {},
): Promise<Entry[]> {
  if (options.timezone !== undefined) {
    const created = await createEntriesInOneStatement(db, userId, input, options.timezone);
    if (created) return created;
  }
  const { result } = await mutate(db, userId, async (tx, record) => {
    const metricIds = [...new Set(input.entries.map((entry) => entry.metricId))];
    // A key-share lock on each metric until commit: deleting or archiving it (which takes the row
    // FOR UPDATE) waits for this create, or this create waits for it and then sees it deleted or
    // archived. Either way no live entry is left on a deleted or archived metric.
    const owned = await tx
      .select()
      .from(metrics)
      .where(and(eq(metrics.userId, userId), inArray(metrics.id, metricIds), isNull(metrics.deletedAt)))
      .orderBy(metrics.id)
      .for('key share');
    const metricById = new Map(owned.map((metric) => [metric.id, metric]));
    const latestDate = await latestAllowedDate(tx, userId, options.timezone);

    const failures: ItemFailure[] = [];
    const seenIds = new Set<string>();
    const rows = input.entries.flatMap((entry, index) => {
      const metric = metricById.get(entry.metricId);
      if (!metric) {
        failures.push({ index, code: 'NOT_FOUND', reason: 'metric not found' });
        return [];
      }
      if (entry.id) {
        if (seenIds.has(entry.id)) {
          failures.push({ index, code: 'BAD_REQUEST', reason: 'the same id appears twice in this batch' });
          return [];
        }
        seenIds.add(entry.id);
      }
      const normalized = normalizeEntry(entry, { metric, latestDate, archived: 'refuse' });
      if (!normalized.ok) {
        const [{ code, reason }] = normalized.problems as [EntryProblem];
        failures.push({ index, code, reason });
        return [];
      }
      // Ids are fixed here, so the answer can follow the order given.
      return [{ id: entry.id ?? randomUUID(), userId, metricId: metric.id, ...normalized.columns }];
    });
    if (failures.length > 0) throw itemsError(failures, input.entries.length);

    const inserted = await tx
      .insert(entries)
      .values(rows)
      .onConflictDoNothing({ target: entries.id })
      .returning();
    const insertedIds = new Set(inserted.map((row) => row.id));
    const replayed = await checkReplays(tx, userId, rows, insertedIds);
    for (const row of inserted) {
      record({
        entity: 'entry',
        entityId: row.id,
        op: 'upsert',
        data: toEntry(row),
        clientMutationId: input.clientMutationId,
      });
    }
    const byId = new Map([...inserted, ...replayed].map((row) => [row.id, row]));
    return rows.map((row) => toEntry(byId.get(row.id)!));
  });
  return result;
}

type MetricRow = typeof metrics.$inferSelect;

/**
 * Metric rows recently read by createEntriesInOneStatement, by `${userId}:${metricId}`: a hint only.
 * The statement re-checks each one's version under its lock, so a stale row costs a retry through
 * the transaction, never a wrong write.
 */
const metricHints = new Map<string, MetricRow>();
const METRIC_HINTS = 4096;

async function metricsForWrite(db: Db, userId: string, metricIds: string[]): Promise<Map<string, MetricRow>> {
  const found = new Map<string, MetricRow>();
  const missing: string[] = [];
  for (const id of metricIds) {
    const hint = metricHints.get(`${userId}:${id}`);
    if (hint) found.set(id, hint);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const rows = await db
      .select()
      .from(metrics)
      .where(and(eq(metrics.userId, userId), inArray(metrics.id, missing), isNull(metrics.deletedAt)));
    for (const row of rows) {
      found.set(row.id, row);
      metricHints.set(`${userId}:${row.id}`, row);
      if (metricHints.size > METRIC_HINTS) metricHints.delete(metricHints.keys().next().value as string);
    }
  }
  return found;
}

/** createEntriesInOneStatement's statement: placeholders for appendValues and wanted, fresh, metricCount, rowCount. */
const createStatement = fixedStatement(() => {
  const value = sql.placeholder;
  return appendChangesSql({
    before: sql`
    wanted as (
      select ${metrics.id} from ${metrics}
      join jsonb_to_recordset(${value('wanted')}::jsonb) as w(id uuid, version integer)
        on w.id = ${metrics.id} and w.version = ${metrics.version}
      where ${metrics.userId} = ${value('userId')}::uuid and ${metrics.deletedAt} is null and ${metrics.isActive}
      for key share of ${metrics}
    ), given as (
      select * from jsonb_to_recordset(${value('fresh')}::jsonb) as r(id uuid, metric_id uuid, value jsonb,
        numeric_value double precision, date date, time time, notes text, tags text[],
        created_at timestamptz)
    ), inserted as (
      insert into ${entries} (id, user_id, metric_id, value, numeric_value, date, time, notes, tags,
        version, created_at, updated_at)
      select id, ${value('userId')}::uuid, metric_id, value, numeric_value, date, time, notes, tags, 1,
        created_at, created_at
      from given
      where (select count(*) from wanted) = ${value('metricCount')}
        and not exists (select 1 from ${entries} e join given g on g.id = e.id)
      returning id
    )`,
    onlyIf: sql`(select count(*) from inserted) = ${value('rowCount')}`,
  });
});

/**
 * The common case of createEntries in one statement, without a transaction around it: every metric
 * live, active and unchanged since it was read (checked, and key-share locked, in the statement),
 * every item valid, and no id already taken. The entries, their change_log rows, the seqs and the
 * NOTIFY are written together or not at all, as in the transaction. Anything else — an invalid
 * item, a missing or archived metric, a retried id, a metric changed meanwhile — answers null
 * before or instead of writing, and createEntries takes the transaction, which gives the answer.
 * The time zone must be known: it bounds the dates without a query.
 */
export async function createEntriesInOneStatement(
  db: Db,
  userId: string,
  input: { entries: CreateEntryInput[]; clientMutationId?: string | undefined },
  timezone: string,
): Promise<Entry[] | null> {
  const metricIds = [...new Set(input.entries.map((entry) => entry.metricId))];
  const known = await metricsForWrite(db, userId, metricIds);
  if (known.size !== metricIds.length) return null;
  const latestDate = await latestAllowedDate(db, userId, timezone);
  const now = new Date();
  const ids = new Set<string>();
  const rows: EntryRow[] = [];
  for (const entry of input.entries) {
    const metric = known.get(entry.metricId)!;
    const normalized = normalizeEntry(entry, { metric, latestDate, archived: 'refuse' });
    if (!normalized.ok) return null;
    const id = entry.id ?? randomUUID();
    if (ids.has(id)) return null;
    ids.add(id);
    rows.push({
      id,
      userId,
      metricId: metric.id,
      ...normalized.columns,
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
  }
  const created = rows.map(toEntry);
  const wanted = JSON.stringify(metricIds.map((id) => ({ id, version: known.get(id)!.version })));
  const fresh = JSON.stringify(
    rows.map((row) => ({
      id: row.id,
      metric_id: row.metricId,
      value: row.value,
      numeric_value: row.numericValue,
      date: row.date,
      time: row.time,
      notes: row.notes,
      tags: row.tags,
      created_at: now.toISOString(),
    })),
  );
  const changes = created.map((entry) => ({
    entity: 'entry',
    entityId: entry.id,
    op: 'upsert' as const,
    data: entry,
    clientMutationId: input.clientMutationId,
  }));
  try {
    const result = await createStatement(db, {
      ...appendValues(userId, changes),
      wanted,
      fresh,
      metricCount: metricIds.length,
      rowCount: rows.length,
    });
    if (rowsOf(result).length === 1) return created;
  } catch (error) {
    // The same id committed by another writer since the statement's snapshot: the transaction decides.
    if (!isUniqueViolation(error)) throw error;
  }
  for (const id of metricIds) metricHints.delete(`${userId}:${id}`);
  return null;
}

/**
 * Rows that were not inserted because their (client-supplied) id exists: a retry whose normalized
 * content is the stored one is answered with the stored row, anything else conflicts.
 */
async function checkReplays(
  tx: Tx,
  userId: string,
  rows: ({ id: string; metricId: string } & EntryColumns)[],
  insertedIds: Set<string>,
) {
  const pending = rows.map((row, index) => ({ row, index })).filter(({ row }) => !insertedIds.has(row.id));
  if (pending.length === 0) return [];
  const existing = await tx
    .select()
    .from(entries)
    .where(
      inArray(
        entries.id,
        pending.map(({ row }) => row.id),
      ),
    );
  const byId = new Map(existing.map((row) => [row.id, row]));
  const problems: ItemProblem[] = [];
  const replayed: EntryRow[] = [];
  for (const { row: sent, index } of pending) {
    const row = byId.get(sent.id);
    if (!row || row.userId !== userId || row.deletedAt)
      problems.push({ index, reason: 'this id is already in use' });
    else if (!sameEntryContent(row, sent))
      problems.push({ index, reason: 'a different entry with this id already exists' });
    else replayed.push(row);
  }
  if (problems.length > 0) {
    throw new DomainError('CONFLICT', describeProblems(problems, rows.length), { items: problems });
  }
  return replayed;
}

function describeProblems(problems: ItemProblem[], total: number): string {
  const shown = problems.slice(0, 5).map((p) => `entries[${p.index}]: ${p.reason}`);
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  return total === 1
    ? problems[0]!.reason
    : `${problems.length} of ${total} entries are invalid: ${shown.join('; ')}${more}`;
}

/**
 * The answer to a refused batch. A lone item is answered with its own code (a missing metric is
 * NOT_FOUND, an archived one CONFLICT); a batch with several items is BAD_REQUEST, listing each.
 */
function itemsError(failures: ItemFailure[], total: number): DomainError {
  const only = total === 1 ? failures[0] : undefined;
  if (only?.code === 'NOT_FOUND') return new DomainError('NOT_FOUND', only.reason);
  const items = failures.map(({ index, reason }) => ({ index, reason }));
  return new DomainError(only?.code ?? 'BAD_REQUEST', describeProblems(items, total), { items });
}

export async function createEntry(
  db: Db,
  userId: string,
  input: CreateEntryInput,
  options: WriterOptions = {},
): Promise<Entry> {
  const [entry] = await createEntries(
    db,
    userId,
    { entries: [input], clientMutationId: input.clientMutationId },
    options,
  );
  return entry!;
}

/** Writes normalized content over an entry (live again if it was deleted) and bumps its version. */
export function rewriteEntry(
  tx: Tx,
  userId: string,
  row: EntryRow,
  columns: EntryColumns & { metricId?: string },
): Promise<EntryRow> {
  return rewriteRow(tx, entryKind, userId, row, columns);
}

export async function updateEntry(
  db: Db,
  userId: string,
  input: UpdateEntryInput,
  options: WriterOptions = {},
): Promise<Entry> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const row = await lockForWrite(tx, entryKind, userId, input.id, input.baseVersion);
    const metric = await findMetric(tx, userId, row.metricId);
    const normalized = normalizeEntry(
      {
        value: input.value ?? row.value,
        date: input.date ?? row.date,
        time: input.time === undefined ? row.time : input.time,
        notes: input.notes === undefined ? row.notes : input.notes,
        tags: input.tags ?? row.tags,
      },
      // Editing an entry of an archived metric is allowed: archiving stops new entries only.
      { metric, latestDate: await latestAllowedDate(tx, userId, options.timezone), archived: 'accept' },
    );
    if (!normalized.ok) {
      const [{ code, reason }] = normalized.problems as [EntryProblem];
      throw new DomainError(code, reason);
    }
    const entry = toEntry(await rewriteEntry(tx, userId, row, normalized.columns));
    record({
      entity: 'entry',
      entityId: entry.id,
      op: 'upsert',
      data: entry,
      clientMutationId: input.clientMutationId,
    });
    return entry;
  });
  return result;
}

export async function deleteEntry(db: Db, userId: string, input: DeleteInput): Promise<{ id: string }> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const row = await lockForWrite(tx, entryKind, userId, input.id, input.baseVersion);
    const now = new Date();
    await tx
      .update(entries)
      .set({ deletedAt: now, updatedAt: now, version: row.version + 1 })
      .where(and(eq(entries.id, row.id), eq(entries.userId, userId)));
    record({ entity: 'entry', entityId: row.id, op: 'delete', clientMutationId: input.clientMutationId });
    return { id: row.id };
  });
  return result;
}

interface Cursor {
  date: string;
  time: string;
  id: string;
}

function encodeCursor(row: Pick<Entry, 'date' | 'time' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.date, row.time ?? '00:00:00', row.id])).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const [date, time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // Checked in full, as the database would read them: a cursor is client input like any other.
    if (
      localDate.safeParse(date).success &&
      storedTime.safeParse(time).success &&
      idSchema.safeParse(id).success
    ) {
      return { date, time, id } as Cursor;
    }
  } catch {
    // reported below
  }
  throw new DomainError('BAD_REQUEST', 'cursor: not a cursor this server issued');
}

/**
 * A page of entries, newest first (date, then time — an entry without a time last in its day — then
 * id), with keyset pagination: a page never repeats or skips a row, whatever is inserted meanwhile.
 */
export async function listEntries(
  db: Executor,
  userId: string,
  input: ListEntriesInput,
): Promise<{ items: Entry[]; nextCursor: string | null }> {
  const { statement, values } = listEntriesQuery(input);
  const rows = rowsOf<{ text: string }>(await statement(db, { ...values, userId }));
  const more = rows.length > input.limit;
  // Each row is the entry's JSON text as the database built it (ENTRY_JSON: toEntry's fields and
  // forms): the page is one JSON.parse, with no row mapping or Date objects on the way.
  const items = JSON.parse(
    `[${(more ? rows.slice(0, input.limit) : rows).map((row) => row.text).join(',')}]`,
  ) as Entry[];
  const last = items.at(-1);
  return { items, nextCursor: more && last ? encodeCursor(last) : null };
}

/** The user's live entries, optionally within dates and metrics: shared by listing and export. */
export function liveEntryConditions(
  userId: string | Placeholder,
  input: {
    from?: string | Placeholder | undefined;
    to?: string | Placeholder | undefined;
    metricIds?: (string | Placeholder)[] | undefined;
  },
) {
  return [
    eq(entries.userId, userId),
    isNull(entries.deletedAt),
    input.from ? gte(entries.date, input.from) : undefined,
    input.to ? lte(entries.date, input.to) : undefined,
    input.metricIds ? inArray(entries.metricId, input.metricIds) : undefined,
  ];
}

/** Which of a page's optional filters a list query has: one prepared statement per shape (at most 32). */
export interface ListShape {
  from: boolean;
  to: boolean;
  metric: boolean;
  tag: boolean;
  cursor: boolean;
}

/**
 * The list query of each shape, its text built once (fixedStatement): a call only fills in its values
 * (an entries.list at 50 rows spent about a seventh of its server time building the same query again,
 * and more mapping its rows through Drizzle's field list; the rows are one text column each).
 */
const listStatements = new Map<string, ReturnType<typeof fixedStatement>>();

/** The list query of one shape, with placeholders for listEntriesQuery's values. */
export function listEntriesSql(shape: ListShape) {
  const value = sql.placeholder;
  const timeKey = sql`coalesce(${entries.time}, '00:00:00'::time)`;
  return new QueryBuilder()
    .select({ text: sql<string>`${sql.raw(ENTRY_JSON)}`.as('text') })
    .from(entries)
    .where(
      and(
        ...liveEntryConditions(value('userId'), {
          from: shape.from ? value('from') : undefined,
          to: shape.to ? value('to') : undefined,
          metricIds: shape.metric ? [value('metricId')] : undefined,
        }),
        shape.tag ? arrayContains(entries.tags, value('tags')) : undefined,
        shape.cursor
          ? sql`(${entries.date}, ${timeKey}, ${entries.id}) < (${value('cursorDate')}::date, ${value('cursorTime')}::time, ${value('cursorId')}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(entries.date), desc(timeKey), desc(entries.id))
    .limit(value('limit'))
    .getSQL();
}

/**
 * The query behind listEntries (one row more than the page, to know whether another follows): its
 * shape, its statement and the values for its placeholders but `userId`.
 */
export function listEntriesQuery(input: ListEntriesInput) {
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  const shape: ListShape = {
    from: input.from !== undefined,
    to: input.to !== undefined,
    metric: input.metricId !== undefined,
    tag: input.tag !== undefined,
    cursor: cursor !== undefined,
  };
  const key = Object.values(shape).map(Number).join('');
  let statement = listStatements.get(key);
  if (!statement) {
    statement = fixedStatement(() => listEntriesSql(shape));
    listStatements.set(key, statement);
  }
  const values = {
    from: input.from,
    to: input.to,
    metricId: input.metricId,
    tags: typeof input.tag === 'string' ? [input.tag] : input.tag,
    cursorDate: cursor?.date,
    cursorTime: cursor?.time,
    cursorId: cursor?.id,
    limit: input.limit + 1,
  };
  return { shape, statement, values };
}
