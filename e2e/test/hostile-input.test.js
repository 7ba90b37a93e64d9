import { describeEachDriver } from '@lifexp/db/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  createEntries,
  createMetric,
  device,
  errorArrived,
  rawSocket,
  ready,
  signUp,
  startTestServer,
  subscribe,
  subscribeFrame,
  waitFor,
} from './support';

allowSlowMachines();
const MAX_PAYLOAD = 4096;
const sockets = [];
afterEach(async () => {
  await closeDevices();
  for (const socket of sockets.splice(0)) socket.close();
});
async function open(url, token, options = {}) {
  const socket = await rawSocket(url, token, options);
  sockets.push(socket);
  return socket;
}
/** The tRPC error code of the response to request `id` (null: a frame that could not be read). */
async function errorCodeFor(socket, id, after = 0) {
  const message = await waitFor(
    () => socket.messages.slice(after).find((candidate) => candidate.id === id && candidate.error),
    { describe: () => socket.messages },
  );
  return message.error?.data?.code;
}
describeEachDriver('hostile and malformed input over the socket', (ctx) => {
  let server;
  beforeAll(async () => {
    server = await startTestServer({ WS_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) }, ctx().database);
  });
  afterAll(async () => {
    await server?.server.close();
  });
  /** A well-behaved device, subscribed before the attack, must still get the next change after it. */
  async function bystander() {
    const account = await signUp(server.url);
    const client = device(server.url, account.token);
    const metricId = await createMetric(client);
    const stream = subscribe(client);
    await ready(stream);
    return {
      stream,
      async stillServed() {
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        const before = stream.changes().length;
        const [entry] = await createEntries(client, metricId, 1, { prefix: 'bystander' });
        const changes = await changesArrived(stream, before + 1);
        expect(changes.at(-1)).toMatchObject({ id: entry.id });
        expect(stream.errors).toEqual([]);
      },
    };
  }
  it('answers garbage frames with errors, keeps the connection usable, and keeps serving others', async () => {
    const others = await bystander();
    const account = await signUp(server.url);
    const socket = await open(server.url, account.token);
    socket.send('this is not JSON {');
    expect(await errorCodeFor(socket, null)).toBe('PARSE_ERROR');
    const frames = [
      { foo: 1 },
      'null',
      '[1, 2, 3]',
      '"just a string"',
      { id: 1, method: 'fly', params: { path: 'sync.changes' } },
      { id: 1, method: 'subscription', params: null },
      { id: 1, method: 'subscription', params: { path: 42 } },
      { id: { nested: true }, method: 'query', params: { path: 'users.profile' } },
      { id: 1, method: 'subscription', params: { path: 'sync.changes', input: {}, lastEventId: 7 } },
      Buffer.from([0xff, 0x00, 0x13, 0x37]),
    ];
    for (const frame of frames) {
      const seen = socket.messages.length;
      socket.send(frame);
      expect(await errorCodeFor(socket, null, seen)).toBe('PARSE_ERROR');
    }
    // Well-formed frames asking for nonsense get an error for their own request id.
    let seen = socket.messages.length;
    socket.send({ id: 2, method: 'query', params: { path: 'no.such.procedure' } });
    expect(await errorCodeFor(socket, 2, seen)).toBe('NOT_FOUND');
    seen = socket.messages.length;
    socket.send(subscribeFrame(3, { lastEventId: '1', extra: 'field' }));
    expect(await errorCodeFor(socket, 3, seen)).toBe('BAD_REQUEST');
    seen = socket.messages.length;
    socket.send({ id: 4, method: 'subscription', params: { path: 'users.profile', input: null } });
    expect(await errorCodeFor(socket, 4, seen)).toBeDefined();
    // The connection survived all of it and still works.
    expect(socket.closed).toBeNull();
    socket.send(subscribeFrame(5));
    await waitFor(() => socket.events(5).length === 1, { describe: () => socket.messages });
    expect(socket.events(5)[0]).toEqual({ id: '0', data: { kind: 'ready', seq: 0 } });
    await others.stillServed();
  });
  it('refuses a garbage connectionParams frame with an error and closes that connection', async () => {
    const others = await bystander();
    for (const frame of ['not json', '[]', '{"method":"connectionParams","data":{"token":{"x":1}}}']) {
      const socket = await open(server.url, undefined, { connectionParams: true });
      socket.send(frame);
      await waitFor(() => socket.closed, { describe: () => socket.messages });
      expect(socket.messages.find((message) => message.error)?.error?.data?.code).toBe('PARSE_ERROR');
    }
    await others.stillServed();
  });
  it('closes a connection that sends a frame over WS_MAX_PAYLOAD_BYTES, and nobody else notices', async () => {
    const others = await bystander();
    const account = await signUp(server.url);
    const before = new Set(server.server.wss.clients);
    const socket = await open(server.url, account.token);
    socket.send(subscribeFrame(1));
    await waitFor(() => socket.events(1).length === 1);
    const serverSide = [...server.server.wss.clients].find((client) => !before.has(client));
    expect(serverSide).toBeDefined();
    socket.send(subscribeFrame(2, { lastEventId: '0', padding: 'x'.repeat(MAX_PAYLOAD * 2) }));
    const closed = await waitFor(() => socket.closed, { describe: () => socket.messages });
    expect(closed.code).toBe(1009); // Message Too Big
    // The server's side of that connection is gone.
    await waitFor(() => ![...server.server.wss.clients].includes(serverSide));
    expect(serverSide.readyState).toBe(serverSide.CLOSED);
    // An oversized first frame (the connectionParams) is refused the same way.
    const early = await open(server.url, undefined, { connectionParams: true });
    early.send({ method: 'connectionParams', data: { token: 'y'.repeat(MAX_PAYLOAD + 1) } });
    expect((await waitFor(() => early.closed)).code).toBe(1009);
    await others.stillServed();
  });
  it('refuses forged cursors with BAD_REQUEST', async () => {
    const account = await signUp(server.url);
    const client = device(server.url, account.token);
    await createMetric(client);
    const forged = ['-1', 'abc', '1.5', '1e3', ' 1', '', '0x10', '99999999999999999999', '9'.repeat(21)];
    const streams = forged.map((lastEventId) => subscribe(client, { lastEventId }));
    for (const [index, stream] of streams.entries()) {
      const error = await errorArrived(stream);
      expect(error.code, `lastEventId ${JSON.stringify(forged[index])}`).toBe('BAD_REQUEST');
      expect(stream.events).toEqual([]);
    }
    // The same over a raw socket, where the cursor comes as tRPC's own lastEventId parameter.
    const socket = await open(server.url, account.token);
    socket.send({
      id: 1,
      method: 'subscription',
      params: { path: 'sync.changes', input: {}, lastEventId: '-1' },
    });
    expect(await errorCodeFor(socket, 1)).toBe('BAD_REQUEST');
    socket.send(subscribeFrame(2, { lastEventId: 5 }));
    expect(await errorCodeFor(socket, 2)).toBe('BAD_REQUEST');
    expect(socket.events(1)).toEqual([]);
    expect(socket.events(2)).toEqual([]);
  });
  it('answers a cursor from the future with one cursor-ahead resync, then streams live', async () => {
    const account = await signUp(server.url);
    const client = device(server.url, account.token);
    const metricId = await createMetric(client);
    await createEntries(client, metricId, 2);
    const stream = subscribe(client, { lastEventId: '99999999999' });
    await waitFor(() => stream.events.length === 1, { describe: () => stream });
    expect(stream.events).toEqual([{ kind: 'resync', seq: 3, reason: 'cursor-ahead' }]);
    expect(stream.ids).toEqual(['3']);
    const [entry] = await createEntries(client, metricId, 1, { prefix: 'live' });
    await changesArrived(stream, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.events).toEqual([
      { kind: 'resync', seq: 3, reason: 'cursor-ahead' },
      expect.objectContaining({ kind: 'change', seq: 4, id: entry.id }),
    ]);
    expect(stream.errors).toEqual([]);
  });
  it('never yields another user’s events, whatever cursor is given', async () => {
    const victim = await signUp(server.url);
    const attacker = await signUp(server.url);
    const victimClient = device(server.url, victim.token);
    const attackerClient = device(server.url, attacker.token);
    const victimMetric = await createMetric(victimClient);
    const victimEntries = await createEntries(victimClient, victimMetric, 30, { prefix: 'secret' });
    const attackerMetric = await createMetric(attackerClient);
    const attackerEntries = await createEntries(attackerClient, attackerMetric, 2);
    const attackerIds = [attackerMetric, ...attackerEntries.map((entry) => entry.id)];
    const victimIds = new Set([victimMetric, ...victimEntries.map((entry) => entry.id)]);
    // Cursors inside the victim's range (which goes up to 31) but beyond the attacker's (3).
    const fromStart = subscribe(attackerClient, { lastEventId: '0' });
    const fromOne = subscribe(attackerClient, { lastEventId: '1' });
    const inVictimRange = subscribe(attackerClient, { lastEventId: '20' });
    await changesArrived(fromStart, 3);
    await changesArrived(fromOne, 2);
    await waitFor(() => inVictimRange.events.length === 1);
    expect(fromStart.changes().map((event) => event.id)).toEqual(attackerIds);
    expect(fromOne.changes().map((event) => event.id)).toEqual(attackerIds.slice(1));
    expect(inVictimRange.events).toEqual([{ kind: 'resync', seq: 3, reason: 'cursor-ahead' }]);
    // Over pull too.
    const pulled = await attackerClient.trpc.sync.pull.query({ after: 0, limit: 1000 });
    expect(pulled.events.map((event) => event.id)).toEqual(attackerIds);
    expect(pulled.latest).toBe(3);
    expect(await attackerClient.trpc.sync.pull.query({ after: 20 })).toMatchObject({
      events: [],
      resync: { seq: 3, reason: 'cursor-ahead' },
    });
    // Live: the victim keeps writing, the attacker's streams see only the attacker's own write.
    await createEntries(victimClient, victimMetric, 5, { prefix: 'more-secret' });
    const [own] = await createEntries(attackerClient, attackerMetric, 1, { prefix: 'own' });
    await changesArrived(fromStart, 4);
    await changesArrived(inVictimRange, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const stream of [fromStart, fromOne, inVictimRange]) {
      for (const event of stream.changes()) expect(victimIds.has(event.id)).toBe(false);
      expect(stream.changes().at(-1)).toMatchObject({ seq: 4, id: own.id });
      expect(JSON.stringify(stream.events)).not.toContain('secret');
    }
  });
  it('refuses to subscribe without a valid session', async () => {
    const anonymous = subscribe(device(server.url, undefined));
    expect((await errorArrived(anonymous)).code).toBe('UNAUTHORIZED');
    const bogus = subscribe(device(server.url, 'not-a-real-token.at-all'));
    expect((await errorArrived(bogus)).code).toBe('UNAUTHORIZED');
    expect(anonymous.events).toEqual([]);
    expect(bogus.events).toEqual([]);
    // A raw socket without connectionParams (and without a cookie) is anonymous too.
    const socket = await open(server.url);
    socket.send(subscribeFrame(1));
    expect(await errorCodeFor(socket, 1)).toBe('UNAUTHORIZED');
    expect(socket.events(1)).toEqual([]);
  });
});
