import type { Socket } from 'node:net';
import type { ChangeEvent } from '@lifexp/contracts';
import { createDb } from '@lifexp/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  consecutiveSeqs,
  createEntriesAtOnce,
  createMetric,
  device,
  errorArrived,
  type RawSocket,
  rawSocket,
  ready,
  signIn,
  signUp,
  startTestServer,
  subscribe,
  subscribeFrame,
  type TestServer,
  type WireMessage,
  waitFor,
} from './support';

allowSlowMachines();

const SEND_BUFFER = 65_536;
const NOTES = 'slow consumer test '.repeat(106).slice(0, 2_000);
const BATCH = 100;
/** Enough to overflow the limit even after the kernel's socket buffers have taken their share. */
const MAX_ENTRIES = 4_000;

const sockets: RawSocket[] = [];
afterEach(async () => {
  await closeDevices();
  for (const socket of sockets.splice(0)) socket.close();
});

function tcpOf(socket: RawSocket): Socket {
  return (socket.ws as unknown as { _socket: Socket })._socket;
}

/** Samples the send buffer of the server's side of each WebSocket connection, every few ms. */
function sampleBuffers(server: TestServer, only?: () => WebSocket | undefined) {
  let max = 0;
  let count = 0;
  const timer = setInterval(() => {
    const target = only?.();
    for (const client of server.server.wss.clients) {
      if (target && client !== target) continue;
      max = Math.max(max, client.bufferedAmount);
      count += 1;
    }
  }, 2);
  return {
    max: () => max,
    count: () => count,
    stop: () => clearInterval(timer),
  };
}

/**
 * Writes entries with ~2 KB notes in batches until the subscriber's server-side buffer has gone over
 * the limit (so the backpressure really engaged), at least `minimum` of them; returns their ids.
 * On loopback the kernel's socket buffers take a few MB first (about 1,600 such events here), so
 * 300 events alone would never reach the server's own buffer.
 */
async function floodUntilBackpressure(
  client: ReturnType<typeof device>,
  metricId: string,
  slow: () => WebSocket | undefined,
  minimum = 300,
  /**
   * The highest buffer seen so far (a sampler's): on a busy machine one batch of writes can outlast
   * the drain timeout, so the buffer may have gone over and the socket been dropped before a check.
   */
  peak: () => number = () => 0,
): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < MAX_ENTRIES) {
    const created = await createEntriesAtOnce(client, metricId, BATCH, NOTES);
    ids.push(...created.map((entry) => entry.id));
    if (ids.length < minimum) continue;
    // Give the subscription a moment to push what it has.
    const over = await waitFor(() => (slow()?.bufferedAmount ?? 0) > SEND_BUFFER || peak() > SEND_BUFFER, {
      timeoutMs: 100,
    }).catch(() => false);
    if (over) return ids;
  }
  throw new Error(`the send buffer never went over ${SEND_BUFFER} bytes after ${ids.length} entries`);
}

/** Subscribes a raw socket and returns it with the server's side of its connection. */
async function slowSubscriber(server: TestServer, token: string) {
  const before = new Set(server.server.wss.clients);
  const socket = await rawSocket(server.url, token);
  sockets.push(socket);
  socket.send(subscribeFrame(1));
  await waitFor(() => socket.events(1).length === 1, { describe: () => socket.messages });
  expect(socket.events(1)[0]!.data.kind).toBe('ready');
  const serverSide = [...server.server.wss.clients].find((client) => !before.has(client));
  expect(serverSide).toBeDefined();
  return { socket, serverSide: serverSide! };
}

describe('a subscriber that reads slowly or not at all', () => {
  describe('that catches up', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(
        // A drain timeout long enough that the pause below never reaches it.
        { WS_SEND_BUFFER_BYTES: String(SEND_BUFFER), WS_DRAIN_TIMEOUT_MS: '120000' },
        await createDb({}),
      );
    });
    afterAll(async () => {
      await server?.server.close();
    });

    it('holds the server to a bounded send buffer, then delivers everything in order exactly once', async () => {
      const account = await signUp(server.url);
      const writer = device(server.url, account.token);
      const metricId = await createMetric(writer);
      const { socket, serverSide } = await slowSubscriber(server, await signIn(server.url, account.email));
      const readySeq = socket.events(1)[0]!.data.seq;

      tcpOf(socket).pause();
      const sampler = sampleBuffers(server);
      const ids = await floodUntilBackpressure(writer, metricId, () => serverSide);
      // Paused a while longer with plenty left to send: the buffer stays where it is.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const whilePaused = sampler.max();
      expect(socket.events(1)).toHaveLength(1);

      tcpOf(socket).resume();
      await waitFor(() => socket.events(1).length === ids.length + 1, {
        timeoutMs: 60_000,
        describe: () => ({ received: socket.events(1).length, expected: ids.length + 1 }),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      sampler.stop();
      expect(sampler.count()).toBeGreaterThan(100);

      const changes = socket
        .events(1)
        .slice(1)
        .map((event) => event.data as ChangeEvent);
      expect(changes.map((event) => event.id)).toEqual(ids);
      expect(consecutiveSeqs(changes, readySeq + 1)).toBe(true);
      expect(socket.events(1).map((event) => event.id)).toEqual(
        [readySeq, ...changes.map((event) => event.seq)].map(String),
      );
      expect(socket.messages.filter((message) => message.error)).toEqual([]);
      expect(socket.closed).toBeNull();

      // Bounded: over the limit by at most a few events (the one that crossed it, plus slack).
      const largestFrame = Math.max(
        ...socket.messages.map((message) => Buffer.byteLength(JSON.stringify(message))),
      );
      expect(largestFrame).toBeGreaterThan(2_000);
      expect(whilePaused).toBeGreaterThan(SEND_BUFFER);
      expect(sampler.max()).toBeLessThanOrEqual(SEND_BUFFER + 4 * largestFrame);
      // And it was far below what was sent in total.
      expect(ids.length * largestFrame).toBeGreaterThan(5 * sampler.max());
    });
  });

  describe('whose session ends while it is behind', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(
        { WS_SEND_BUFFER_BYTES: String(SEND_BUFFER), WS_DRAIN_TIMEOUT_MS: '120000' },
        await createDb({}),
      );
    });
    afterAll(async () => {
      await server?.server.close();
    });

    it('gets no more of the account’s data after the logout, only UNAUTHORIZED', async () => {
      const account = await signUp(server.url);
      const writer = device(server.url, account.token);
      const metricId = await createMetric(writer);
      // A backlog far larger than the kernel's socket buffers can hold, replayed in pages.
      for (let batch = 0; batch < 30; batch++) await createEntriesAtOnce(writer, metricId, BATCH, NOTES);

      const token = await signIn(server.url, account.email);
      const before = new Set(server.server.wss.clients);
      const socket = await rawSocket(server.url, token);
      sockets.push(socket);
      await waitFor(() => [...server.server.wss.clients].find((client) => !before.has(client)));
      const serverSide = [...server.server.wss.clients].find((client) => !before.has(client))!;
      // Every frame the server sends this connection, in order.
      const sent: string[] = [];
      const send = serverSide.send.bind(serverSide);
      serverSide.send = ((data: string, ...rest: never[]) => {
        sent.push(String(data));
        return send(data, ...rest);
      }) as typeof serverSide.send;

      tcpOf(socket).pause();
      socket.send(subscribeFrame(1, { lastEventId: '0' }));
      await waitFor(() => serverSide.bufferedAmount > SEND_BUFFER, {
        timeoutMs: 30_000,
        describe: () => ({ buffered: serverSide.bufferedAmount, sent: sent.length }),
      });
      // A second device of the same session connects after it: the hub revokes connections in order,
      // so once this one hears of the logout, the slow one has been revoked too.
      const witness = subscribe(device(server.url, token));
      await ready(witness);

      await device(server.url, token).trpc.users.logout.mutate();
      expect((await errorArrived(witness)).code).toBe('UNAUTHORIZED');
      const sentBeforeRevocation = sent.length;
      expect(sentBeforeRevocation).toBeLessThan(30 * BATCH);

      tcpOf(socket).resume();
      const error = await waitFor(
        () => socket.messages.find((message) => message.id === 1 && message.error),
        {
          timeoutMs: 60_000,
          describe: () => ({ received: socket.messages.length, sent: sent.length }),
        },
      );
      expect(error.error?.data?.code).toBe('UNAUTHORIZED');
      const afterRevocation = sent
        .slice(sentBeforeRevocation)
        .map((frame) => JSON.parse(frame) as WireMessage);
      expect(afterRevocation.filter((message) => message.result?.type === 'data')).toEqual([]);
      // The stream ended with the error right after the last event the server had already sent.
      const frames = sent.map((frame) => JSON.parse(frame) as WireMessage);
      const lastData = frames.findLastIndex((message) => message.result?.type === 'data');
      expect(lastData).toBeLessThan(sentBeforeRevocation);
      expect(
        frames.slice(lastData + 1).map((message) => message.error?.data?.code ?? message.result?.type),
      ).toEqual(['UNAUTHORIZED', 'stopped']);
      // What did arrive is an unbroken prefix of the log, far from all of it.
      const seqs = socket.events(1).map((event) => Number(event.id));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
      expect(seqs.length).toBeLessThan(30 * BATCH);
    });
  });

  describe('that never reads again', () => {
    const DRAIN_TIMEOUT = 3_000;
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(
        { WS_SEND_BUFFER_BYTES: String(SEND_BUFFER), WS_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT) },
        await createDb({}),
      );
    });
    afterAll(async () => {
      await server?.server.close();
    });

    it('is disconnected after the drain timeout while the server keeps serving everyone else', async () => {
      const account = await signUp(server.url);
      const writer = device(server.url, account.token);
      const metricId = await createMetric(writer);
      // A well-behaved device of the same account, receiving the same flood.
      const healthy = subscribe(device(server.url, await signIn(server.url, account.email)));
      const readySeq = await ready(healthy);
      // And another account's device, unaffected.
      const stranger = await signUp(server.url);
      const strangerClient = device(server.url, stranger.token);
      const strangerStream = subscribe(strangerClient);
      await ready(strangerStream);

      const { socket, serverSide } = await slowSubscriber(server, await signIn(server.url, account.email));
      tcpOf(socket).pause();
      const sampler = sampleBuffers(server, () => serverSide);
      const ids = await floodUntilBackpressure(writer, metricId, () => serverSide, 300, sampler.max);

      // The server gives up on it: its side of the connection goes away.
      await waitFor(() => ![...server.server.wss.clients].includes(serverSide), {
        timeoutMs: DRAIN_TIMEOUT + 15_000,
        describe: () => ({ buffered: serverSide.bufferedAmount, state: serverSide.readyState }),
      });
      sampler.stop();
      expect(serverSide.readyState).toBe(serverSide.CLOSED);
      expect(server.logs.some((line) => line.msg === 'dropping a subscriber that does not read')).toBe(true);
      expect(sampler.max()).toBeGreaterThan(SEND_BUFFER);
      expect(sampler.max()).toBeLessThanOrEqual(SEND_BUFFER + 4 * 3_000);

      // The client, once it reads again, finds the connection closed (and got only part of the flood).
      tcpOf(socket).resume();
      const closed = await waitFor(() => socket.closed);
      expect(closed.code).toBe(1006);
      expect(socket.events(1).length).toBeLessThan(ids.length + 1);

      // Everyone else was served throughout: the healthy device has the whole flood, in order.
      const changes = await changesArrived(healthy, ids.length, 60_000);
      expect(changes.map((event) => event.id)).toEqual(ids);
      expect(consecutiveSeqs(changes, readySeq + 1)).toBe(true);
      expect(healthy.errors).toEqual([]);
      const strangerMetric = await createMetric(strangerClient);
      const [strangerChange] = await changesArrived(strangerStream, 1);
      expect(strangerChange).toMatchObject({ id: strangerMetric, seq: 1 });
      expect(strangerStream.changes()).toHaveLength(1);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

      // And a new connection of the dropped device resumes from its cursor.
      const lastSeen = socket.events(1).at(-1)!.id;
      const again = subscribe(device(server.url, account.token), { lastEventId: lastSeen });
      const rest = await changesArrived(again, readySeq + ids.length - Number(lastSeen), 60_000);
      expect(rest.at(-1)).toMatchObject({ id: ids.at(-1) });
      expect(consecutiveSeqs(rest, Number(lastSeen) + 1)).toBe(true);
    });
  });
});
