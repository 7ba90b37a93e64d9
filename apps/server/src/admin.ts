import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '@lifexp/config';
import { adminSocketPath, type Database, dumpPglite } from '@lifexp/db';
import { safeError } from './errorLog';

/** Unix socket paths longer than this cannot be bound (sun_path, Linux and macOS alike). */
const SOCKET_PATH_MAX = 103;

/**
 * The embedded database's local administration socket, `DATA_DIR/admin.sock`: `GET /backup` answers
 * a consistent dump (see @lifexp/db backup), so `pnpm lifexp backup` works while the server runs and
 * holds the directory's lock. It is a Unix socket with mode 0600 inside the data directory: only the
 * directory's owner reaches it, nothing listens on the network, and it carries no user's session.
 */
export async function startAdminSocket(
  database: Database,
  dataDir: string,
  log: Logger,
): Promise<{ close(): Promise<void> } | undefined> {
  const client = database.pglite;
  if (!client) return undefined;
  const path = adminSocketPath(dataDir);
  if (path.length > SOCKET_PATH_MAX) {
    log.warn({ path }, 'DATA_DIR is too long a path for the backup socket: back up with the server stopped');
    return undefined;
  }
  let busy = false;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/backup') {
      res.writeHead(404).end();
      return;
    }
    // One dump at a time: each holds the database for its duration.
    if (busy) {
      res.writeHead(409, { 'content-type': 'text/plain' }).end('a backup is already running\n');
      return;
    }
    busy = true;
    const started = performance.now();
    dumpPglite(client)
      .then(async (dump) => {
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(dump.size) });
        await pipeline(Readable.from(dump.stream()), res);
        log.info({ bytes: dump.size, ms: Math.round(performance.now() - started) }, 'backup handed out');
      })
      .catch((error: unknown) => {
        log.error({ error: safeError(error) }, 'backup failed');
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      })
      .finally(() => {
        busy = false;
      });
  });
  // The directory's lock is ours: a socket file left there is a dead server's.
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}
