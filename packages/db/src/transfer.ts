import type { ExportInput, ImportReport } from '@lifexp/contracts';
import type { Db, Executor } from './client';
import { importCsv } from './csv';
import { exportCsv, exportJson, type ImportOptions, importDocument } from './data';
import { DomainError } from './errors';

// Export and import as files: the one place that picks between the JSON and CSV forms, for every
// caller (the HTTP routes, tRPC, the command line).

export type TransferFormat = ExportInput['format'];

export interface ExportStream {
  contentType: string;
  filename: string;
  /** The document, chunk by chunk, read from the database batch by batch. */
  chunks: AsyncGenerator<string>;
}

/** The user's export in the asked format, streamed. */
export function exportStream(
  db: Executor,
  userId: string,
  input: ExportInput,
  now = new Date(),
): ExportStream {
  const csv = input.format === 'csv';
  return {
    contentType: csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    filename: `lifexp-export-${now.toISOString().slice(0, 10)}.${input.format}`,
    chunks: csv ? exportCsv(db, userId, input) : exportJson(db, userId, input),
  };
}

/** Imports a file's text: a JSON export document or a CSV file. Invalid JSON is a BAD_REQUEST. */
export async function importText(
  db: Db,
  userId: string,
  text: string,
  format: TransferFormat,
  options: ImportOptions = {},
): Promise<ImportReport> {
  if (format === 'csv') return importCsv(db, userId, text, options);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = `not valid JSON: ${(error as Error).message}`;
    throw new DomainError('BAD_REQUEST', `the file is ${reason}`, {
      problems: [{ path: '(document)', message: reason }],
    });
  }
  return importDocument(db, userId, document, options);
}
