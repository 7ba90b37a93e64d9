import { createHash, randomUUID } from 'node:crypto';
import {
  CSV_COLUMNS,
  type DocumentEntry,
  type DocumentMetric,
  EXPORT_FORMAT_VERSION,
  type ExportDocument,
  type ExportInput,
  exportDocument,
  type ImportCounts,
  type ImportProblem,
  type ImportReport,
  parseMetricConfig,
  type TypedMetric,
} from '@lifexp/contracts';
import { and, asc, eq, gt, gte, inArray, isNull, or } from 'drizzle-orm';
import { toPublicUser } from './accounts';
import type { Change } from './changes';
import { mutate } from './changes';
import type { Db, Executor, Tx } from './client';
import { latestAllowedDate, liveEntryConditions, rewriteEntry, toEntry } from './entries';
import { type EntryRules, normalizeEntry, sameEntryContent } from './entryRules';
import { DomainError } from './errors';
import { listActiveInsights } from './insights';
import { isUniqueViolation, liveMetricRows, rewriteMetric, sameJson, toMetric } from './metrics';
import { entries, metrics, users } from './schema';

type EntryRow = typeof entries.$inferSelect;
type MetricRow = typeof metrics.$inferSelect;

/** Above this many changed objects, an import sends one `import` event (a resync) instead of one per object. */
export const IMPORT_EVENT_LIMIT = 1_000;
const EXPORT_BATCH = 5_000;
const WRITE_BATCH = 1_000;

// ---------------------------------------------------------------------------------------------
// Export

function exportMetrics(db: Executor, userId: string, input: Pick<ExportInput, 'metricIds'>) {
  return liveMetricRows(db, userId, { includeArchived: true, ids: input.metricIds });
}

/** The user's live entries in (date, id) order, read in batches: memory stays flat however many there are. */
export async function* entryBatches(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
  batchSize = EXPORT_BATCH,
): AsyncGenerator<EntryRow[]> {
  let after: { date: string; id: string } | undefined;
  for (;;) {
    const rows = await db
      .select()
      .from(entries)
      .where(
        and(
          ...liveEntryConditions(userId, input),
          // The plain `date >=` bound lets the index start the scan at the cursor; the OR alone would
          // make every batch re-read the user's rows from the first day.
          after ? gte(entries.date, after.date) : undefined,
          after
            ? or(gt(entries.date, after.date), and(eq(entries.date, after.date), gt(entries.id, after.id)))
            : undefined,
        ),
      )
      .orderBy(asc(entries.date), asc(entries.id))
      .limit(batchSize);
    if (rows.length === 0) return;
    yield rows;
    const last = rows.at(-1)!;
    after = { date: last.date, id: last.id };
    if (rows.length < batchSize) return;
  }
}

/** The JSON export, as text chunks: a versioned document whose entries are streamed batch by batch. */
export async function* exportJson(db: Executor, userId: string, input: ExportInput): AsyncGenerator<string> {
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user) throw new DomainError('NOT_FOUND', 'account not found');
  const { id: _id, ...profile } = toPublicUser(user);
  const metricRows = await exportMetrics(db, userId, input);
  const head = {
    format: 'lifexp',
    version: EXPORT_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    user: profile,
    metrics: metricRows.map(toMetric),
  };
  const headText = JSON.stringify(head);
  yield `${headText.slice(0, -1)},"entries":[`;
  let first = true;
  for await (const batch of entryBatches(db, userId, { ...input, metricIds: metricRows.map((m) => m.id) })) {
    const text = batch.map((row) => JSON.stringify(toEntry(row))).join(',');
    yield first ? text : `,${text}`;
    first = false;
  }
  yield `],"insights":${JSON.stringify(await listActiveInsights(db, userId))}}`;
}

/**
 * A CSV cell per RFC 4180, safe in every locale: quoted when it holds a comma, a semicolon (the
 * separator where the decimal mark is a comma), a quote, CR or LF, and neutralized against formula
 * injection.
 */
export function csvCell(value: string | number | boolean | null, text = true): string {
  if (value === null) return '';
  let cell = String(value);
  // A text cell whose first non-blank character is = + - @ (spreadsheets skip leading spaces, tabs
  // and line breaks before a formula), or that starts with a tab or a line break, would run as a
  // formula: a leading quote disarms it. A cell that already starts with a quote gets one more, so
  // that stripping one quote on import restores every cell exactly.
  if (text && /^(?:['\t\r\n]|\s*[=+\-@])/.test(cell)) cell = `'${cell}`;
  return /[",;\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/**
 * The tags of one entry as one CSV cell: separated by `;`, with `\` and `;` inside a tag escaped by a
 * backslash, so that a tag containing either comes back whole (splitTags is the inverse).
 */
export function joinTags(tags: readonly string[]): string {
  return tags.map((tag) => tag.replace(/[\\;]/g, (c) => `\\${c}`)).join(';');
}

/**
 * Splits a tags cell on the `;` that are not escaped, undoing `\\` and `\;`. Any other backslash is kept
 * as it is, so cells written by hand (or before tags were escaped) read as they look.
 */
export function splitTags(cell: string): string[] {
  const tags: string[] = [];
  let current = '';
  for (let i = 0; i < cell.length; i++) {
    const c = cell[i]!;
    const next = cell[i + 1];
    if (c === '\\' && (next === '\\' || next === ';')) {
      current += next;
      i++;
    } else if (c === ';') {
      tags.push(current);
      current = '';
    } else current += c;
  }
  tags.push(current);
  return tags;
}

function unitOf(metric: MetricRow): string {
  if (metric.type === 'duration') return 's';
  if (metric.type === 'number') return String((metric.config as { unit?: string }).unit ?? '');
  return '';
}

/** The CSV export: one row per entry, a header row, UTF-8. */
export async function* exportCsv(db: Executor, userId: string, input: ExportInput): AsyncGenerator<string> {
  const metricRows = await exportMetrics(db, userId, input);
  const byId = new Map(metricRows.map((metric) => [metric.id, metric]));
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const batch of entryBatches(db, userId, { ...input, metricIds: metricRows.map((m) => m.id) })) {
    let chunk = '';
    for (const row of batch) {
      const metric = byId.get(row.metricId)!;
      const value = row.value as string | number | boolean;
      chunk += `${[
        csvCell(row.date, false),
        csvCell(row.time, false),
        csvCell(metric.name),
        csvCell(metric.category, false),
        csvCell(metric.type, false),
        csvCell(value, typeof value === 'string'),
        csvCell(unitOf(metric)),
        csvCell(row.notes),
        csvCell(joinTags(row.tags)),
      ].join(',')}\r\n`;
    }
    yield chunk;
  }
}

// ---------------------------------------------------------------------------------------------
// Import

/**
 * A stable id for `originalId` in `userId`'s account, for ids that are taken elsewhere: re-importing
 * maps the same. `attempt` > 0 gives the next candidates, for when a derived id is itself taken by
 * another account.
 */
export function derivedId(userId: string, originalId: string, attempt = 0): string {
  const source = attempt === 0 ? `${userId}:${originalId}` : `${userId}:${originalId}:${attempt}`;
  const hex = createHash('sha256').update(source).digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

const MAX_PROBLEMS = 1_000;

/**
 * Checks a whole document before anything is written: its shape, every metric's config against its
 * type, unique ids, and every entry by the same rule as a create (normalizeEntry), except that an
 * archived metric's entries are accepted: an import restores history. Returns the parsed document,
 * each metric's type and the rules its entries are written by, or every problem (up to 1,000) with
 * its JSON path.
 */
export function validateDocument(
  raw: unknown,
  latestDate: string,
):
  | { ok: true; document: ExportDocument; typed: Map<string, TypedMetric>; rules: Map<string, EntryRules> }
  | { ok: false; problems: ImportProblem[] } {
  const parsed = exportDocument.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues
        .slice(0, MAX_PROBLEMS)
        .map((issue) => ({ path: formatPath(issue.path) || '(document)', message: issue.message })),
    };
  }
  const document = parsed.data;
  const problems: ImportProblem[] = [];
  const typed = new Map<string, TypedMetric>();
  const rules = new Map<string, EntryRules>();
  const names = new Map<string, number>();
  document.metrics.forEach((metric, index) => {
    if (typed.has(metric.id)) problems.push({ path: `metrics[${index}].id`, message: 'duplicate metric id' });
    const key = metric.name.toLowerCase();
    if (names.has(key))
      problems.push({
        path: `metrics[${index}].name`,
        message: `duplicate metric name (also metrics[${names.get(key)}])`,
      });
    names.set(key, index);
    const config = parseMetricConfig(metric.type, metric.config);
    if (!config.success) {
      for (const issue of config.error.issues) {
        problems.push({
          path: formatPath(['metrics', index, 'config', ...issue.path]),
          message: issue.message,
        });
      }
      return;
    }
    const checked = { type: metric.type, config: config.data } as TypedMetric;
    typed.set(metric.id, checked);
    rules.set(metric.id, {
      metric: { ...checked, isActive: metric.isActive },
      latestDate,
      archived: 'accept',
    });
  });
  const seen = new Set<string>();
  for (let index = 0; index < document.entries.length && problems.length < MAX_PROBLEMS; index++) {
    const entry = document.entries[index]!;
    if (seen.has(entry.id)) problems.push({ path: `entries[${index}].id`, message: 'duplicate entry id' });
    seen.add(entry.id);
    const entryRules = rules.get(entry.metricId);
    if (!entryRules) {
      if (!document.metrics.some((m) => m.id === entry.metricId)) {
        problems.push({
          path: `entries[${index}].metricId`,
          message: 'no metric with this id in the document',
        });
      }
      continue;
    }
    const normalized = normalizeEntry(entry, entryRules);
    if (!normalized.ok) {
      for (const problem of normalized.problems)
        problems.push({ path: `entries[${index}].${problem.field}`, message: problem.reason });
    }
  }
  return problems.length > 0
    ? { ok: false, problems: problems.slice(0, MAX_PROBLEMS) }
    : { ok: true, document, typed, rules };
}

export interface ImportOptions {
  dryRun?: boolean | undefined;
  onConflict?: 'skip' | 'overwrite' | undefined;
  clientMutationId?: string | undefined;
  /** Called as entries are written (done, total); throwing from it aborts the whole import. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

class DryRunRollback extends Error {
  constructor(readonly report: ImportReport) {
    super('dry run');
  }
}

function counts(): ImportCounts {
  return { created: 0, updated: 0, skipped: 0 };
}

/** One import's transaction, what it knows of the document, and what it reports. */
interface ImportRun {
  tx: Tx;
  userId: string;
  typed: Map<string, TypedMetric>;
  rules: Map<string, EntryRules>;
  options: ImportOptions;
  report: ImportReport;
  changes: Change[];
}

/**
 * Imports a document atomically: everything or nothing. Metrics match by id, else by name and type,
 * else are created; entries keep their ids (an id owned by another account is replaced by a stable
 * derived one, so that account is never touched and a re-import changes nothing). Identical entries
 * are skipped; different ones are skipped or overwritten per `onConflict`. A dry run does all the
 * work inside the transaction and rolls it back, so its report is exactly what an import would do.
 */
export async function importDocument(
  db: Db,
  userId: string,
  raw: unknown,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const validated = validateDocument(raw, await latestAllowedDate(db, userId));
  if (!validated.ok) {
    throw new DomainError(
      'BAD_REQUEST',
      `the document has ${validated.problems.length} problem(s): ${validated.problems
        .slice(0, 3)
        .map((p) => `${p.path}: ${p.message}`)
        .join('; ')}`,
      {
        problems: validated.problems,
      },
    );
  }
  const { document, typed, rules } = validated;
  const report: ImportReport = { dryRun: Boolean(options.dryRun), metrics: counts(), entries: counts() };
  try {
    await mutate(db, userId, async (tx, record) => {
      const changes: Change[] = [];
      const run: ImportRun = { tx, userId, typed, rules, options, report, changes };
      const metricIds = await importMetrics(run, document.metrics);
      await importEntries(run, document.entries, metricIds);
      const clientMutationId = options.clientMutationId;
      const changed =
        report.metrics.created + report.metrics.updated + report.entries.created + report.entries.updated;
      if (changed > IMPORT_EVENT_LIMIT) {
        // Thousands of events help no device: one event tells them all to reload.
        record({
          entity: 'import',
          entityId: randomUUID(),
          op: 'upsert',
          data: { resync: true, ...report },
          clientMutationId,
        });
      } else {
        for (const change of changes) record({ ...change, clientMutationId });
      }
      if (options.dryRun) throw new DryRunRollback(report);
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.report;
    // Another writer took one of the ids this import chose meanwhile: never a 500, and nothing written.
    if (isUniqueViolation(error))
      throw new DomainError('CONFLICT', 'an id of this import was taken meanwhile; try again');
    throw error;
  }
  return report;
}

/** How many derived ids are tried for one object before the import gives up with CONFLICT. */
const DERIVED_ATTEMPTS = 8;

/**
 * The id under which `originalId`, taken by another account, lives in `userId`'s account: the first
 * derived candidate that no other account holds (`own` says whether a row found there is ours to use).
 * Deterministic, so a re-import finds the same id.
 */
async function derivedFor<R extends { id: string; userId: string }>(
  find: (id: string) => Promise<R | undefined>,
  userId: string,
  originalId: string,
  own: (row: R) => boolean,
  what: string,
): Promise<{ id: string; row: R | undefined }> {
  for (let attempt = 0; attempt < DERIVED_ATTEMPTS; attempt++) {
    const id = derivedId(userId, originalId, attempt);
    const row = await find(id);
    if (!row) return { id, row: undefined };
    if (row.userId === userId && own(row)) return { id, row };
  }
  throw new DomainError('CONFLICT', `${what}: no free id could be derived for ${originalId}`, {
    problems: [{ path: what, message: 'the id and the ids derived from it are in use' }],
  });
}

async function importMetrics(run: ImportRun, list: DocumentMetric[]): Promise<Map<string, string>> {
  const { tx, userId, typed, options, report, changes } = run;
  // Key-share locked until commit, as entry creates do: a metric deleted meanwhile is waited for and
  // then not found, so the import never leaves live entries on a deleted metric.
  const mine = await tx
    .select()
    .from(metrics)
    .where(and(eq(metrics.userId, userId), isNull(metrics.deletedAt)))
    .orderBy(metrics.id)
    .for('key share');
  const byId = new Map(mine.map((row) => [row.id, row]));
  const byName = new Map(mine.map((row) => [row.name.toLowerCase(), row]));
  const taken = list.length
    ? new Set(
        (
          await tx
            .select({ id: metrics.id })
            .from(metrics)
            .where(
              inArray(
                metrics.id,
                list.map((m) => m.id),
              ),
            )
        ).map((r) => r.id),
      )
    : new Set<string>();
  const findMetricRow = async (id: string) => (await tx.select().from(metrics).where(eq(metrics.id, id)))[0];
  const mapping = new Map<string, string>();
  for (const [index, metric] of list.entries()) {
    const config = typed.get(metric.id)!.config;
    // The document's id, or the id derived for it here when another account holds it (an earlier import).
    const derived = taken.has(metric.id) && !byId.has(metric.id) ? derivedId(userId, metric.id) : undefined;
    const byOwnId = byId.get(metric.id) ?? (derived ? byId.get(derived) : undefined);
    const existing = byOwnId ?? byName.get(metric.name.toLowerCase());
    if (existing) {
      if (existing.type !== metric.type) {
        throw new DomainError(
          'BAD_REQUEST',
          `metrics[${index}].name: a metric named "${metric.name}" of type ${existing.type} already exists`,
          {
            problems: [
              { path: `metrics[${index}].name`, message: `a metric of this name has type ${existing.type}` },
            ],
          },
        );
      }
      mapping.set(metric.id, existing.id);
      const differs =
        existing.name !== metric.name ||
        existing.category !== metric.category ||
        !sameJson(existing.config, config) ||
        existing.isActive !== metric.isActive;
      if (differs && options.onConflict === 'overwrite' && existing === byOwnId) {
        const updated = await rewriteMetric(tx, userId, existing, {
          name: metric.name,
          type: metric.type,
          category: metric.category,
          config,
          isActive: metric.isActive,
        });
        report.metrics.updated += 1;
        changes.push({ entity: 'metric', entityId: existing.id, op: 'upsert', data: toMetric(updated) });
      } else {
        report.metrics.skipped += 1;
      }
      continue;
    }
    // A new metric needs an id no row holds: a deleted metric of ours keeps its id until purged.
    const id = taken.has(metric.id)
      ? (await derivedFor(findMetricRow, userId, metric.id, () => false, `metrics[${index}].id`)).id
      : metric.id;
    const [created] = await tx
      .insert(metrics)
      .values({
        id,
        userId,
        name: metric.name,
        type: metric.type,
        category: metric.category,
        config,
        isActive: metric.isActive,
      })
      .returning();
    mapping.set(metric.id, id);
    report.metrics.created += 1;
    changes.push({ entity: 'metric', entityId: id, op: 'upsert', data: toMetric(created!) });
  }
  return mapping;
}

async function importEntries(run: ImportRun, list: DocumentEntry[], metricIds: Map<string, string>) {
  const { tx, userId, rules, options, report, changes } = run;
  for (let start = 0; start < list.length; start += WRITE_BATCH) {
    const batch = list.slice(start, start + WRITE_BATCH);
    // Existing rows under the document's ids and under the ids derived for this account.
    const candidates = batch.flatMap((entry) => [entry.id, derivedId(userId, entry.id)]);
    const existing = new Map(
      (await tx.select().from(entries).where(inArray(entries.id, candidates))).map((row) => [row.id, row]),
    );
    const findEntryRow = async (id: string) =>
      existing.has(id) ? existing.get(id) : (await tx.select().from(entries).where(eq(entries.id, id)))[0];
    const inserts: (typeof entries.$inferInsert)[] = [];
    for (const [offset, entry] of batch.entries()) {
      // The rule validateDocument already passed every entry through: the same stored form as a create.
      const normalized = normalizeEntry(entry, rules.get(entry.metricId)!);
      if (!normalized.ok) throw new DomainError('BAD_REQUEST', normalized.problems[0]!.reason);
      const columns = { metricId: metricIds.get(entry.metricId)!, ...normalized.columns };
      const original = existing.get(entry.id);
      // Only this account's rows are ever matched: an id held by another account maps to a derived
      // one, and a derived id that another account holds (made on purpose or not) to the next.
      const { id, row } =
        original && original.userId !== userId
          ? await derivedFor(findEntryRow, userId, entry.id, () => true, `entries[${start + offset}].id`)
          : { id: entry.id, row: original };
      if (!row) {
        inserts.push({ id, userId, ...columns });
        continue;
      }
      const same = row.deletedAt === null && sameEntryContent(row, columns);
      if (same || options.onConflict !== 'overwrite') {
        report.entries.skipped += 1;
        continue;
      }
      const updated = await rewriteEntry(tx, userId, row, columns);
      report.entries.updated += 1;
      changes.push({ entity: 'entry', entityId: row.id, op: 'upsert', data: toEntry(updated) });
    }
    if (inserts.length > 0) {
      const created = await tx.insert(entries).values(inserts).returning();
      report.entries.created += created.length;
      if (changes.length <= IMPORT_EVENT_LIMIT) {
        for (const row of created)
          changes.push({ entity: 'entry', entityId: row.id, op: 'upsert', data: toEntry(row) });
      } else {
        changes.length = IMPORT_EVENT_LIMIT + 1;
      }
    }
    options.onProgress?.(Math.min(start + WRITE_BATCH, list.length), list.length);
  }
}
