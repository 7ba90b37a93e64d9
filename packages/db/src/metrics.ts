import {
  type CreateMetricInput,
  type DeleteInput,
  type Metric,
  type MetricType,
  parseMetricConfig,
  type TypedMetric,
  type UpdateMetricInput,
} from '@lifexp/contracts';
import { and, asc, eq, gt, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { mutate } from './changes';
import type { Db, Executor, Tx } from './client';
import { DomainError } from './errors';
import { findLiveRow, lockForWrite, type OwnedKind, rewriteRow } from './owned';
import { entries, metrics } from './schema';

type MetricRow = typeof metrics.$inferSelect;

export function toMetric(row: MetricRow): Metric {
  return {
    id: row.id,
    name: row.name,
    ...typedMetric(row),
    category: row.category as Metric['category'],
    isActive: row.isActive,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The metric's type and config as the value checks need them. */
export function typedMetric(row: Pick<MetricRow, 'type' | 'config'>): TypedMetric {
  return { type: row.type, config: row.config } as TypedMetric;
}

const metricKind: OwnedKind<typeof metrics, Metric> = {
  table: metrics,
  name: 'metric',
  toApi: toMetric,
  missing: () => new DomainError('NOT_FOUND', 'metric not found'),
};

/** A live metric of this user; another user's or a deleted one is NOT_FOUND. */
export function findMetric(db: Executor, userId: string, metricId: string): Promise<MetricRow> {
  return findLiveRow(db, metricKind, userId, metricId);
}

export async function getMetric(db: Executor, userId: string, metricId: string): Promise<Metric> {
  return toMetric(await findMetric(db, userId, metricId));
}

/** The user's live (not deleted) metrics in creation order; archived ones only on request. */
export async function liveMetricRows(
  db: Executor,
  userId: string,
  options: {
    includeArchived?: boolean | undefined;
    ids?: string[] | undefined;
    numericOnly?: boolean | undefined;
  } = {},
): Promise<MetricRow[]> {
  return db
    .select()
    .from(metrics)
    .where(
      and(
        eq(metrics.userId, userId),
        isNull(metrics.deletedAt),
        options.includeArchived ? undefined : eq(metrics.isActive, true),
        options.ids ? inArray(metrics.id, options.ids) : undefined,
        options.numericOnly ? ne(metrics.type, 'text') : undefined,
      ),
    )
    .orderBy(asc(metrics.createdAt), asc(metrics.id));
}

export async function listMetrics(db: Executor, userId: string, input: { includeArchived: boolean }) {
  return (await liveMetricRows(db, userId, input)).map(toMetric);
}

function sameMetricContent(row: MetricRow, input: CreateMetricInput): boolean {
  return (
    row.name === input.name &&
    row.type === input.type &&
    row.category === input.category &&
    sameJson(row.config, input.config)
  );
}

/**
 * Whether two JSON values mean the same: object keys in any order (jsonb stores them in its own order),
 * arrays in theirs. How configs are compared, never as stored text.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** PostgreSQL's unique_violation, however the driver wraps it. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (
    let cause = error as
      | { code?: string; constraint_name?: string; constraint?: string; cause?: unknown }
      | undefined;
    cause;
    cause = cause.cause as typeof cause
  ) {
    if (cause.code === '23505') {
      return !constraint || cause.constraint_name === constraint || cause.constraint === constraint;
    }
  }
  return false;
}

export interface MetricLimits {
  /** Active (not archived, not deleted) metrics an account may have; more is BAD_REQUEST. */
  maxActive?: number | undefined;
}

/** Refuses when the user's active metrics, plus `adding` about to become active, exceed the limit. */
async function checkActiveLimit(tx: Executor, userId: string, maxActive: number | undefined, adding: number) {
  if (maxActive === undefined) return;
  const [counted] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(metrics)
    .where(and(eq(metrics.userId, userId), isNull(metrics.deletedAt), eq(metrics.isActive, true)));
  const active = Number(counted?.count ?? 0) + adding;
  if (active > maxActive) {
    throw new DomainError(
      'BAD_REQUEST',
      `an account may have at most ${maxActive} active metrics; archive or delete one first`,
      { limit: maxActive },
    );
  }
}

const duplicateName = (name: string) =>
  new DomainError('CONFLICT', `a metric named "${name}" already exists`);

/**
 * Creates a metric. With a client-supplied id that this user already has, the same content returns
 * the existing metric (a retried write) and different content is CONFLICT.
 */
export async function createMetric(
  db: Db,
  userId: string,
  input: CreateMetricInput,
  limits: MetricLimits = {},
): Promise<Metric> {
  try {
    const { result } = await mutate(db, userId, async (tx, record) => {
      const [row] = await tx
        .insert(metrics)
        .values({
          ...(input.id ? { id: input.id } : {}),
          userId,
          name: input.name,
          type: input.type,
          category: input.category,
          config: input.config,
        })
        .onConflictDoNothing({ target: metrics.id })
        .returning();
      if (!row) return { replay: await existingForReplay(tx, userId, input) };
      // Counted after the insert, inside the user's serialized write: concurrent creates cannot pass
      // the limit together, and a retried create of an existing metric is never refused.
      await checkActiveLimit(tx, userId, limits.maxActive, 0);
      record({
        entity: 'metric',
        entityId: row.id,
        op: 'upsert',
        data: toMetric(row),
        clientMutationId: input.clientMutationId,
      });
      return { created: toMetric(row) };
    });
    return result.created ?? result.replay!;
  } catch (error) {
    if (isUniqueViolation(error, 'metrics_user_name_live_idx')) throw duplicateName(input.name);
    throw error;
  }
}

async function existingForReplay(tx: Tx, userId: string, input: CreateMetricInput): Promise<Metric> {
  const [existing] = await tx.select().from(metrics).where(eq(metrics.id, input.id!));
  // Another user's id, or one since deleted: the same answer, revealing nothing.
  if (!existing || existing.userId !== userId || existing.deletedAt) {
    throw new DomainError('CONFLICT', 'this id is already in use');
  }
  if (!sameMetricContent(existing, input)) {
    throw new DomainError('CONFLICT', 'a different metric with this id already exists', {
      current: toMetric(existing),
    });
  }
  return toMetric(existing);
}

/** Writes new content over a metric and bumps its version. */
export function rewriteMetric(
  tx: Tx,
  userId: string,
  row: MetricRow,
  content: Pick<MetricRow, 'name' | 'type' | 'category' | 'config' | 'isActive'>,
): Promise<MetricRow> {
  return rewriteRow(tx, metricKind, userId, row, content);
}

async function countLiveEntries(
  tx: Tx,
  userId: string,
  metricId: string,
  outside?: ReturnType<typeof sql>,
): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(entries)
    .where(
      and(eq(entries.userId, userId), eq(entries.metricId, metricId), isNull(entries.deletedAt), outside),
    );
  return row?.n ?? 0;
}

/** Entries that a narrowed config would make invalid, or 0. */
async function entriesOutside(
  tx: Tx,
  userId: string,
  metricId: string,
  type: MetricType,
  config: TypedMetric['config'],
) {
  if (type === 'rating' || type === 'number') {
    const { min, max } = config as { min?: number; max?: number };
    const conditions = [
      min === undefined ? undefined : lt(entries.numericValue, min),
      max === undefined ? undefined : gt(entries.numericValue, max),
    ].filter(Boolean);
    if (conditions.length === 0) return 0;
    return countLiveEntries(tx, userId, metricId, sql`(${or(...conditions)})`);
  }
  if (type === 'text') {
    const { maxLength } = config as { maxLength: number };
    return countLiveEntries(tx, userId, metricId, sql`length(${entries.value} #>> '{}') > ${maxLength}`);
  }
  return 0;
}

export async function updateMetric(
  db: Db,
  userId: string,
  input: UpdateMetricInput,
  limits: MetricLimits = {},
): Promise<Metric> {
  try {
    const { result } = await mutate(db, userId, async (tx, record) => {
      const row = await lockForWrite(tx, metricKind, userId, input.id, input.baseVersion);
      // Restoring an archived metric makes it active again: it counts against the limit.
      if (input.isActive === true && !row.isActive) await checkActiveLimit(tx, userId, limits.maxActive, 1);
      const type = input.type ?? row.type;
      if (type !== row.type && (await countLiveEntries(tx, userId, row.id)) > 0) {
        throw new DomainError('CONFLICT', `the type cannot change while the metric has entries`);
      }
      const rawConfig = input.config ?? (type === row.type ? row.config : {});
      const parsed = parseMetricConfig(type, rawConfig);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `config.${issue.path.join('.')}: ${issue.message}`);
        throw new DomainError('BAD_REQUEST', issues.join('; '), { issues });
      }
      const affected = await entriesOutside(tx, userId, row.id, type, parsed.data);
      if (affected > 0) {
        throw new DomainError(
          'CONFLICT',
          `${affected} ${affected === 1 ? 'entry falls' : 'entries fall'} outside the new range; change or delete them first`,
          { affectedEntries: affected },
        );
      }
      const metric = toMetric(
        await rewriteMetric(tx, userId, row, {
          name: input.name ?? row.name,
          category: input.category ?? row.category,
          isActive: input.isActive ?? row.isActive,
          type,
          config: parsed.data,
        }),
      );
      record({
        entity: 'metric',
        entityId: metric.id,
        op: 'upsert',
        data: metric,
        clientMutationId: input.clientMutationId,
      });
      return metric;
    });
    return result;
  } catch (error) {
    if (isUniqueViolation(error, 'metrics_user_name_live_idx')) throw duplicateName(input.name ?? '');
    throw error;
  }
}

/**
 * Deletes a metric and its entries: a soft delete, so that sync can tell other devices (one event per
 * object); a maintenance job purges the rows later.
 */
export async function deleteMetric(
  db: Db,
  userId: string,
  input: DeleteInput,
): Promise<{ id: string; deletedEntries: number }> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const row = await lockForWrite(tx, metricKind, userId, input.id, input.baseVersion);
    const now = new Date();
    const deletedEntries = await tx
      .update(entries)
      .set({ deletedAt: now, updatedAt: now, version: sql`${entries.version} + 1` })
      .where(and(eq(entries.userId, userId), eq(entries.metricId, row.id), isNull(entries.deletedAt)))
      .returning({ id: entries.id });
    await tx
      .update(metrics)
      .set({ deletedAt: now, updatedAt: now, version: row.version + 1 })
      .where(and(eq(metrics.id, row.id), eq(metrics.userId, userId)));
    const clientMutationId = input.clientMutationId;
    for (const entry of deletedEntries)
      record({ entity: 'entry', entityId: entry.id, op: 'delete', clientMutationId });
    record({ entity: 'metric', entityId: row.id, op: 'delete', clientMutationId });
    return { id: row.id, deletedEntries: deletedEntries.length };
  });
  return result;
}

/** Removes rows soft-deleted before `before` for good (their delete events stay in change_log). */
export async function purgeDeleted(
  db: Executor,
  before: Date,
): Promise<{ metrics: number; entries: number }> {
  const purgedEntries = await db
    .delete(entries)
    .where(lt(entries.deletedAt, before))
    .returning({ id: entries.id });
  const purgedMetrics = await db
    .delete(metrics)
    .where(lt(metrics.deletedAt, before))
    .returning({ id: metrics.id });
  return { metrics: purgedMetrics.length, entries: purgedEntries.length };
}
