import {
  CSV_COLUMNS,
  categories,
  type DocumentEntry,
  type DocumentMetric,
  EXPORT_FORMAT_VERSION,
  type ImportProblem,
  type ImportReport,
  metricTypes,
} from '@lifexp/contracts';
import { parse } from 'csv-parse/sync';
import type { Db } from './client';
import { derivedId, type ImportOptions, importDocument, importRefusal, splitTags } from './data';
import { DomainError } from './errors';

type Row = Record<(typeof CSV_COLUMNS)[number], string>;

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Undoes the export's formula neutralization: a leading quote was ours (see csvCell). */
function unescapeText(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/**
 * Imports the CSV shape of the export (date, time, metric, category, type, value, unit, notes, tags):
 * metrics are found by name and type or created, entries get ids derived from their content (so a
 * re-import skips them), and the whole file goes through the same checks and the same atomic import
 * as a JSON document. Problems name the row and column.
 */
export async function importCsv(
  db: Db,
  userId: string,
  text: string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  let rows: Row[];
  try {
    rows = parse(text, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
    }) as Row[];
  } catch (error) {
    throw new DomainError('BAD_REQUEST', `the CSV cannot be read: ${(error as Error).message}`, {
      problems: [{ path: '(file)', message: (error as Error).message }],
    });
  }
  const header =
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/, 1)[0]
      ?.split(',') ?? [];
  const missing = CSV_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new DomainError('BAD_REQUEST', `the CSV lacks the column(s) ${missing.join(', ')}`, {
      problems: missing.map((column) => ({ path: `header.${column}`, message: 'missing column' })),
    });
  }
  const problems: ImportProblem[] = [];
  const metrics = new Map<string, DocumentMetric>();
  const entries: DocumentEntry[] = [];
  const occurrences = new Map<string, number>();
  rows.forEach((row, index) => {
    // Row numbers as a spreadsheet shows them: the header is row 1.
    const at = (column: string) => `rows[${index + 2}].${column}`;
    const name = unescapeText(row.metric).trim();
    const type = row.type as (typeof metricTypes)[number];
    if (!name) problems.push({ path: at('metric'), message: 'must not be empty' });
    if (!metricTypes.includes(type))
      problems.push({ path: at('type'), message: `must be one of ${metricTypes.join(', ')}` });
    const category = (categories as readonly string[]).includes(row.category) ? row.category : 'custom';
    if (!name || !metricTypes.includes(type)) return;
    let value: number | boolean | string;
    if (type === 'text') value = unescapeText(row.value);
    else if (type === 'binary') {
      if (row.value !== 'true' && row.value !== 'false') {
        problems.push({ path: at('value'), message: 'must be true or false' });
        return;
      }
      value = row.value === 'true';
    } else {
      if (!NUMBER.test(row.value)) {
        problems.push({ path: at('value'), message: 'must be a number' });
        return;
      }
      value = Number(row.value);
    }
    const key = `${name.toLowerCase()}\u0000${type}`;
    let metric = metrics.get(key);
    if (!metric) {
      const unit = unescapeText(row.unit).trim();
      metric = {
        id: derivedId(userId, `csv-metric:${key}`),
        name,
        type,
        category: category as DocumentMetric['category'],
        config: type === 'number' && unit ? { unit } : {},
        isActive: true,
      };
      metrics.set(key, metric);
    }
    const tags = row.tags ? splitTags(unescapeText(row.tags)).filter((tag) => tag.trim() !== '') : [];
    const notes = row.notes ? unescapeText(row.notes) : null;
    const content = JSON.stringify([row.date, row.time, key, value, notes, tags]);
    const seen = occurrences.get(content) ?? 0;
    occurrences.set(content, seen + 1);
    entries.push({
      id: derivedId(userId, `csv-entry:${content}:${seen}`),
      metricId: metric.id,
      value,
      date: row.date,
      time: row.time || null,
      notes,
      tags,
    } as DocumentEntry);
  });
  if (problems.length > 0) throw importRefusal(problems, 'the CSV');
  const document = {
    format: 'lifexp',
    version: EXPORT_FORMAT_VERSION,
    metrics: [...metrics.values()],
    entries,
  };
  try {
    return await importDocument(db, userId, document, options);
  } catch (error) {
    // Paths of the generated document (entries[i]) are translated back to CSV rows (row i + 2).
    if (error instanceof DomainError && Array.isArray(error.details?.problems)) {
      const translated = (error.details.problems as ImportProblem[]).map((problem) => ({
        ...problem,
        path: problem.path.replace(
          /^entries\[(\d+)\]\.(\w+)/,
          (_, i: string, field: string) => `rows[${Number(i) + 2}].${field}`,
        ),
      }));
      throw new DomainError(
        error.code,
        error.message.replace(/entries\[(\d+)\]/g, (_, i: string) => `rows[${Number(i) + 2}]`),
        {
          problems: translated,
        },
      );
    }
    throw error;
  }
}
