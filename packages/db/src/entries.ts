import { randomUUID } from 'node:crypto';
import {
  type CreateEntryInput,
  checkEntryValue,
  type Entry,
  type ListEntriesInput,
  type UpdateEntryInput,
} from '@lifexp/contracts';
import { and, arrayContains, desc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import { mutate } from './changes';
import type { Db, Executor, Tx } from './client';
import { DomainError } from './errors';
import { findMetric, typedMetric } from './metrics';
import { entries, metrics, users } from './schema';

type EntryRow = typeof entries.$inferSelect;
type MetricRow = typeof metrics.$inferSelect;

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

const notFound = () => new DomainError('NOT_FOUND', 'entry not found');

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The user's local calendar date today, in their IANA time zone. */
export function localToday(timezone: string, now = new Date()): string {
  // Building a formatter is costly (it loads time-zone data): one per zone, reused.
  let format = dateFormats.get(timezone);
  if (!format) {
    // en-CA formats dates as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dateFormats.set(timezone, format);
  }
  return format.format(now);
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

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

type EntryFields = Pick<CreateEntryInput, 'value' | 'date' | 'time' | 'notes' | 'tags'>;

/** Checks one entry against its metric; returns the columns to write or the reason it is refused. */
function prepare(metric: MetricRow, fields: EntryFields, latestDate: string) {
  if (!metric.isActive) return { reason: 'the metric is archived and takes no new entries' } as const;
  const check = checkEntryValue(typedMetric(metric), fields.value);
  if (!check.ok) return { reason: check.reason } as const;
  if (fields.date > latestDate) return { reason: `the date must not be after ${latestDate}` } as const;
  return {
    columns: {
      value: fields.value,
      numericValue: check.numericValue,
      date: fields.date,
      time: fields.time ?? null,
      // An empty note is no note: stored as null, so every format round-trips it the same.
      notes: fields.notes || null,
      tags: fields.tags ?? [],
    },
  } as const;
}

function sameContent(row: EntryRow, input: CreateEntryInput): boolean {
  return (
    row.metricId === input.metricId &&
    JSON.stringify(row.value) === JSON.stringify(input.value) &&
    row.date === input.date &&
    row.time === (input.time ?? null) &&
    row.notes === (input.notes ?? null) &&
    JSON.stringify(row.tags) === JSON.stringify(input.tags ?? [])
  );
}

export async function getEntry(db: Executor, userId: string, entryId: string): Promise<Entry> {
  const [row] = await db
    .select()
    .from(entries)
    .where(and(eq(entries.id, entryId), eq(entries.userId, userId), isNull(entries.deletedAt)));
  if (!row) throw notFound();
  return toEntry(row);
}

export interface ItemProblem {
  index: number;
  reason: string;
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
  const { result } = await mutate(db, userId, async (tx, record) => {
    const metricIds = [...new Set(input.entries.map((entry) => entry.metricId))];
    const owned = await tx
      .select()
      .from(metrics)
      .where(and(eq(metrics.userId, userId), inArray(metrics.id, metricIds), isNull(metrics.deletedAt)));
    const metricById = new Map(owned.map((metric) => [metric.id, metric]));
    const latestDate = await latestAllowedDate(tx, userId, options.timezone);

    const problems: ItemProblem[] = [];
    const seenIds = new Set<string>();
    const rows = input.entries.flatMap((entry, index) => {
      const metric = metricById.get(entry.metricId);
      if (!metric) {
        problems.push({ index, reason: 'metric not found' });
        return [];
      }
      if (entry.id) {
        if (seenIds.has(entry.id)) {
          problems.push({ index, reason: 'the same id appears twice in this batch' });
          return [];
        }
        seenIds.add(entry.id);
      }
      const prepared = prepare(metric, entry, latestDate);
      if ('reason' in prepared) {
        problems.push({ index, reason: prepared.reason as string });
        return [];
      }
      // Ids are fixed here, so the answer can follow the order given.
      return [{ id: entry.id ?? randomUUID(), userId, metricId: metric.id, ...prepared.columns }];
    });
    if (problems.length > 0) throw itemsError(problems, input.entries.length);

    const inserted = await tx
      .insert(entries)
      .values(rows)
      .onConflictDoNothing({ target: entries.id })
      .returning();
    const insertedIds = new Set(inserted.map((row) => row.id));
    const replayed = await checkReplays(tx, userId, input.entries, insertedIds);
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

/** Rows that were not inserted because their id exists: identical retries are fine, the rest conflict. */
async function checkReplays(tx: Tx, userId: string, items: CreateEntryInput[], insertedIds: Set<string>) {
  const pending = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.id && !insertedIds.has(item.id));
  if (pending.length === 0) return [];
  const existing = await tx
    .select()
    .from(entries)
    .where(
      inArray(
        entries.id,
        pending.map(({ item }) => item.id!),
      ),
    );
  const byId = new Map(existing.map((row) => [row.id, row]));
  const problems: ItemProblem[] = [];
  const replayed: EntryRow[] = [];
  for (const { item, index } of pending) {
    const row = byId.get(item.id!);
    if (!row || row.userId !== userId || row.deletedAt)
      problems.push({ index, reason: 'this id is already in use' });
    else if (!sameContent(row, item))
      problems.push({ index, reason: 'a different entry with this id already exists' });
    else replayed.push(row);
  }
  if (problems.length > 0) {
    throw new DomainError('CONFLICT', describeProblems(problems, items.length), { items: problems });
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

function itemsError(problems: ItemProblem[], total: number): DomainError {
  const notFoundOnly = total === 1 && problems[0]?.reason === 'metric not found';
  if (notFoundOnly) return new DomainError('NOT_FOUND', 'metric not found');
  const archived = total === 1 && problems[0]?.reason.includes('archived');
  return new DomainError(archived ? 'CONFLICT' : 'BAD_REQUEST', describeProblems(problems, total), {
    items: problems,
  });
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

function staleVersion(row: EntryRow): DomainError {
  return new DomainError(
    'CONFLICT',
    `the entry has changed (it is at version ${row.version}); reload and retry`,
    {
      current: toEntry(row),
    },
  );
}

async function findEntryForUpdate(tx: Tx, userId: string, entryId: string): Promise<EntryRow> {
  const [row] = await tx
    .select()
    .from(entries)
    .where(and(eq(entries.id, entryId), eq(entries.userId, userId), isNull(entries.deletedAt)))
    .for('update');
  if (!row) throw notFound();
  return row;
}

export async function updateEntry(
  db: Db,
  userId: string,
  input: UpdateEntryInput,
  options: WriterOptions = {},
): Promise<Entry> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const row = await findEntryForUpdate(tx, userId, input.id);
    if (row.version !== input.baseVersion) throw staleVersion(row);
    const metric = await findMetric(tx, userId, row.metricId);
    const fields: EntryFields = {
      value: input.value ?? (row.value as EntryFields['value']),
      date: input.date ?? row.date,
      time: input.time === undefined ? (row.time ?? undefined) : (input.time ?? undefined),
      notes: input.notes === undefined ? (row.notes ?? undefined) : (input.notes ?? undefined),
      tags: input.tags ?? row.tags,
    };
    // Editing an entry of an archived metric is allowed: archiving stops new entries only.
    const prepared = prepare(
      { ...metric, isActive: true },
      fields,
      await latestAllowedDate(tx, userId, options.timezone),
    );
    if ('reason' in prepared) throw new DomainError('BAD_REQUEST', prepared.reason as string);
    const [updated] = await tx
      .update(entries)
      .set({ ...prepared.columns, version: row.version + 1, updatedAt: new Date() })
      .where(eq(entries.id, row.id))
      .returning();
    const entry = toEntry(updated!);
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

export async function deleteEntry(
  db: Db,
  userId: string,
  input: { id: string; baseVersion: number; clientMutationId?: string | undefined },
): Promise<{ id: string }> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const row = await findEntryForUpdate(tx, userId, input.id);
    if (row.version !== input.baseVersion) throw staleVersion(row);
    const now = new Date();
    await tx
      .update(entries)
      .set({ deletedAt: now, updatedAt: now, version: row.version + 1 })
      .where(eq(entries.id, row.id));
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

function encodeCursor(row: EntryRow): string {
  return Buffer.from(JSON.stringify([row.date, row.time ?? '00:00:00', row.id])).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const [date, time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof date === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(date) &&
      typeof time === 'string' &&
      /^\d{2}:\d{2}:\d{2}$/.test(time) &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/i.test(id)
    ) {
      return { date, time, id };
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
  const rows = await listEntriesQuery(db, userId, input);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map(toEntry),
    nextCursor: rows.length > input.limit && last ? encodeCursor(last) : null,
  };
}

/** The user's live entries, optionally within dates and metrics: shared by listing and export. */
export function liveEntryConditions(
  userId: string,
  input: { from?: string | undefined; to?: string | undefined; metricIds?: string[] | undefined },
) {
  return [
    eq(entries.userId, userId),
    isNull(entries.deletedAt),
    input.from ? gte(entries.date, input.from) : undefined,
    input.to ? lte(entries.date, input.to) : undefined,
    input.metricIds ? inArray(entries.metricId, input.metricIds) : undefined,
  ];
}

/** The query behind listEntries (one row more than the page, to know whether another follows). */
export function listEntriesQuery(db: Executor, userId: string, input: ListEntriesInput) {
  const timeKey = sql`coalesce(${entries.time}, '00:00:00'::time)`;
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  return db
    .select()
    .from(entries)
    .where(
      and(
        ...liveEntryConditions(userId, {
          ...input,
          metricIds: input.metricId ? [input.metricId] : undefined,
        }),
        input.tag ? arrayContains(entries.tags, [input.tag]) : undefined,
        cursor
          ? sql`(${entries.date}, ${timeKey}, ${entries.id}) < (${cursor.date}::date, ${cursor.time}::time, ${cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(entries.date), desc(timeKey), desc(entries.id))
    .limit(input.limit + 1);
}
