import { createHash, randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import {
  CSV_COLUMNS,
  type DocumentMetric,
  type Entry,
  EXPORT_FORMAT_VERSION,
  type ExportInput,
  exportDocument,
  type ImportCounts,
  type ImportProblem,
  type ImportReport,
  parseMetricConfig,
  type TypedMetric,
} from '@lifexp/contracts';
import { and, asc, eq, gt, gte, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import { toPublicUser } from './accounts';
import type { Change } from './changes';
import { mutate } from './changes';
import { type Db, type Executor, rowsOf, type Tx } from './client';
import { ENTRY_JSON, latestAllowedDate, liveEntryConditions, rewriteEntry, toEntry } from './entries';
import { type EntryRules, normalizeEntry, sameEntryContent } from './entryRules';
import { DomainError } from './errors';
import { listActiveInsights } from './insights';
import type { DocumentPart } from './jsonStream';
import { isUniqueViolation, liveMetricRows, rewriteMetric, sameJson, toMetric } from './metrics';
import { entries, metrics, users } from './schema';

type EntryRow = typeof entries.$inferSelect;
type MetricRow = typeof metrics.$inferSelect;

/** Above this many changed objects, an import sends one `import` event (a resync) instead of one per object. */
export const IMPORT_EVENT_LIMIT = 1_000;
const EXPORT_BATCH = 5_000;
/** Rows per fetch of an export's server-side cursor (PostgreSQL). */
const CURSOR_BATCH = 5_000;

// ---------------------------------------------------------------------------------------------
// Export

function exportMetrics(db: Executor, userId: string, input: Pick<ExportInput, 'metricIds'>) {
  return liveMetricRows(db, userId, { includeArchived: true, ids: input.metricIds });
}

/** The user's live entries in (date, id) order, read in batches: memory stays flat however many there are. */
export function entryBatches(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
  batchSize?: number,
): AsyncGenerator<EntryRow[]>;
/** The same, each row only as the text `expression` makes of it. */
export function entryBatches(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
  batchSize: number,
  expression: SQL,
): AsyncGenerator<{ text: string; date: string; id: string }[]>;
export async function* entryBatches(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
  batchSize = EXPORT_BATCH,
  expression?: SQL,
): AsyncGenerator<(EntryRow | { text: string; date: string; id: string })[]> {
  let after: { date: string; id: string } | undefined;
  for (;;) {
    const query = expression
      ? db.select({ text: sql<string>`${expression}`, date: entries.date, id: entries.id }).from(entries)
      : db.select().from(entries);
    const rows: { date: string; id: string }[] = await query
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
    yield rows as EntryRow[];
    const last = rows.at(-1)!;
    after = { date: last.date, id: last.id };
    if (rows.length < batchSize) return;
  }
}

/** The postgres.js client under a Drizzle handle, when there is one (not in a transaction, not PGlite). */
function copyClient(db: Executor): postgres.Sql | undefined {
  const client = (db as { $client?: unknown }).$client;
  return typeof client === 'function' && typeof (client as postgres.Sql).unsafe === 'function'
    ? (client as postgres.Sql)
    : undefined;
}

/** A SQL literal of a value already checked to be a uuid or a date (COPY takes no parameters). */
function literal(value: string): string {
  if (!/^[0-9a-fA-F-]{1,36}$/.test(value)) throw new Error(`not a uuid or date: ${value}`);
  return `'${value}'`;
}

/** The WHERE clause of liveEntryConditions as literal SQL, for COPY. */
function liveEntryWhere(userId: string, input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>): string {
  const ids = input.metricIds ?? [];
  return [
    `user_id = ${literal(userId)}`,
    'deleted_at is null',
    input.from ? `date >= ${literal(input.from)}` : '',
    input.to ? `date <= ${literal(input.to)}` : '',
    input.metricIds ? (ids.length ? `metric_id in (${ids.map(literal).join(',')})` : 'false') : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

/**
 * The user's live entries in (date, id) order as rows of `columns`, through one query's server-side
 * cursor (one snapshot, one index scan, fetched batch by batch as the consumer asks: backpressure).
 */
function liveEntryCursor<T>(
  client: postgres.Sql,
  columns: string,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
): AsyncGenerator<T[]> {
  return prefetched(
    client
      .unsafe(`select ${columns} from entries where ${liveEntryWhere(userId, input)} order by date, id`)
      .cursor(CURSOR_BATCH) as AsyncIterable<T[]>,
  );
}

/** Characters of text gathered before an export yields it (the COPY path gets one message per row). */
const EXPORT_CHUNK_CHARS = 64 * 1024;

/**
 * The entries of the JSON export as comma-separated JSON text, in (date, id) order. On PostgreSQL
 * through COPY (entryJsonCopy); elsewhere (PGlite, a transaction) keyset batches of the same text.
 */
async function* entryJsonText(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
): AsyncGenerator<string> {
  const client = copyClient(db);
  if (client) {
    yield* entryJsonCopy(client, userId, input);
    return;
  }
  let first = true;
  for await (const batch of entryBatches(db, userId, input, EXPORT_BATCH, sql.raw(ENTRY_JSON))) {
    const text = batch.map((row) => row.text).join(',');
    yield first ? text : `,${text}`;
    first = false;
  }
}

/**
 * The entries' JSON text as COPY sends it: one query, one snapshot, and no row objects on this side.
 * CSV mode with a quote and a delimiter that JSON text never holds raw (the database's JSON escapes
 * every control character) writes each row's text as it is, one line per entry; the line breaks
 * become the commas between entries. The stream's backpressure pauses the connection.
 */
async function* entryJsonCopy(
  client: postgres.Sql,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
): AsyncGenerator<string> {
  const readable = await client
    .unsafe(
      `copy (select ${ENTRY_JSON} from entries where ${liveEntryWhere(userId, input)} order by date, id) ` +
        `to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')`,
    )
    .readable();
  // A row's bytes may end inside a character: the decoder keeps the rest for the next chunk.
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  let size = 0;
  // One chunk behind, so that the last can lose its trailing comma.
  let held: string | undefined;
  for await (const chunk of readable as AsyncIterable<Buffer>) {
    const text = decoder.write(chunk);
    parts.push(text);
    size += text.length;
    if (size < EXPORT_CHUNK_CHARS) continue;
    if (held !== undefined) yield held;
    held = parts.join('').replaceAll('\n', ',');
    parts = [];
    size = 0;
  }
  parts.push(decoder.end());
  const rest = parts.join('').replaceAll('\n', ',');
  const last = held === undefined ? rest : held + rest;
  // Every line ends with a break, so the text ends with one comma (or is empty: no entries).
  if (last) yield last.slice(0, -1);
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
  yield* entryJsonText(db, userId, { ...input, metricIds: metricRows.map((m) => m.id) });
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
  // A metric's cells are the same on each of its rows: made once.
  const cells = new Map(
    metricRows.map((metric) => [
      metric.id,
      {
        metric: [csvCell(metric.name), csvCell(metric.category, false), csvCell(metric.type, false)].join(
          ',',
        ),
        unit: csvCell(unitOf(metric)),
      },
    ]),
  );
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const batch of csvEntryBatches(db, userId, {
    ...input,
    metricIds: metricRows.map((m) => m.id),
  })) {
    let chunk = '';
    for (const row of batch) {
      const metric = cells.get(row.metricId)!;
      const value = row.value as string | number | boolean;
      chunk +=
        `${csvCell(row.date, false)},${csvCell(row.time, false)},${metric.metric},` +
        `${csvCell(value, typeof value === 'string')},${metric.unit},${csvCell(row.notes)},` +
        `${row.tags.length === 0 ? '' : csvCell(joinTags(row.tags))}\r\n`;
    }
    yield chunk;
  }
}

type CsvEntry = Pick<EntryRow, 'metricId' | 'date' | 'time' | 'value' | 'notes' | 'tags'>;

/**
 * The columns of the CSV export, in (date, id) order and batches: on PostgreSQL through
 * liveEntryCursor, elsewhere (PGlite, a transaction) by entryBatches.
 */
function csvEntryBatches(
  db: Executor,
  userId: string,
  input: Pick<ExportInput, 'from' | 'to' | 'metricIds'>,
): AsyncGenerator<CsvEntry[]> {
  const client = copyClient(db);
  return client
    ? liveEntryCursor<CsvEntry>(
        client,
        'metric_id as "metricId", date, time, value, notes, tags',
        userId,
        input,
      )
    : entryBatches(db, userId, input);
}

/**
 * The batches of a cursor, the next one asked for before the current one is handed on: the database
 * makes the next batch while this process formats and sends the current one (one batch ahead, so
 * memory stays bounded).
 */
async function* prefetched<T>(batches: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = batches[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = iterator.next();
      yield current.value;
    }
  } finally {
    // Stopped early: wait for the fetch in flight, then close the cursor.
    await next.catch(() => undefined);
    await iterator.return?.();
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
/** The most entries one document may hold (the contract's bound, enforced while streaming too). */
export const MAX_IMPORT_ENTRIES = 2_000_000;
/** Entries staged per statement. */
const STAGE_BATCH = 5_000;
/** onProgress is called every this many entries. */
const PROGRESS_EVERY = 1_000;

const entrySchema = exportDocument.shape.entries.element;
const metricsSchema = exportDocument.shape.metrics;

function issuesOf(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix: readonly PropertyKey[],
): ImportProblem[] {
  return issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]) || '(document)',
    message: issue.message,
  }));
}

/** An entry checked and in its stored form, as staged: `m` is the document's metric id. */
interface StagedEntry {
  o: number;
  i: string;
  m: string;
  v: Entry['value'];
  n: number | null;
  d: string;
  t: string | null;
  x: string | null;
  g: string[];
}

/**
 * Checks a document part by part as it arrives: its shape (the contract's schema, the head whole and
 * each entry on its own), every metric's config against its type, unique metric ids and names, and
 * every entry by the same rule as a create (normalizeEntry), except that an archived metric's entries
 * are accepted: an import restores history. Shape problems are reported alone (as a whole-document
 * parse would); otherwise every problem, up to 1,000, with its JSON path. Entry ids are checked unique
 * where the entries are staged (see importParts), so memory stays flat in the document's size.
 */
class DocumentCheck {
  readonly head: Record<string, unknown> = {};
  readonly shapeProblems: ImportProblem[] = [];
  readonly ruleProblems: ImportProblem[] = [];
  readonly typed = new Map<string, TypedMetric>();
  readonly rules = new Map<string, EntryRules>();
  metrics: DocumentMetric[] | undefined;
  private metricIds = new Set<string>();
  private entriesSeen = false;
  private notAnObject: { value: unknown } | undefined;
  private tooMany = false;

  constructor(private readonly latestDate: string) {}

  get full(): boolean {
    return this.shapeProblems.length + this.ruleProblems.length >= MAX_PROBLEMS;
  }

  get ok(): boolean {
    return this.shapeProblems.length === 0 && this.ruleProblems.length === 0;
  }

  /** The problems to report: shape problems alone when there are any. */
  problems(): ImportProblem[] {
    return (this.shapeProblems.length > 0 ? this.shapeProblems : this.ruleProblems).slice(0, MAX_PROBLEMS);
  }

  member(key: string, value: unknown): void {
    if (key === NOT_AN_OBJECT) this.notAnObject = { value };
    else this.head[key] = value;
  }

  /** Reads the document's metrics (once it has them); false while they have not come yet. */
  metricsReady(): boolean {
    if (this.metrics) return true;
    if (!('metrics' in this.head)) return false;
    const parsed = metricsSchema.safeParse(this.head.metrics);
    if (!parsed.success) {
      this.shapeProblems.push(...issuesOf(parsed.error.issues, ['metrics']));
      this.metrics = [];
      return true;
    }
    this.metrics = parsed.data;
    const names = new Map<string, number>();
    parsed.data.forEach((metric, index) => {
      if (this.metricIds.has(metric.id))
        this.ruleProblems.push({ path: `metrics[${index}].id`, message: 'duplicate metric id' });
      this.metricIds.add(metric.id);
      const key = metric.name.toLowerCase();
      if (names.has(key))
        this.ruleProblems.push({
          path: `metrics[${index}].name`,
          message: `duplicate metric name (also metrics[${names.get(key)}])`,
        });
      names.set(key, index);
      const config = parseMetricConfig(metric.type, metric.config);
      if (!config.success) {
        this.ruleProblems.push(...issuesOf(config.error.issues, ['metrics', index, 'config']));
        return;
      }
      const checked = { type: metric.type, config: config.data } as TypedMetric;
      this.typed.set(metric.id, checked);
      this.rules.set(metric.id, {
        metric: { ...checked, isActive: metric.isActive },
        latestDate: this.latestDate,
        archived: 'accept',
      });
    });
    return true;
  }

  /** The document has an `entries` array (its elements come one by one). */
  entriesStart(): void {
    this.entriesSeen = true;
  }

  /** Checks one entry; returns its staged form when it (and everything before it) is sound. */
  entry(index: number, raw: unknown): StagedEntry | undefined {
    if (index >= MAX_IMPORT_ENTRIES) {
      if (!this.tooMany)
        this.shapeProblems.push({
          path: 'entries',
          message: `Too big: expected array to have <=${MAX_IMPORT_ENTRIES} items`,
        });
      this.tooMany = true;
      return undefined;
    }
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      this.shapeProblems.push(...issuesOf(parsed.error.issues, ['entries', index]));
      return undefined;
    }
    if (this.shapeProblems.length > 0) return undefined;
    const entry = parsed.data;
    const rules = this.rules.get(entry.metricId);
    if (!rules) {
      if (!this.metricIds.has(entry.metricId))
        this.ruleProblems.push({
          path: `entries[${index}].metricId`,
          message: 'no metric with this id in the document',
        });
      return undefined;
    }
    const normalized = normalizeEntry(entry, rules);
    if (!normalized.ok) {
      for (const problem of normalized.problems)
        this.ruleProblems.push({ path: `entries[${index}].${problem.field}`, message: problem.reason });
      return undefined;
    }
    if (this.ruleProblems.length > 0) return undefined;
    const c = normalized.columns;
    return {
      o: index,
      i: entry.id,
      m: entry.metricId,
      v: c.value,
      n: c.numericValue,
      d: c.date,
      t: c.time,
      x: c.notes,
      g: c.tags,
    };
  }

  /** The head's shape, checked once the whole document has been read. */
  finish(): void {
    // The entries were checked one by one; the head is checked with an empty array in their place.
    const head = this.notAnObject
      ? this.notAnObject.value
      : this.entriesSeen
        ? { ...this.head, entries: [] }
        : this.head;
    const parsed = exportDocument.safeParse(head);
    if (!parsed.success) this.shapeProblems.unshift(...issuesOf(parsed.error.issues, []));
  }
}

/** The key under which partsOf gives a document that is not an object at all. */
const NOT_AN_OBJECT = '\u0000document';

/** The parts of a document already parsed (tRPC, the CSV import, scripts), as the stream reader gives them. */
export function* partsOf(raw: unknown): Generator<DocumentPart> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    yield { kind: 'member', key: NOT_AN_OBJECT, value: raw };
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'entries' && Array.isArray(value)) {
      yield { kind: 'entriesStart', count: value.length };
      for (let index = 0; index < value.length; index++) yield { kind: 'entry', index, value: value[index] };
      yield { kind: 'entriesEnd', count: value.length };
    } else yield { kind: 'member', key, value };
  }
}

export interface ImportOptions {
  dryRun?: boolean | undefined;
  onConflict?: 'skip' | 'overwrite' | undefined;
  clientMutationId?: string | undefined;
  /** Called as entries are checked and staged (done, total); throwing from it aborts the whole import. */
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
  options: ImportOptions;
  report: ImportReport;
  changes: Change[];
}

/** The BAD_REQUEST of an import with problems: the first three in the message, up to 1,000 listed. */
export function importRefusal(problems: ImportProblem[], what = 'the document'): DomainError {
  return new DomainError(
    'BAD_REQUEST',
    `${what} has ${problems.length} problem(s): ${problems
      .slice(0, 3)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}`,
    { problems: problems.slice(0, MAX_PROBLEMS) },
  );
}

/**
 * Imports a document atomically: everything or nothing. Metrics match by id, else by name and type,
 * else are created; entries keep their ids (an id owned by another account is replaced by a stable
 * derived one, so that account is never touched and a re-import changes nothing). Identical entries
 * are skipped; different ones are skipped or overwritten per `onConflict`. A dry run does all the
 * work inside the transaction and rolls it back, so its report is exactly what an import would do.
 */
export function importDocument(
  db: Db,
  userId: string,
  raw: unknown,
  options: ImportOptions = {},
): Promise<ImportReport> {
  return importParts(db, userId, partsOf(raw), options);
}

/**
 * importDocument over a document read part by part (see documentParts): each entry is checked as it
 * comes and staged in a temporary table of the import's transaction, then the staged rows are matched
 * and written set by set. Memory stays flat in the document's size; any problem, anywhere, rolls the
 * whole transaction back.
 */
export async function importParts(
  db: Db,
  userId: string,
  parts: AsyncIterable<DocumentPart> | Iterable<DocumentPart>,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const latestDate = await latestAllowedDate(db, userId);
  const report: ImportReport = { dryRun: Boolean(options.dryRun), metrics: counts(), entries: counts() };
  try {
    await mutate(db, userId, async (tx, record) => {
      await tx.execute(sql`
        create temp table import_entries (
          ord integer not null, id uuid not null, metric_id uuid not null, value jsonb not null,
          numeric_value double precision, date date not null, time time, notes text, tags text[] not null
        ) on commit drop`);
      const check = new DocumentCheck(latestDate);
      const staged = await stageEntries(tx, check, parts, options);
      if (!check.ok) throw importRefusal(check.problems());
      const duplicates = rowsOf<{ ord: number }>(
        await tx.execute(sql`
          select ord from (
            select ord, row_number() over (partition by id order by ord) as n from import_entries
          ) d where n > 1 order by ord limit ${MAX_PROBLEMS}`),
      );
      if (duplicates.length > 0)
        throw importRefusal(
          duplicates.map((d) => ({ path: `entries[${d.ord}].id`, message: 'duplicate entry id' })),
        );
      const changes: Change[] = [];
      const run: ImportRun = { tx, userId, typed: check.typed, options, report, changes };
      const metricIds = await importMetrics(run, check.metrics ?? []);
      await importEntries(run, metricIds, staged);
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

/** Reads the parts, checking each, and stages the sound entries; returns how many were staged. */
async function stageEntries(
  tx: Tx,
  check: DocumentCheck,
  parts: AsyncIterable<DocumentPart> | Iterable<DocumentPart>,
  options: ImportOptions,
): Promise<number> {
  let batch: StagedEntry[] = [];
  let staged = 0;
  let total: number | undefined;
  // Entries that come before the metrics (an unusual order) wait for them.
  const waiting: { index: number; value: unknown }[] = [];
  // One batch is written while the next is read and checked: the database and this process work at
  // the same time, with at most two batches held.
  let writing: Promise<unknown> | undefined;
  const flush = async () => {
    await writing;
    writing = undefined;
    if (batch.length === 0) return;
    const rows = JSON.stringify(batch);
    batch = [];
    // A real promise (a Drizzle query runs again each time it is awaited), awaited by the next
    // flush; if the import fails before then, the transaction's rollback ends it.
    writing = Promise.resolve(
      tx.execute(sql`
        insert into import_entries
        select * from json_to_recordset(${rows}::json)
          as r(o integer, i uuid, m uuid, v jsonb, n double precision, d date, t time, x text, g text[])`),
    );
    writing.catch(() => {});
  };
  const add = async (index: number, value: unknown) => {
    const row = check.entry(index, value);
    if (row) {
      batch.push(row);
      staged += 1;
      if (batch.length >= STAGE_BATCH) await flush();
    }
    if ((index + 1) % PROGRESS_EVERY === 0) options.onProgress?.(index + 1, total ?? index + 1);
  };
  let seen = 0;
  for await (const part of parts) {
    if (part.kind === 'member') {
      check.member(part.key, part.value);
      if (waiting.length > 0 && check.metricsReady())
        for (const entry of waiting.splice(0)) await add(entry.index, entry.value);
    } else if (part.kind === 'entriesStart') {
      total = part.count;
      check.entriesStart();
    } else if (part.kind === 'entry') {
      seen = part.index + 1;
      if (check.metricsReady()) await add(part.index, part.value);
      else if (part.index < MAX_IMPORT_ENTRIES) waiting.push({ index: part.index, value: part.value });
      else check.entry(part.index, part.value);
      if (check.full) break;
    }
  }
  if (!check.metricsReady()) check.member('metrics', undefined);
  check.metricsReady();
  for (const entry of waiting.splice(0)) await add(entry.index, entry.value);
  if (seen % PROGRESS_EVERY !== 0) options.onProgress?.(seen, total ?? seen);
  check.finish();
  if (check.ok) await flush();
  await writing;
  return staged;
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

/** Staged rows read per statement while matching them with existing entries. */
const MATCH_BATCH = 1_000;

/** A staged row with the columns of its entry, in the stored form normalizeEntry gives. */
interface StagedRow {
  ord: number;
  id: string;
  metric_id: string;
  value: string;
  numeric_value: number | null;
  date: string;
  time: string | null;
  notes: string | null;
  tags: string[];
}

const stagedColumns = sql.raw(
  's.ord, s.id, m.id as metric_id, s.value::text as value, s.numeric_value, s.date::text as date, ' +
    's.time::text as time, s.notes, s.tags',
);

/**
 * Writes the staged entries: ids another account holds are replaced by derived ones, existing rows of
 * this account are skipped or overwritten, and the rest are inserted in one statement.
 */
async function importEntries(run: ImportRun, metricIds: Map<string, string>, staged: number) {
  const { tx, userId, options, report, changes } = run;
  if (staged === 0) return;
  await tx.execute(
    sql`create temp table import_metrics (doc_id uuid primary key, id uuid not null) on commit drop`,
  );
  await tx.execute(sql`
    insert into import_metrics
    select * from json_to_recordset(${JSON.stringify([...metricIds].map(([doc, id]) => ({ doc, id })))}::json)
      as r(doc uuid, id uuid)`);
  await tx.execute(sql`create index on import_entries (ord)`);
  await tx.execute(sql`analyze import_entries`);

  // Only this account's rows are ever matched: an id held by another account maps to a derived one,
  // and a derived id that another account holds (made on purpose or not) to the next.
  for (let after = -1; ; ) {
    const taken = rowsOf<{ ord: number; id: string }>(
      await tx.execute(sql`
        select s.ord, s.id from import_entries s join entries e on e.id = s.id
        where e.user_id <> ${userId} and s.ord > ${after} order by s.ord limit ${MATCH_BATCH}`),
    );
    if (taken.length === 0) break;
    after = taken.at(-1)!.ord;
    // The first derived id of each, looked up at once: further candidates are rare.
    const candidates = new Set(taken.map((row) => derivedId(userId, row.id)));
    const existing = new Map(
      (
        await tx
          .select()
          .from(entries)
          .where(inArray(entries.id, [...candidates]))
      ).map((row) => [row.id, row]),
    );
    const findEntryRow = async (id: string) =>
      candidates.has(id) ? existing.get(id) : (await tx.select().from(entries).where(eq(entries.id, id)))[0];
    const moved: { o: number; i: string }[] = [];
    for (const row of taken) {
      const { id } = await derivedFor(findEntryRow, userId, row.id, () => true, `entries[${row.ord}].id`);
      moved.push({ o: row.ord, i: id });
    }
    await tx.execute(sql`
      update import_entries s set id = r.i
      from json_to_recordset(${JSON.stringify(moved)}::json) as r(o integer, i uuid) where s.ord = r.o`);
  }

  // Rows of this account under the staged ids: identical ones are skipped, different ones skipped or
  // overwritten per onConflict (compared by sameEntryContent, the rule of a retried create).
  if (options.onConflict === 'overwrite') {
    for (let after = -1; ; ) {
      const matched = rowsOf<StagedRow>(
        await tx.execute(sql`
          select ${stagedColumns} from import_entries s
          join import_metrics m on m.doc_id = s.metric_id join entries e on e.id = s.id
          where s.ord > ${after} order by s.ord limit ${MATCH_BATCH}`),
      );
      if (matched.length === 0) break;
      after = matched.at(-1)!.ord;
      const rows = new Map(
        (
          await tx
            .select()
            .from(entries)
            .where(
              inArray(
                entries.id,
                matched.map((m) => m.id),
              ),
            )
        ).map((row) => [row.id, row]),
      );
      for (const next of matched) {
        const row = rows.get(next.id)!;
        const columns = {
          metricId: next.metric_id,
          value: JSON.parse(next.value) as EntryRow['value'] & Entry['value'],
          numericValue: next.numeric_value === null ? null : Number(next.numeric_value),
          date: next.date,
          time: next.time,
          notes: next.notes,
          tags: next.tags,
        };
        if (row.deletedAt === null && sameEntryContent(row, columns)) {
          report.entries.skipped += 1;
          continue;
        }
        const updated = await rewriteEntry(tx, userId, row, columns);
        report.entries.updated += 1;
        if (changes.length <= IMPORT_EVENT_LIMIT)
          changes.push({ entity: 'entry', entityId: row.id, op: 'upsert', data: toEntry(updated) });
      }
    }
  } else {
    const [matched] = rowsOf<{ n: number }>(
      await tx.execute(sql`select count(*)::int as n from import_entries s join entries e on e.id = s.id`),
    );
    report.entries.skipped += Number(matched?.n ?? 0);
  }

  // The rest are new: one statement inserts them all, and answers how many (and, when few enough to
  // be sent one by one, which).
  const room = IMPORT_EVENT_LIMIT + 1;
  const [inserted] = rowsOf<{ n: number; ids: string[] | string }>(
    await tx.execute(sql`
      with ins as (
        insert into entries (id, user_id, metric_id, value, numeric_value, date, time, notes, tags)
        select s.id, ${userId}, m.id, s.value, s.numeric_value, s.date, s.time, s.notes, s.tags
        from import_entries s join import_metrics m on m.doc_id = s.metric_id
        where not exists (select 1 from entries e where e.id = s.id)
        order by s.ord
        returning entries.id
      )
      select (select count(*)::int from ins) as n, array(select id::text from ins limit ${room}) as ids`),
  );
  const created = Number(inserted?.n ?? 0);
  report.entries.created += created;
  const ids = typeof inserted?.ids === 'string' ? parseUuidArray(inserted.ids) : (inserted?.ids ?? []);
  if (changes.length + ids.length <= IMPORT_EVENT_LIMIT && ids.length === created && created > 0) {
    const rows = await tx.select().from(entries).where(inArray(entries.id, ids)).orderBy(asc(entries.date));
    for (const row of rows)
      changes.push({ entity: 'entry', entityId: row.id, op: 'upsert', data: toEntry(row) });
  }
}

/** A uuid[] in PostgreSQL's text form (a driver that does not parse arrays). */
function parseUuidArray(text: string): string[] {
  return text === '{}' ? [] : text.slice(1, -1).split(',');
}
