import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { request } from 'node:http';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './client';

// Backups of the embedded database: PGlite's own data-directory dump (a gzipped tar of the PostgreSQL
// data directory). While a server runs, its directory is locked, so the dump is taken by the server
// itself and handed out on a Unix socket inside the data directory (reachable only by the directory's
// owner); otherwise the command opens the directory itself. PostgreSQL is backed up with pg_dump.

/** The largest archive `restore` reads (it is loaded into memory whole). */
export const BACKUP_MAX_BYTES = 4 * 1024 * 1024 * 1024;

/** Where a running server hands out backups of its embedded database. */
export function adminSocketPath(dataDir: string): string {
  return join(resolve(dataDir), 'admin.sock');
}

/** The PostgreSQL data directory of the embedded database inside DATA_DIR. */
export function pgliteDir(dataDir: string): string {
  return join(resolve(dataDir), 'pglite');
}

/** A backup or restore that cannot be done; the message is one line, fit for an operator. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/**
 * A consistent dump of an open embedded database: a checkpoint, then the data directory while no
 * statement runs (PGlite runs one at a time). A transaction still open between two of its statements
 * is in the dump's write-ahead log and is rolled back when the dump is opened, as after a crash.
 */
export async function dumpPglite(client: PGlite): Promise<Blob> {
  await client.exec('CHECKPOINT');
  return client.dumpDataDir('gzip');
}

async function writeAtomically(source: Readable, file: string): Promise<number> {
  const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
  try {
    await pipeline(source, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  return statSync(file).size;
}

/** Asks the server running on `dataDir` for a dump; undefined when no server answers there. */
function dumpFromServer(dataDir: string): Promise<Readable | undefined> {
  const socketPath = adminSocketPath(dataDir);
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, path: '/backup', method: 'GET' }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new BackupError(`the running server refused the backup (HTTP ${res.statusCode})`));
        return;
      }
      resolvePromise(res);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A socket left by a server that is gone.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolvePromise(undefined);
      else reject(new BackupError(`cannot reach the running server: ${error.message}`));
    });
    req.end();
  });
}

/**
 * Backs up the embedded database in `dataDir` to `file` (written whole or not at all). Through the
 * running server when there is one, otherwise by opening the directory (which locks it meanwhile).
 */
export async function backupDataDir(
  dataDir: string,
  file: string,
  options: { overwrite?: boolean } = {},
): Promise<{ bytes: number; via: 'server' | 'directory' }> {
  if (existsSync(file) && !options.overwrite) {
    throw new BackupError(`${file} exists: choose another file, or pass --force to replace it`);
  }
  const live = await dumpFromServer(dataDir);
  if (live) return { bytes: await writeAtomically(live, file), via: 'server' };
  if (!existsSync(join(pgliteDir(dataDir), 'PG_VERSION'))) {
    throw new BackupError(`there is no embedded database in ${resolve(dataDir)}`);
  }
  const release = lockDataDir(resolve(dataDir));
  try {
    const client = await PGlite.create(pgliteDir(dataDir));
    try {
      const dump = await dumpPglite(client);
      return { bytes: await writeAtomically(Readable.from(dump.stream()), file), via: 'directory' };
    } finally {
      await client.close();
    }
  } finally {
    release();
  }
}

/**
 * Restores a backup into `dataDir`. Refused while a server runs on the directory (its lock is live);
 * an existing database is replaced only with `overwrite`, and is kept beside the new one
 * (`pglite.before-restore-<time>`) rather than deleted. The archive is opened and checked in a
 * temporary directory first, so a bad file changes nothing.
 */
export async function restoreDataDir(
  dataDir: string,
  file: string,
  options: { overwrite?: boolean } = {},
): Promise<{ replaced: string | undefined }> {
  const dir = resolve(dataDir);
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === undefined) throw new BackupError(`${file} does not exist`);
  if (size > BACKUP_MAX_BYTES) throw new BackupError(`${file} is larger than ${BACKUP_MAX_BYTES} bytes`);
  const target = pgliteDir(dir);
  // Taking the lock is the test of liveness: it fails while a server (or another command) runs here.
  let release: () => void;
  try {
    release = lockDataDir(dir);
  } catch (error) {
    throw new BackupError(`refusing to restore into a live directory: ${(error as Error).message}`);
  }
  const staging = join(dir, `pglite.restoring-${process.pid}`);
  try {
    if (existsSync(target) && !options.overwrite) {
      throw new BackupError(
        `${dir} already holds a database: pass --force to replace it (the current one is kept beside it)`,
      );
    }
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // readFileSync and gunzipSync answer buffers over a plain ArrayBuffer.
    const archive = new Blob([readArchive(file) as Uint8Array<ArrayBuffer>]);
    let client: PGlite;
    try {
      client = await PGlite.create(staging, { loadDataDir: archive });
    } catch (error) {
      throw new BackupError(`${file} is not a backup of the embedded database: ${(error as Error).message}`);
    }
    try {
      await client.query('select 1');
    } finally {
      await client.close();
    }
    let replaced: string | undefined;
    if (existsSync(target)) {
      replaced = join(dir, `pglite.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      renameSync(target, replaced);
    }
    renameSync(staging, target);
    return { replaced };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    release();
  }
}

/**
 * The archive as a plain tar, checked before PGlite sees it: gzip (as `backup` writes it) or tar,
 * holding a PostgreSQL data directory (its PG_VERSION file).
 */
function readArchive(file: string): Uint8Array {
  const raw = readFileSync(file);
  let tar: Buffer = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      tar = gunzipSync(raw, { maxOutputLength: BACKUP_MAX_BYTES });
    } catch (error) {
      throw new BackupError(`${file} is not a backup of the embedded database: ${(error as Error).message}`);
    }
  }
  if (!holdsDataDirectory(tar)) {
    throw new BackupError(
      `${file} is not a backup of the embedded database (no PostgreSQL data directory in it)`,
    );
  }
  return tar;
}

/** Walks the tar headers (512-byte blocks, ustar) looking for a data directory's PG_VERSION. */
function holdsDataDirectory(tar: Buffer): boolean {
  const field = (block: Buffer, start: number, length: number) =>
    block.toString('latin1', start, start + length).replace(/\0.*$/s, '');
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return false;
    if (!field(header, 257, 6).startsWith('ustar')) return false;
    const name = field(header, 0, 100);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) return false;
    if (name === 'PG_VERSION' || name.endsWith('/PG_VERSION')) return true;
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return false;
}
