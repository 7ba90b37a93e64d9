import { schema } from '@lifexp/db';
import { describeEachDriver } from '@lifexp/db/testing';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  createEntries,
  createMetric,
  device,
  PASSWORD,
  type RawSocket,
  rawSocket,
  ready,
  signIn,
  signUp,
  startTestServer,
  subscribe,
  subscribeFrame,
  type TestServer,
  waitFor,
} from './support';

// Live connections that cannot be abused: subscriptions over HTTP (SSE) end like WebSocket ones, and
// one socket is held to its limits (subscriptions, sockets per account and address, message rate,
// authentication grace) while others keep being served.

allowSlowMachines();

const LIMITS = {
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3',
  WS_MAX_SOCKETS_PER_ACCOUNT: '4',
  WS_MAX_SOCKETS_PER_ADDRESS: '12',
  WS_MAX_MESSAGES_PER_SECOND: '20',
  WS_MESSAGE_BURST: '40',
  WS_AUTH_GRACE_MS: '1000',
  SESSION_RECHECK_MS: '1000',
};

const sockets: RawSocket[] = [];
async function open(url: string, token?: string) {
  const socket = await rawSocket(url, token);
  sockets.push(socket);
  return socket;
}

/** An SSE subscription to sync.changes over plain HTTP, as tRPC's httpSubscriptionLink makes it. */
function sse(url: string, token: string) {
  const controller = new AbortController();
  const stream = {
    status: 0,
    data: [] as { kind: string; seq: number; id?: string }[],
    errors: [] as { code?: string; message?: string }[],
    ended: false,
    close: () => controller.abort(),
  };
  const done = (async () => {
    const response = await fetch(`${url}/trpc/sync.changes?input=${encodeURIComponent('{}')}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    stream.status = response.status;
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!data) continue;
        const parsed = JSON.parse(data) as Record<string, unknown>;
        if (event === 'serialized-error') {
          const error = parsed as { message?: string; data?: { code?: string } };
          stream.errors.push({ code: error.data?.code, message: error.message });
        } else if (event === undefined || event === 'message') {
          stream.data.push(parsed as { kind: string; seq: number });
        }
      }
    }
  })()
    .catch(() => undefined)
    .finally(() => {
      stream.ended = true;
    });
  return { stream, done };
}

describeEachDriver('live connections within their limits', (ctx) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(LIMITS, ctx().database);
  });
  afterAll(async () => {
    await server?.server.close();
  });
  afterEach(async () => {
    await closeDevices();
    for (const socket of sockets.splice(0)) socket.close();
    // Every socket of the test is gone on the server too, before the next test counts its own.
    await waitFor(() => server.server.wss.clients.size === 0, {
      describe: () => server.server.wss.clients.size,
    });
  });

  /** A well-behaved device, subscribed before the attack, must still get the next change after it. */
  async function bystander() {
    const account = await signUp(server.url);
    const client = device(server.url, account.token);
    const metricId = await createMetric(client);
    const stream = subscribe(client);
    await ready(stream);
    return {
      async stillServed() {
        const before = stream.changes().length;
        const [entry] = await createEntries(client, metricId, 1, { prefix: 'bystander' });
        const changes = await changesArrived(stream, before + 1);
        expect(changes.at(-1)).toMatchObject({ id: entry!.id });
        expect(stream.errors).toEqual([]);
      },
    };
  }

  // --- subscriptions over HTTP (SSE) obey the same rules as over WebSocket ---

  async function liveSse() {
    const account = await signUp(server.url);
    const writer = device(server.url, account.token);
    const metricId = await createMetric(writer);
    const token = await signIn(server.url, account.email);
    const { stream, done } = sse(server.url, token);
    await waitFor(() => stream.data.some((event) => event.kind === 'ready'), { describe: () => stream });
    await createEntries(writer, metricId, 1, { prefix: 'before' });
    await waitFor(() => stream.data.some((event) => event.kind === 'change'), { describe: () => stream });
    return { account, writer, metricId, token, stream, done };
  }

  it('ends an SSE subscription with UNAUTHORIZED on logoutAll from another device', async () => {
    const { account, writer, metricId, stream, done } = await liveSse();
    await writer.trpc.users.logoutAll.mutate();
    await waitFor(() => stream.errors.length > 0, { describe: () => stream });
    expect(stream.errors[0]?.code).toBe('UNAUTHORIZED');
    await createEntries(writer, metricId, 2, { prefix: 'after' });
    stream.close();
    await done;
    expect(stream.data.filter((event) => event.kind === 'change')).toHaveLength(1);
    expect(account.user.id).toBeDefined();
  });

  it('ends an SSE subscription on changePassword', async () => {
    const { writer, metricId, stream, done } = await liveSse();
    await writer.trpc.users.changePassword.mutate({
      currentPassword: PASSWORD,
      newPassword: 'another good passphrase',
    });
    await waitFor(() => stream.errors.length > 0, { describe: () => stream });
    expect(stream.errors[0]?.code).toBe('UNAUTHORIZED');
    await createEntries(writer, metricId, 2, { prefix: 'after' });
    stream.close();
    await done;
    expect(stream.data.filter((event) => event.kind === 'change')).toHaveLength(1);
  });

  it('ends an SSE subscription when its session expires', async () => {
    const { writer, metricId, token, stream, done } = await liveSse();
    // 31 idle days: the next periodic re-validation (SESSION_RECHECK_MS) finds the session expired.
    const sessionId = token.split('.')[0]!;
    await ctx()
      .database.db.update(schema.sessions)
      .set({ lastVerifiedAt: new Date(Date.now() - 31 * 86_400_000) })
      .where(eq(schema.sessions.id, sessionId));
    await waitFor(() => stream.errors.length > 0, { describe: () => stream });
    expect(stream.errors[0]?.code).toBe('UNAUTHORIZED');
    await createEntries(writer, metricId, 2, { prefix: 'after' });
    stream.close();
    await done;
    expect(stream.data.filter((event) => event.kind === 'change')).toHaveLength(1);
  });

  it('refuses an SSE subscription of an ended session', async () => {
    const account = await signUp(server.url);
    const token = await signIn(server.url, account.email);
    await device(server.url, token).trpc.users.logout.mutate();
    const { stream, done } = sse(server.url, token);
    await done;
    expect(stream.data).toEqual([]);
    expect(stream.status === 401 || stream.errors[0]?.code === 'UNAUTHORIZED').toBe(true);
  });

  // --- one socket's limits ---

  it('refuses subscriptions over WS_MAX_SUBSCRIPTIONS_PER_SOCKET, and one write is read once for all', async () => {
    const others = await bystander();
    const account = await signUp(server.url);
    const writer = device(server.url, account.token);
    const metricId = await createMetric(writer);
    const socket = await open(server.url, account.token);
    for (let id = 1; id <= 5; id++) socket.send(subscribeFrame(id));
    await waitFor(() => [1, 2, 3].every((id) => socket.events(id).length === 1), {
      describe: () => socket.messages,
    });
    const refused = await waitFor(
      () => {
        const errors = socket.messages.filter(
          (message) => (message.id === 4 || message.id === 5) && message.error,
        );
        return errors.length === 2 ? errors : undefined;
      },
      { describe: () => socket.messages },
    );
    expect(refused.map((message) => message.error?.data?.code)).toEqual([
      'TOO_MANY_REQUESTS',
      'TOO_MANY_REQUESTS',
    ]);
    expect(socket.events(4)).toEqual([]);
    expect(socket.events(5)).toEqual([]);

    // Three more sockets of the account, three subscriptions each: twelve subscribers of one user.
    const more = await Promise.all([1, 2, 3].map(() => open(server.url, account.token)));
    for (const other of more) for (let id = 1; id <= 3; id++) other.send(subscribeFrame(id));
    await waitFor(() => more.every((other) => [1, 2, 3].every((id) => other.events(id).length === 1)), {
      describe: () => more.map((other) => other.messages.length),
    });

    // Count the change-log reads one write costs.
    const hub = server.server.deps.hub;
    const shared = hub.sharedRead.bind(hub);
    let reads = 0;
    hub.sharedRead = (userId, key, load) =>
      shared(userId, key, () => {
        if (userId === account.user.id) reads += 1;
        return load();
      });
    try {
      await createEntries(writer, metricId, 1, { prefix: 'fan-out' });
      const all = [socket, ...more];
      await waitFor(() => all.every((s) => [1, 2, 3].every((id) => s.events(id).length === 2)), {
        describe: () => all.map((s) => s.messages.length),
      });
      // Exactly once per subscription, and one read (a second if a subscription was between reads).
      for (const s of all) for (const id of [1, 2, 3]) expect(s.events(id)[1]?.data.kind).toBe('change');
      expect(reads).toBeLessThanOrEqual(2);
    } finally {
      hub.sharedRead = shared;
    }
    await others.stillServed();
  });

  it('closes the socket over WS_MAX_SOCKETS_PER_ACCOUNT with 4430', async () => {
    const account = await signUp(server.url);
    const first = await Promise.all([1, 2, 3, 4].map(() => open(server.url, account.token)));
    for (const socket of first) socket.send(subscribeFrame(1));
    await waitFor(() => first.every((socket) => socket.events(1).length === 1));
    const extra = await open(server.url, account.token);
    await waitFor(() => extra.closed, { describe: () => extra.messages });
    expect(extra.closed?.code).toBe(4430);
    expect(extra.messages.find((message) => message.error)?.error?.data?.code).toBe('TOO_MANY_REQUESTS');
    // The account's other sockets are untouched.
    expect(first.every((socket) => socket.closed === null)).toBe(true);
  });

  it('refuses the upgrade over WS_MAX_SOCKETS_PER_ADDRESS with 429', async () => {
    const accounts = await Promise.all([1, 2, 3].map(() => signUp(server.url)));
    // 12 sockets from 127.0.0.1, four per account (the account limit).
    for (const account of accounts) for (let i = 0; i < 4; i++) await open(server.url, account.token);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.on('error', () => {});
    });
    expect(status).toBe(429);
  });

  it('closes a socket that floods messages with 4429, answering no more than the burst', async () => {
    const others = await bystander();
    const account = await signUp(server.url);
    const socket = await open(server.url, account.token);
    for (let i = 0; i < 2000; i++) {
      socket.send({ id: 1000 + i, method: 'query', params: { path: 'system.ping' } });
    }
    await waitFor(() => socket.closed, { describe: () => socket.messages.length });
    expect(socket.closed?.code).toBe(4429);
    // connectionParams took one token of the burst; the rest were answered, nothing beyond.
    const answered = socket.messages.filter(
      (message) => typeof message.id === 'number' && message.id >= 1000,
    );
    expect(answered.length).toBeLessThanOrEqual(40);
    await others.stillServed();
  });

  it('closes an unauthenticated flood with 4429 too', async () => {
    const socket = await open(server.url);
    for (let i = 0; i < 2000; i++)
      socket.send({ id: i + 1, method: 'query', params: { path: 'system.ping' } });
    await waitFor(() => socket.closed, { describe: () => socket.messages.length });
    expect(socket.closed?.code).toBe(4429);
    expect(socket.messages.length).toBeLessThanOrEqual(40);
  });

  it('closes a socket that never authenticates after WS_AUTH_GRACE_MS with 4401', async () => {
    const others = await bystander();
    const silent = await open(server.url);
    const bogus = await open(server.url, 'not-a-real-token.at-all');
    await waitFor(() => silent.closed && bogus.closed, {
      describe: () => [silent.closed, bogus.closed],
    });
    expect(silent.closed?.code).toBe(4401);
    expect(bogus.closed?.code).toBe(4401);
    await others.stillServed();
  });
});
