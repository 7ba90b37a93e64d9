import { createDb, rowsOf } from '@lifexp/db';
import {
  createPostgresDatabase,
  describeEachDriver,
  dropPostgresDatabase,
  testDrivers,
} from '@lifexp/db/testing';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  consecutiveSeqs,
  createEntries,
  createMetric,
  device,
  errorArrived,
  ready,
  signIn,
  signUp,
  startTestServer,
  subscribe,
  type TestServer,
  waitFor,
} from './support';

allowSlowMachines();

afterEach(async () => {
  await closeDevices();
});

describeEachDriver('real-time sync between devices', (ctx) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({}, ctx().database);
  });
  afterAll(async () => {
    await server?.server.close();
  });

  it('delivers a write of device A to device B: ready first, then the whole object with A’s clientMutationId', async () => {
    const account = await signUp(server.url);
    const a = device(server.url, account.token);
    const b = device(server.url, await signIn(server.url, account.email));

    const metricId = await createMetric(a);
    const stream = subscribe(b);
    const readySeq = await ready(stream);
    expect(stream.events[0]).toEqual({ kind: 'ready', seq: readySeq });
    expect(stream.ids[0]).toBe(String(readySeq));
    // The metric was created before B subscribed: it is already behind the ready cursor.
    expect(readySeq).toBe(1);

    const entry = await a.trpc.entries.create.mutate({
      metricId,
      value: 7.5,
      date: '2026-03-01',
      time: '07:30',
      notes: 'slept well',
      tags: ['Weekend', 'travel'],
      clientMutationId: 'device-a-write-1',
    });
    const [change] = await changesArrived(stream, 1);
    expect(change).toEqual({
      kind: 'change',
      seq: readySeq + 1,
      entity: 'entry',
      op: 'upsert',
      id: entry.id,
      data: entry,
      clientMutationId: 'device-a-write-1',
      at: expect.any(String),
    });
    expect(entry).toMatchObject({ notes: 'slept well', tags: ['weekend', 'travel'], time: '07:30:00' });
    expect(Number.isNaN(Date.parse(change!.at))).toBe(false);
    expect(stream.ids).toEqual([String(readySeq), String(readySeq + 1)]);
    expect(stream.events).toHaveLength(2);
    expect(stream.errors).toEqual([]);

    // A write sent over the WebSocket transport (everything over one socket) is applied and delivered too.
    const overSocket = device(server.url, account.token, { transport: 'websocket' });
    const metric = await overSocket.trpc.metrics.create.mutate({
      name: 'Mood over the socket',
      type: 'rating',
      category: 'mood',
      clientMutationId: 'device-c-metric',
    });
    const socketEntry = await overSocket.trpc.entries.create.mutate({
      metricId: metric.id,
      value: 4,
      date: '2026-03-02',
      clientMutationId: 'device-c-entry',
    });
    const changes = await changesArrived(stream, 3);
    expect(changes.slice(1)).toEqual([
      expect.objectContaining({
        seq: readySeq + 2,
        entity: 'metric',
        op: 'upsert',
        id: metric.id,
        data: metric,
        clientMutationId: 'device-c-metric',
      }),
      expect.objectContaining({
        seq: readySeq + 3,
        entity: 'entry',
        op: 'upsert',
        id: socketEntry.id,
        data: socketEntry,
        clientMutationId: 'device-c-entry',
      }),
    ]);
    // The reads work over the socket as well.
    expect(await overSocket.trpc.entries.get.query({ id: socketEntry.id })).toEqual(socketEntry);

    // Updates and deletes are delivered as well: the delete carries no object.
    const updated = await a.trpc.entries.update.mutate({
      id: entry.id,
      baseVersion: entry.version,
      value: 8,
      clientMutationId: 'device-a-update',
    });
    await a.trpc.entries.delete.mutate({
      id: entry.id,
      baseVersion: updated.version,
      clientMutationId: 'device-a-delete',
    });
    const all = await changesArrived(stream, 5);
    expect(all.slice(3)).toEqual([
      expect.objectContaining({
        op: 'upsert',
        id: entry.id,
        data: updated,
        clientMutationId: 'device-a-update',
      }),
      expect.objectContaining({
        op: 'delete',
        id: entry.id,
        data: null,
        clientMutationId: 'device-a-delete',
      }),
    ]);
    expect(consecutiveSeqs(all, readySeq + 1)).toBe(true);
    expect(stream.errors).toEqual([]);
  });

  it('replays exactly the 100 changes a device missed while offline, in order, then continues live', async () => {
    const account = await signUp(server.url);
    const a = device(server.url, account.token);
    const metricId = await createMetric(a);

    const b = device(server.url, await signIn(server.url, account.email));
    const online = subscribe(b);
    await ready(online);
    await createEntries(a, metricId, 3, { prefix: 'before' });
    const seen = await changesArrived(online, 3);
    const lastSeen = seen.at(-1)!.seq;
    expect(online.ids.at(-1)).toBe(String(lastSeen));

    // B goes offline: its app closes the subscription and the socket.
    online.unsubscribe();
    await b.close();
    const missed = await createEntries(a, metricId, 100, { prefix: 'offline' });

    const resumed = device(server.url, await signIn(server.url, account.email));
    const stream = subscribe(resumed, { lastEventId: String(lastSeen) });
    const replayed = await changesArrived(stream, 100);
    // No ready event when resuming from a cursor; nothing but the 100 changes.
    expect(stream.events).toHaveLength(100);
    expect(replayed.map((event) => event.id)).toEqual(missed.map((entry) => entry.id));
    expect(replayed.map((event) => event.clientMutationId)).toEqual(
      missed.map((_, index) => `offline-${index}`),
    );
    expect(consecutiveSeqs(replayed, lastSeen + 1)).toBe(true);
    expect(new Set(replayed.map((event) => event.seq)).size).toBe(100);
    expect(stream.ids).toEqual(replayed.map((event) => String(event.seq)));

    // Then live events continue on the same stream.
    const [live] = await createEntries(a, metricId, 1, { prefix: 'live' });
    const after = await changesArrived(stream, 101);
    expect(after).toHaveLength(101);
    expect(after[100]).toMatchObject({ seq: lastSeen + 101, id: live!.id, clientMutationId: 'live-0' });
    expect(stream.errors).toEqual([]);
  });

  it('never shows one user’s changes to another, even with interleaved writes', async () => {
    const alice = await signUp(server.url);
    const bob = await signUp(server.url);
    const aliceWriter = device(server.url, alice.token);
    const bobWriter = device(server.url, bob.token);
    const aliceReader = device(server.url, await signIn(server.url, alice.email));
    const bobReader = device(server.url, await signIn(server.url, bob.email));

    const aliceStream = subscribe(aliceReader);
    const bobStream = subscribe(bobReader);
    await ready(aliceStream);
    await ready(bobStream);

    const aliceMetric = await createMetric(aliceWriter);
    const bobMetric = await createMetric(bobWriter);
    const aliceIds = new Set<string>([aliceMetric]);
    const bobIds = new Set<string>([bobMetric]);
    for (let round = 0; round < 15; round++) {
      // Concurrent writes of both users.
      const [mine, theirs] = await Promise.all([
        aliceWriter.trpc.entries.create.mutate({ metricId: aliceMetric, value: round, date: '2026-03-01' }),
        bobWriter.trpc.entries.create.mutate({ metricId: bobMetric, value: -round, date: '2026-03-01' }),
      ]);
      aliceIds.add(mine.id);
      bobIds.add(theirs.id);
    }

    const aliceChanges = await changesArrived(aliceStream, 16);
    const bobChanges = await changesArrived(bobStream, 16);
    // A little longer: nothing more (in particular nothing of the other user) trickles in.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(aliceStream.changes()).toHaveLength(16);
    expect(bobStream.changes()).toHaveLength(16);
    expect(new Set(aliceChanges.map((event) => event.id))).toEqual(aliceIds);
    expect(new Set(bobChanges.map((event) => event.id))).toEqual(bobIds);
    // Each user has their own gap-free sequence.
    expect(consecutiveSeqs(aliceChanges, 1)).toBe(true);
    expect(consecutiveSeqs(bobChanges, 1)).toBe(true);
    for (const event of aliceChanges.slice(1)) {
      expect((event.data as { metricId: string }).metricId).toBe(aliceMetric);
    }
    for (const event of bobChanges.slice(1)) {
      expect((event.data as { metricId: string }).metricId).toBe(bobMetric);
    }
    expect(aliceStream.errors).toEqual([]);
    expect(bobStream.errors).toEqual([]);
  });
});

// Several server instances share one PostgreSQL database; a change made through one instance reaches
// subscribers connected to another (PostgreSQL NOTIFY). PGlite is single-process, so this is
// PostgreSQL only.
if (testDrivers.includes('postgres')) {
  describe('two server instances on one PostgreSQL database', () => {
    let databaseUrl: string;
    let first: TestServer;
    let second: TestServer;
    beforeAll(async () => {
      databaseUrl = await createPostgresDatabase();
      // Both start (and migrate) at once, as a rolling deployment would.
      [first, second] = await Promise.all([
        startTestServer({ DATABASE_URL: databaseUrl }),
        startTestServer({ DATABASE_URL: databaseUrl }),
      ]);
    });
    afterAll(async () => {
      await first?.server.close();
      await second?.server.close();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    });

    it('delivers a write made through one instance to a device subscribed on the other, both ways', async () => {
      expect(first.url).not.toBe(second.url);
      const account = await signUp(first.url);
      const otherToken = await signIn(second.url, account.email);

      const onFirst = device(first.url, account.token);
      const onSecond = device(second.url, otherToken);
      const streamOnFirst = subscribe(onFirst);
      const streamOnSecond = subscribe(onSecond);
      expect(await ready(streamOnFirst)).toBe(0);
      expect(await ready(streamOnSecond)).toBe(0);

      // Instance 1 → a subscriber on instance 2.
      const metricId = await createMetric(onFirst);
      const [viaFirst] = await createEntries(onFirst, metricId, 1, { prefix: 'via-first' });
      const onSecondChanges = await changesArrived(streamOnSecond, 2);
      expect(onSecondChanges.map((event) => event.id)).toEqual([metricId, viaFirst!.id]);
      expect(onSecondChanges[1]).toMatchObject({ data: viaFirst, clientMutationId: 'via-first-0' });

      // Instance 2 → a subscriber on instance 1.
      const [viaSecond] = await createEntries(onSecond, metricId, 1, { prefix: 'via-second' });
      const onFirstChanges = await changesArrived(streamOnFirst, 3);
      expect(onFirstChanges.map((event) => event.id)).toEqual([metricId, viaFirst!.id, viaSecond!.id]);
      expect(onFirstChanges[2]).toMatchObject({ seq: 3, data: viaSecond, clientMutationId: 'via-second-0' });
      await changesArrived(streamOnSecond, 3);

      // Both devices saw the same history, each exactly once.
      await waitFor(() => streamOnFirst.changes().length === 3 && streamOnSecond.changes().length === 3);
      expect(streamOnSecond.changes()).toEqual(streamOnFirst.changes());
      expect(consecutiveSeqs(streamOnFirst.changes(), 1)).toBe(true);

      // A burst of writes spread over both instances arrives complete and in order on both.
      const writes = [];
      for (let index = 0; index < 20; index++) {
        const writer = index % 2 === 0 ? onFirst : onSecond;
        writes.push(
          (await writer.trpc.entries.create.mutate({ metricId, value: index, date: '2026-03-01' })).id,
        );
      }
      for (const stream of [streamOnFirst, streamOnSecond]) {
        const all = await changesArrived(stream, 23);
        expect(all).toHaveLength(23);
        expect(all.slice(3).map((event) => event.id)).toEqual(writes);
        expect(consecutiveSeqs(all, 1)).toBe(true);
        expect(stream.errors).toEqual([]);
      }
    });

    it('a logout through one instance ends the subscription held on the other', async () => {
      const account = await signUp(first.url);
      const token = await signIn(first.url, account.email);
      const onSecond = subscribe(device(second.url, token));
      await ready(onSecond);
      await device(first.url, token).trpc.users.logout.mutate();
      expect((await errorArrived(onSecond, 5_000)).code).toBe('UNAUTHORIZED');
    });

    it('keeps delivering after the LISTEN connections are cut (without waiting for the 30 s safety poll)', async () => {
      const account = await signUp(first.url);
      const writer = device(first.url, account.token);
      const metricId = await createMetric(writer);
      const streams = [
        subscribe(device(first.url, await signIn(first.url, account.email))),
        subscribe(device(second.url, await signIn(second.url, account.email))),
      ];
      for (const stream of streams) await ready(stream);

      const admin = await createDb({ databaseUrl, migrate: false, poolMax: 1 });
      try {
        const listeners = async () =>
          rowsOf<{ pid: number }>(
            await admin.db.execute(
              sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`,
            ),
          );
        const cut = new Set((await listeners()).map((row) => row.pid));
        expect(cut.size).toBeGreaterThanOrEqual(2);
        await admin.db.execute(
          sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`,
        );
        // Written while the instances may still be reconnecting their LISTEN: the poke can be lost,
        // the re-listen must make the subscribers look again.
        const [during] = await createEntries(writer, metricId, 1, { prefix: 'during' });
        for (const stream of streams) {
          const changes = await changesArrived(stream, 1, 15_000);
          expect(changes[0]).toMatchObject({ id: during!.id });
        }
        // Both instances listen again.
        await waitFor(async () => {
          const now = await listeners();
          return now.length >= 2 && now.every((row) => !cut.has(row.pid));
        });
        const [after] = await createEntries(writer, metricId, 1, { prefix: 'after' });
        for (const stream of streams) {
          const changes = await changesArrived(stream, 2, 15_000);
          expect(changes.map((event) => event.id)).toEqual([during!.id, after!.id]);
          expect(stream.errors).toEqual([]);
        }
      } finally {
        await admin.close();
      }
    });
  });
}
