import { text } from 'node:stream/consumers';
import type { ExportInput, ImportReport } from '@lifexp/contracts';
import type { Db, Executor } from './client';
import { importCsv } from './csv';
import { exportCsv, exportJson, type ImportOptions, importParts } from './data';
import { DomainError } from './errors';
import { documentParts, JsonSyntaxError } from './jsonStream';

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

/**
 * Imports a file read chunk by chunk (UTF-8 bytes or text). A JSON document is read and checked as it
 * streams, so memory stays flat in its size; a CSV file is read whole first (its ids are derived from
 * every row's content). Invalid JSON is a BAD_REQUEST; whatever the chunks throw (a size limit) ends
 * the import with nothing written.
 */
export async function importStream(
  db: Db,
  userId: string,
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  format: TransferFormat,
  options: ImportOptions = {},
): Promise<ImportReport> {
  if (format === 'csv')
    return importCsv(db, userId, await text(chunks as AsyncIterable<string | Uint8Array>), options);
  try {
    return await importParts(db, userId, documentParts(chunks), options);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const reason = `not valid JSON: ${error.message}`;
    throw new DomainError('BAD_REQUEST', `the file is ${reason}`, {
      problems: [{ path: '(document)', message: reason }],
    });
  }
}
