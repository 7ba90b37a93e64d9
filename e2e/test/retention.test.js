import { pruneChangeLog } from '@lifexp/db';
import { describeEachDriver } from '@lifexp/db/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  consecutiveSeqs,
  createEntries,
  createEntriesAtOnce,
  createMetric,
  device,
  signUp,
  startTestServer,
  subscribe,
  waitFor,
} from './support';

allowSlowMachines();
afterEach(async () => {
  await closeDevices();
});
describeEachDriver('change log retention', (ctx) => {
  let server;
  /** A user with 251 events (a metric and 250 entries), of which retention keeps the newest 100. */
  let token;
  let entryIds;
  let removed;
  const LATEST = 251;
  const PRUNED_THROUGH = LATEST - 100;
  beforeAll(async () => {
    server = await startTestServer({}, ctx().database);
    const account = await signUp(server.url);
    token = account.token;
    const client = device(server.url, token);
    const metricId = await createMetric(client);
    entryIds = [
      ...(await createEntriesAtOnce(client, metricId, 150)),
      ...(await createEntriesAtOnce(client, metricId, 100)),
    ].map((entry) => entry.id);
    // A small user on the same database keeps everything (fewer events than kept).
    const small = await signUp(server.url);
    const smallClient = device(server.url, small.token);
    await createEntries(smallClient, await createMetric(smallClient), 3);
    removed = await pruneChangeLog(ctx().db, { keepDays: 3650, keepEvents: 100 });
    await closeDevices();
  });
  afterAll(async () => {
    await server?.server.close();
  });
  it('removed exactly the prefix beyond the newest 100 events', async () => {
    expect(removed).toBe(PRUNED_THROUGH);
    const client = device(server.url, token);
    const page = await client.trpc.sync.pull.query({ after: PRUNED_THROUGH, limit: 1000 });
    expect(page.resync).toBeNull();
    expect(page.events).toHaveLength(100);
    expect(page.events[0].seq).toBe(PRUNED_THROUGH + 1);
    expect(page.events.map((event) => event.id)).toEqual(entryIds.slice(-100));
  });
  it('answers an old cursor with exactly one cursor-too-old resync at the latest seq, then live events', async () => {
    const client = device(server.url, token);
    for (const cursor of ['0', '1', '10', String(PRUNED_THROUGH - 1)]) {
      const stream = subscribe(client, { lastEventId: cursor });
      await waitFor(() => stream.events.length >= 1, { describe: () => stream });
      expect(stream.events[0], `cursor ${cursor}`).toEqual({
        kind: 'resync',
        seq: LATEST,
        reason: 'cursor-too-old',
      });
      expect(stream.ids[0]).toBe(String(LATEST));
      stream.unsubscribe();
    }
    const stream = subscribe(client, { lastEventId: '10' });
    await waitFor(() => stream.events.length >= 1);
    const metric = await client.trpc.metrics.create.mutate({
      name: 'After the resync',
      type: 'binary',
      category: 'habits',
      clientMutationId: 'after-resync',
    });
    await changesArrived(stream, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.events).toEqual([
      { kind: 'resync', seq: LATEST, reason: 'cursor-too-old' },
      expect.objectContaining({
        kind: 'change',
        seq: LATEST + 1,
        id: metric.id,
        clientMutationId: 'after-resync',
      }),
    ]);
    expect(stream.errors).toEqual([]);
  });
  it('still replays from the oldest kept cursor (the boundary) without a resync', async () => {
    const client = device(server.url, token);
    const stream = subscribe(client, { lastEventId: String(PRUNED_THROUGH) });
    const changes = await changesArrived(stream, 100);
    expect(stream.events[0]).toMatchObject({ kind: 'change', seq: PRUNED_THROUGH + 1 });
    expect(stream.events.every((event) => event.kind === 'change')).toBe(true);
    expect(consecutiveSeqs(changes, PRUNED_THROUGH + 1)).toBe(true);
    expect(changes.slice(0, 100).map((event) => event.id)).toEqual(entryIds.slice(-100));
  });
  it('sync.pull answers an old cursor with a resync and pages through the rest with hasMore', async () => {
    const client = device(server.url, token);
    const latest = (await client.trpc.sync.pull.query({ after: PRUNED_THROUGH, limit: 1 })).latest;
    expect(latest).toBeGreaterThanOrEqual(LATEST);
    for (const after of [0, 10, PRUNED_THROUGH - 1]) {
      expect(await client.trpc.sync.pull.query({ after, limit: 10 })).toEqual({
        events: [],
        resync: { seq: latest, reason: 'cursor-too-old' },
        latest,
        hasMore: false,
      });
    }
    // Page through everything kept, 30 at a time.
    const pages = [];
    const seqs = [];
    let after = PRUNED_THROUGH;
    while (true) {
      const page = await client.trpc.sync.pull.query({ after, limit: 30 });
      expect(page.resync).toBeNull();
      expect(page.latest).toBe(latest);
      pages.push({ count: page.events.length, hasMore: page.hasMore });
      seqs.push(...page.events.map((event) => event.seq));
      if (!page.hasMore) break;
      after = page.events.at(-1).seq;
    }
    const kept = latest - PRUNED_THROUGH;
    expect(seqs).toEqual(Array.from({ length: kept }, (_, index) => PRUNED_THROUGH + 1 + index));
    expect(pages.slice(0, -1).every((page) => page.count === 30 && page.hasMore)).toBe(true);
    expect(pages.at(-1)).toEqual({ count: kept - 30 * (pages.length - 1), hasMore: false });
    // At the latest seq: nothing, and nothing more; past it: cursor-ahead.
    expect(await client.trpc.sync.pull.query({ after: latest })).toEqual({
      events: [],
      resync: null,
      latest,
      hasMore: false,
    });
    expect((await client.trpc.sync.pull.query({ after: latest + 1 })).resync).toEqual({
      seq: latest,
      reason: 'cursor-ahead',
    });
  });
  it('validates pull input', async () => {
    const client = device(server.url, token);
    for (const input of [{ after: -1 }, { after: 1.5 }, { after: 0, limit: 0 }, { after: 0, limit: 1001 }]) {
      await expect(client.trpc.sync.pull.query(input)).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST' },
      });
    }
    // Without a session: UNAUTHORIZED.
    await expect(device(server.url, undefined).trpc.sync.pull.query({ after: 0 })).rejects.toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
  });
});
