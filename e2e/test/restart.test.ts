import { join } from 'node:path';
import type { ChangeEvent } from '@lifexp/contracts';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  consecutiveSeqs,
  createEntries,
  createMetric,
  device,
  freePort,
  listening,
  ready,
  removeTempDirs,
  signIn,
  signUp,
  spawnServer,
  startTestServer,
  stopServerProcesses,
  subscribe,
  type TestServer,
  tempDir,
} from './support';

allowSlowMachines();

const running: TestServer[] = [];
const databases: string[] = [];

afterEach(async () => {
  await closeDevices();
  for (const server of running.splice(0)) await server.server.close();
  await stopServerProcesses();
});
afterAll(async () => {
  for (const url of databases.splice(0)) await dropPostgresDatabase(url);
  removeTempDirs();
});

/** Where a restarted server finds its data again: a PGlite directory, or a PostgreSQL database. */
async function storage(driver: 'pglite' | 'postgres'): Promise<Record<string, string>> {
  if (driver === 'pglite') return { DATA_DIR: join(tempDir('lifexp-restart-'), 'data') };
  const url = await createPostgresDatabase();
  databases.push(url);
  return { DATABASE_URL: url };
}

/** Asserts a stream holds exactly `expected` (entity ids), once each, in order, with consecutive seqs. */
function expectExactly(changes: ChangeEvent[], expected: string[], firstSeq: number) {
  expect(changes.map((event) => event.id)).toEqual(expected);
  expect(consecutiveSeqs(changes, firstSeq)).toBe(true);
  expect(new Set(changes.map((event) => event.seq)).size).toBe(changes.length);
}

for (const driver of testDrivers) {
  describe(`resuming across a server restart [${driver}]`, () => {
    it('graceful restart: the same client reconnects by itself and resumes from its last event', async () => {
      const env = { ...(await storage(driver)), PORT: String(await freePort()) };
      const first = await startTestServer(env);
      running.push(first);
      const url = first.url;

      const account = await signUp(url);
      const a = device(url, account.token);
      const states: string[] = [];
      const b = device(url, await signIn(url, account.email), {
        onSocketState: (state) => states.push(state),
      });
      const metricId = await createMetric(a);
      const stream = subscribe(b);
      const readySeq = await ready(stream);
      const before = await createEntries(a, metricId, 5, { prefix: 'before' });
      await changesArrived(stream, 5);

      // The server shuts down gracefully (asking clients to reconnect) and comes back on the same
      // address and data.
      running.splice(running.indexOf(first), 1);
      await first.server.close();
      const second = await startTestServer(env);
      running.push(second);
      expect(second.url).toBe(url);

      const after = await createEntries(a, metricId, 5, { prefix: 'after' });
      const changes = await changesArrived(stream, 10);
      // A little longer: no repeats trickle in after the replay.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expectExactly(
        stream.changes(),
        [...before, ...after].map((entry) => entry.id),
        readySeq + 1,
      );
      expect(changes.map((event) => event.clientMutationId)).toEqual([
        ...before.map((_, index) => `before-${index}`),
        ...after.map((_, index) => `after-${index}`),
      ]);
      // One ready at the start, none after the reconnect (the client resumed with its cursor).
      expect(stream.events.filter((event) => event.kind !== 'change')).toEqual([
        { kind: 'ready', seq: readySeq },
      ]);
      expect(stream.errors).toEqual([]);
      expect(stream.completed).toBe(false);
      // It really was a new connection.
      expect(states.filter((state) => state === 'open').length).toBeGreaterThanOrEqual(2);
    });

    it('kill -9: the real server process dies, a new one starts on the same port and data, nothing is lost', async () => {
      const env = { ...(await storage(driver)), PORT: String(await freePort()) };
      const first = spawnServer(env);
      const url = await listening(first);

      const account = await signUp(url);
      const a = device(url, account.token);
      const b = device(url, await signIn(url, account.email));
      const metricId = await createMetric(a);
      const stream = subscribe(b);
      const readySeq = await ready(stream);
      // Killed right after the tenth write is acknowledged: B may not have all ten yet.
      const before = await createEntries(a, metricId, 10, { prefix: 'before' });
      first.child.kill('SIGKILL');
      await first.exited;
      expect(first.child.signalCode).toBe('SIGKILL');

      const second = spawnServer(env);
      expect(await listening(second)).toBe(url);

      // Every write acknowledged before the kill is still there.
      const reader = device(url, account.token);
      const pulled = await reader.trpc.sync.pull.query({ after: 0, limit: 100 });
      expect(pulled.resync).toBeNull();
      expect(pulled.latest).toBe(readySeq + 10);
      expect(pulled.events.map((event) => event.id)).toEqual([metricId, ...before.map((entry) => entry.id)]);

      const after = await createEntries(a, metricId, 10, { prefix: 'after' });
      await changesArrived(stream, 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expectExactly(
        stream.changes(),
        [...before, ...after].map((entry) => entry.id),
        readySeq + 1,
      );
      expect(stream.events.filter((event) => event.kind !== 'change')).toEqual([
        { kind: 'ready', seq: readySeq },
      ]);
      expect(stream.errors).toEqual([]);

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });
  });
}

describe('crash loop on the embedded database', () => {
  it('kill -9 then an immediate restart on the same DATA_DIR always starts, 20 times, and keeps every write', async () => {
    // PORT 0: each server gets a free port, so only the data directory is shared between them.
    const env = { DATA_DIR: join(tempDir('lifexp-crashloop-'), 'data'), PORT: '0' };
    let current = spawnServer(env);
    let url = await listening(current);
    const account = await signUp(url);
    const metricId = await createMetric(device(url, account.token));
    const written: string[] = [];
    for (let round = 0; round < 20; round++) {
      const [entry] = await createEntries(device(url, account.token), metricId, 1, {
        prefix: `round-${round}`,
      });
      written.push(entry!.id);
      current.child.kill('SIGKILL');
      // No wait for the exit: the killed server may still be in the process table (not yet reaped)
      // when the next one looks at the lock.
      current = spawnServer(env);
      url = await listening(current);
    }
    const pulled = await device(url, account.token).trpc.sync.pull.query({ after: 0, limit: 100 });
    expect(pulled.events.map((event) => event.id)).toEqual([metricId, ...written]);
    current.child.kill('SIGTERM');
    expect(await current.exited).toBe(0);
  }, 1_800_000);
});
