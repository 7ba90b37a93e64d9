import { createWriteStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { localToday } from '@lifexp/analytics';
import type { ExportInput, ImportReport } from '@lifexp/contracts';
import {
  email as emailSchema,
  password as passwordSchema,
  timezone as timezoneSchema,
} from '@lifexp/contracts';
import {
  createDemoDocument,
  createSession,
  type Database,
  DomainError,
  exportStream,
  findUserByEmail,
  type ImportOptions,
  importDocument,
  importStream,
  registerUser,
} from '@lifexp/db';

/** A command failed in a way the person can fix; main prints the message alone. */
export class CommandError extends Error {
  override name = 'CommandError';
}

function check<T>(
  schema: {
    safeParse(
      value: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
  },
  value: unknown,
  what: string,
): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new CommandError(`${what} ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return result.data;
}

export async function userIdFor(database: Database, email: string): Promise<string> {
  const user = await findUserByEmail(database.db, email);
  if (!user) throw new CommandError(`no account with the email ${email}`);
  return user.id;
}

/** Creates an account (checked like sign-up) and a session token for scripts. */
export async function createUser(
  database: Database,
  input: { email: string; password: string; timezone?: string | undefined },
) {
  const email = check(emailSchema, input.email, 'the email');
  const password = check(passwordSchema, input.password, 'the password');
  const timezone = input.timezone ? check(timezoneSchema, input.timezone, 'the time zone') : undefined;
  try {
    const user = await registerUser(database.db, { email, password, timezone });
    const { token } = await createSession(database.db, user.id, 'lifexp-cli');
    return { id: user.id, email: user.email, timezone: user.timezone, token };
  } catch (error) {
    if (error instanceof DomainError) throw new CommandError(error.message);
    throw error;
  }
}

/** Streams the export to a file, batch by batch; returns the bytes written. */
export async function exportToFile(
  database: Database,
  userId: string,
  input: ExportInput,
  path: string,
): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for await (const chunk of exportStream(database.db, userId, input).chunks) {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return bytes;
}

/** Imports a JSON export or a CSV file (by extension), atomically. */
export async function importFromFile(
  database: Database,
  userId: string,
  path: string,
  options: ImportOptions,
): Promise<ImportReport> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new CommandError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    const format = path.toLowerCase().endsWith('.csv') ? 'csv' : 'json';
    // Read as it streams: a document far larger than memory imports with flat memory. The number of
    // entries is not known before the end, so progress estimates it from the share of the file read.
    const size = (await file.stat()).size;
    let read = 0;
    const chunks = (async function* () {
      for await (const chunk of file.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
    })();
    const report = options.onProgress;
    return await importStream(database.db, userId, chunks, format, {
      ...options,
      onProgress:
        report &&
        ((done) =>
          report(done, read >= size ? done : Math.max(done, Math.round((done * size) / Math.max(read, 1))))),
    });
  } catch (error) {
    if (error instanceof DomainError) {
      const problems = (error.details?.problems as { path: string; message: string }[] | undefined) ?? [];
      const listed = problems
        .slice(0, 20)
        .map((problem) => `\n  ${problem.path}: ${problem.message}`)
        .join('');
      const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
      throw new CommandError(
        problems.length ? `the import was refused; nothing was written:${listed}${more}` : error.message,
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E'))
      throw new CommandError(`cannot read ${path}: ${code}`);
    throw error;
  } finally {
    await file.close();
  }
}

/** A demo account with a year of realistic data and planted effects. */
export async function createDemo(
  database: Database,
  input: { email: string; password: string; days: number; noiseMetrics: number; seed: number },
  onProgress?: ImportOptions['onProgress'],
) {
  const user = await createUser(database, { email: input.email, password: input.password, timezone: 'UTC' });
  const document = createDemoDocument({
    days: input.days,
    end: localToday('UTC'),
    noiseMetrics: input.noiseMetrics,
    seed: input.seed,
  });
  const report = await importDocument(database.db, user.id, document, { onProgress });
  return { user, report };
}
