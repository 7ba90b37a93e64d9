import {
  checkEntryValue,
  type Entry,
  localDate,
  type MetricType,
  notes as notesSchema,
  type TypedMetric,
  tags as tagsSchema,
  timeOfDay,
} from '@lifexp/contracts';
import type { entries } from './schema';

type EntryRow = typeof entries.$inferSelect;

/**
 * The content of an entry as a writer gives it: a create, an update merged over the stored row, or an
 * imported document entry. Optional and null fields mean "none".
 */
export interface EntryFields {
  value: unknown;
  date: string;
  time?: string | null | undefined;
  notes?: string | null | undefined;
  tags?: readonly string[] | undefined;
}

/** The columns of an entry's content, in the one form every path stores. */
export interface EntryColumns {
  value: Entry['value'];
  numericValue: number | null;
  date: string;
  time: string | null;
  notes: string | null;
  tags: string[];
}

/**
 * Why an entry cannot be written. `field` is the offending field as a path under the entry (`value`,
 * `tags.0`…); `reason` is the sentence a client sees; `code` is how to answer it.
 */
export interface EntryProblem {
  code: 'BAD_REQUEST' | 'CONFLICT';
  field: string;
  reason: string;
}

export interface EntryRules {
  /** The metric the entry belongs to: its type and config judge the value; `isActive: false` is archived. */
  metric: { type: MetricType; config: unknown; isActive?: boolean };
  /** The latest date an entry may carry (see latestAllowedDate). */
  latestDate: string;
  /**
   * What an archived metric (`isActive: false`) means for this write. `refuse`: a new entry (create,
   * createMany) is CONFLICT, archiving stops new entries. `accept`: editing an existing entry (update)
   * or restoring a backup of the metric's history (import) goes ahead.
   */
  archived: 'refuse' | 'accept';
}

export type NormalizedEntry = { ok: true; columns: EntryColumns } | { ok: false; problems: EntryProblem[] };

export const ARCHIVED_REASON = 'the metric is archived and takes no new entries';

/**
 * The one rule for writing an entry, used by create, createMany, update and import: checks the fields
 * against the metric and the date bound, and returns them in their stored form — the value checked
 * (and -0 as 0) with the number the analytics use, the time as `HH:MM:SS` or null, an empty note as
 * null (no note), the tags trimmed, lower-cased and de-duplicated. Or every problem found, each with
 * its own answer code.
 */
export function normalizeEntry(fields: EntryFields, rules: EntryRules): NormalizedEntry {
  if (rules.metric.isActive === false && rules.archived === 'refuse') {
    return { ok: false, problems: [{ code: 'CONFLICT', field: 'metricId', reason: ARCHIVED_REASON }] };
  }
  const problems: EntryProblem[] = [];
  const value = Object.is(fields.value, -0) ? 0 : fields.value;
  const check = checkEntryValue(rules.metric as TypedMetric, value);
  if (!check.ok) problems.push({ code: 'BAD_REQUEST', field: 'value', reason: check.reason });
  const date = parse(localDate, fields.date, 'date', problems);
  if (date !== undefined && date > rules.latestDate) {
    problems.push({
      code: 'BAD_REQUEST',
      field: 'date',
      reason: `the date must not be after ${rules.latestDate}`,
    });
  }
  const time = fields.time == null ? null : parse(timeOfDay, fields.time, 'time', problems);
  // An empty note is no note: stored as null, so every path and every format round-trips it alike.
  const notes = fields.notes ? parse(notesSchema, fields.notes, 'notes', problems) : null;
  const tags = parse(tagsSchema, fields.tags ?? [], 'tags', problems);
  if (!check.ok || problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    columns: {
      value: value as Entry['value'],
      numericValue: check.numericValue,
      date: date!,
      time: time!,
      notes: notes!,
      tags: tags!,
    },
  };
}

/** A contract schema, as far as the rule uses it. */
interface Schema<T> {
  safeParse(
    input: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/** The field parsed by its contract schema (the API's own rule), or undefined with its problem recorded. */
function parse<T>(schema: Schema<T>, input: unknown, field: string, problems: EntryProblem[]): T | undefined {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].join('.');
  problems.push({ code: 'BAD_REQUEST', field: path, reason: `${path}: ${issue.message}` });
  return undefined;
}

/**
 * Whether a stored row holds the same content as a normalized entry: the test of a retried create
 * and of an identical import. Every field is compared in its stored form; tags as a set, since their
 * order means nothing (listing filters by containment) and the first writer's order is kept.
 */
export function sameEntryContent(
  row: Pick<EntryRow, 'metricId' | 'value' | 'date' | 'time' | 'notes' | 'tags'>,
  next: { metricId: string } & EntryColumns,
): boolean {
  return (
    row.metricId === next.metricId &&
    JSON.stringify(row.value) === JSON.stringify(next.value) &&
    row.date === next.date &&
    row.time === next.time &&
    row.notes === next.notes &&
    row.tags.length === next.tags.length &&
    next.tags.every((tag) => row.tags.includes(tag))
  );
}
