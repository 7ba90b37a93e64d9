import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serialiseOnce, syncEncoder } from '../src/sync/encoder';
import { describeServer, signUp } from './support';

/** A change event as the stream sends it; `toJSON` counts how often it is serialised. */
function changeEvent(seq: number) {
  const event = {
    kind: 'change',
    seq,
    entity: 'entry',
    op: 'create',
    id: randomUUID(),
    data: { value: 7.5, note: 'a "quoted" note with \\ and ✓', tags: ['walk'], deletedAt: null },
    clientMutationId: randomUUID(),
    at: '2026-12-06T08:30:00.000Z',
    serialisations: 0,
  };
  return Object.assign(event, {
    toJSON() {
      event.serialisations += 1;
      const { toJSON: _, serialisations: __, ...plain } = event as typeof event & { toJSON: unknown };
      return plain;
    },
  });
}

/** A subscription's data message as tRPC's WebSocket adapter builds it for a tracked event. */
const dataMessage = (subscription: unknown, event: { seq: number }) => ({
  id: subscription,
  jsonrpc: '2.0',
  result: { type: 'data', data: { id: String(event.seq), data: event }, id: String(event.seq) },
});

describe('the sync encoder', () => {
  it('sends the same text as JSON.stringify, serialising a shared event once for every subscription', () => {
    const event = changeEvent(41);
    serialiseOnce([event]);
    const sent = [1, 2, 'device-b', 99].map((subscription) =>
      syncEncoder.encode(dataMessage(subscription, event)),
    );
    expect(event.serialisations).toBe(1);
    for (const [index, subscription] of [1, 2, 'device-b', 99].entries()) {
      expect(sent[index]).toBe(JSON.stringify(dataMessage(subscription, event)));
    }
  });

  it('serialises every other message as before: events not shared, errors, stops, pongs', () => {
    const unshared = changeEvent(42);
    const messages = [
      dataMessage(1, unshared),
      { id: 1, jsonrpc: '2.0', result: { type: 'stopped' } },
      { id: 2, error: { message: 'the session has ended', code: -32001 } },
      { id: 3, result: { type: 'data', data: { id: '5', data: null }, id: '5' } },
      { id: 4, result: { type: 'data', data: 'plain' } },
      'PONG',
      null,
    ];
    const sent = messages.map((message) => syncEncoder.encode(message));
    // Not shared: serialised on every send, as before.
    syncEncoder.encode(messages[0]);
    expect(unshared.serialisations).toBe(2);
    for (const [index, message] of messages.entries()) expect(sent[index]).toBe(JSON.stringify(message));
  });

  it('writes out any subscription id and envelope as JSON.stringify does, and leaves odd shapes to it', () => {
    const event = changeEvent(43);
    serialiseOnce([event]);
    for (const subscription of ['"quoted" \\ ✓ \u2028', '}},"id":1', 0, -1.5, Number.NaN]) {
      const message = dataMessage(subscription, event);
      expect(syncEncoder.encode(message)).toBe(JSON.stringify(message));
    }
    const { jsonrpc: _, ...withoutRpc } = dataMessage(7, event);
    const odd = [
      withoutRpc,
      { ...dataMessage(8, event), jsonrpc: undefined },
      { ...dataMessage(9, event), extra: true },
      { jsonrpc: '2.0', id: 10, result: dataMessage(10, event).result },
      { ...dataMessage(null, event) },
      { ...dataMessage(11, event), result: { type: 'data', id: '43', data: { id: '43', data: event } } },
    ];
    for (const message of odd) expect(syncEncoder.encode(message)).toBe(JSON.stringify(message));
    expect(event.serialisations).toBeGreaterThan(1); // the odd shapes went the plain way
  });

  it('decodes JSON text frames, and refuses binary ones as tRPC’s default does', () => {
    expect(syncEncoder.decode('{"id":1,"method":"subscription"}')).toEqual({ id: 1, method: 'subscription' });
    expect(() => syncEncoder.decode(new Uint8Array([123, 125]))).toThrow(/binary/);
  });
});

/** A raw socket speaking tRPC's WebSocket protocol, keeping every text frame it receives. */
function rawSocket(url: string, token: string, subscriptions: number) {
  const frames: string[] = [];
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  const ready = new Promise<void>((resolve, reject) => {
    let readies = 0;
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      for (let id = 1; id <= subscriptions; id++) {
        ws.send(JSON.stringify({ id, method: 'subscription', params: { path: 'sync.changes', input: {} } }));
      }
    });
    ws.on('message', (raw) => {
      const text = String(raw);
      frames.push(text);
      if (text.includes('"kind":"ready"')) {
        readies += 1;
        if (readies === subscriptions) resolve();
      }
    });
    ws.on('error', reject);
  });
  return { ws, frames, ready };
}

describeServer(
  'one serialisation per change event',
  (ctx) => {
    it('every subscription of every socket of the user gets the event, in the text JSON.stringify gives', async () => {
      const { token, client } = await signUp(ctx().url);
      const sockets = [rawSocket(ctx().url, token, 1), rawSocket(ctx().url, token, 3)];
      await Promise.all(sockets.map((socket) => socket.ready));
      const metric = await client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' });
      const clientMutationId = randomUUID();
      const entry = await client.entries.create.mutate({
        metricId: metric.id,
        value: 4,
        date: '2026-03-01',
        clientMutationId,
      });
      const frames = () =>
        sockets.flatMap((socket) => socket.frames.filter((frame) => frame.includes(clientMutationId)));
      for (let tries = 0; frames().length < 4 && tries < 600; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const received = frames();
      // One frame per subscription: 1 + 3, each exactly once.
      expect(received).toHaveLength(4);
      const messages = received.map(
        (frame) => JSON.parse(frame) as { id: number; result: { data: { data: Record<string, unknown> } } },
      );
      expect(messages.map((message) => message.id).sort()).toEqual([1, 1, 2, 3]);
      for (const [index, message] of messages.entries()) {
        expect(received[index]).toBe(JSON.stringify(message));
        expect(message.result.data.data).toEqual(messages[0]!.result.data.data);
      }
      expect(messages[0]!.result.data.data).toMatchObject({
        kind: 'change',
        entity: 'entry',
        op: 'upsert',
        id: entry.id,
        clientMutationId,
      });
      for (const socket of sockets) socket.ws.close();
    }, 60_000);
  },
  {},
  { listen: true },
);
