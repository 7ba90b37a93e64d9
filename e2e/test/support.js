import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLifeXPClient } from '@lifexp/client';
import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { startServer } from '@lifexp/server/runtime';
import { vi } from 'vitest';
import WebSocket from 'ws';
export const PASSWORD = 'correct horse battery';
/**
 * Generous limits for files that start servers: the machine may be busy (two cores shared with other
 * suites), and these tests wait by polling, never by measuring time. Call at the top of a test file.
 */
export function allowSlowMachines() {
  vi.setConfig({ testTimeout: 180000, hookTimeout: 180000 });
}
// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Polls `predicate` until it returns true (or a truthy value, which is returned), failing after
 * `timeoutMs` with `describe()` in the message so a failure says what was seen.
 */
export async function waitFor(predicate, options = {}) {
  const timeoutMs = options.timeoutMs ?? 30000;
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (true) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = options.describe ? ` — seen: ${JSON.stringify(options.describe()).slice(0, 2000)}` : '';
      const cause = lastError ? ` — last error: ${String(lastError)}` : '';
      throw new Error(`condition not met within ${timeoutMs} ms${seen}${cause}`);
    }
    await sleep(options.intervalMs ?? 20);
  }
}
/**
 * A real server in this process, in production mode. With `database`, it serves that handle (and
 * closes it on close); otherwise it opens what `env` says (DATA_DIR or DATABASE_URL).
 */
export async function startTestServer(env = {}, database) {
  const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', ...env });
  const { lines, log } = memoryLog();
  const server = await startServer(config, { log, ...(database ? { database } : {}) });
  return { server, url: server.url, logs: lines };
}
/** A TCP port that was free a moment ago (for servers that must come back on the same address). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
const tempDirs = [];
export function tempDir(prefix = 'lifexp-client-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs() {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
const serverDir = fileURLToPath(new URL('../../apps/server/', import.meta.url));
/** Runs the real entry point (`apps/server/src/main.ts`) as its own process, as `pnpm start` does. */
export function spawnServer(env) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = [];
  const stderr = [];
  child.stdout?.on('data', (chunk) => stdout.push(...String(chunk).split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk) => stderr.push(...String(chunk).split('\n').filter(Boolean)));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}
/** The URL of a spawned server once it logged `listening`. */
export async function listening(started, timeoutMs = 120000) {
  return waitFor(
    () => {
      if (started.child.exitCode !== null || started.child.signalCode !== null) {
        throw new Error(`the server exited: ${started.stderr.join('\n')}`);
      }
      for (const line of started.stdout) {
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === 'listening' && parsed.url) return parsed.url;
        } catch {
          // not a log line
        }
      }
      return undefined;
    },
    { timeoutMs, describe: () => ({ stdout: started.stdout, stderr: started.stderr }) },
  );
}
// ---------------------------------------------------------------------------------------------
// Users and devices
// ---------------------------------------------------------------------------------------------
async function callProcedure(url, procedure, input, token) {
  const response = await fetch(`${url}/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  const body = await response.json();
  if (!response.ok || !body.result) {
    throw new Error(`${procedure} failed (${response.status}): ${JSON.stringify(body.error)}`);
  }
  return body.result.data;
}
/** A new account, signed in (its first session's token). */
export async function signUp(url) {
  const email = `sync-${randomUUID()}@example.test`;
  const data = await callProcedure(url, 'users.register', { email, password: PASSWORD });
  return { user: data.user, token: data.token, email };
}
/** Another session of the same account (a second device signing in). */
export async function signIn(url, email) {
  const data = await callProcedure(url, 'users.login', { email, password: PASSWORD });
  return data.token;
}
const openClients = new Set();
/** A device: the app's own client, with fast reconnects. Close them all with `closeDevices()`. */
export function device(url, token, options = {}) {
  const client = createLifeXPClient({
    url,
    token,
    transport: options.transport ?? 'split',
    WebSocket: WebSocket,
    reconnect: { baseMs: 50, maxMs: 500 },
    ...(options.onSocketState ? { onSocketState: options.onSocketState } : {}),
  });
  openClients.add(client);
  return client;
}
export async function closeDevices() {
  const clients = [...openClients];
  openClients.clear();
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
}
/** Subscribes to `sync.changes` and collects what arrives. */
export function subscribe(client, input) {
  const collected = {
    events: [],
    ids: [],
    errors: [],
    started: false,
    completed: false,
    changes: () => collected.events.filter((event) => event.kind === 'change'),
    unsubscribe: () => subscription.unsubscribe(),
  };
  const subscription = client.trpc.sync.changes.subscribe(input, {
    onStarted: () => {
      collected.started = true;
    },
    onData: (tracked) => {
      collected.ids.push(tracked.id);
      // The inferred output type makes `data` optional (unknown after JSON); it is always present.
      collected.events.push(tracked.data);
    },
    onError: (error) => {
      collected.errors.push({ code: error.data?.code, message: error.message });
    },
    onComplete: () => {
      collected.completed = true;
    },
  });
  return collected;
}
/** Waits for the `ready` event of a subscription started without a cursor and returns its seq. */
export async function ready(collected) {
  const event = await waitFor(() => collected.events.find((candidate) => candidate.kind === 'ready'), {
    describe: () => collected,
  });
  return event.seq;
}
/** Waits until the subscription holds at least `count` change events; returns them. */
export async function changesArrived(collected, count, timeoutMs = 60000) {
  await waitFor(() => collected.changes().length >= count, {
    timeoutMs,
    describe: () => ({ changes: collected.changes().length, errors: collected.errors }),
  });
  return collected.changes();
}
/** Waits for an error on the subscription and returns it. */
export async function errorArrived(collected, timeoutMs = 10000) {
  return waitFor(() => collected.errors[0], { timeoutMs, describe: () => collected });
}
/** Asserts seqs are consecutive integers, from `first` (no gaps, no duplicates, in order). */
export function consecutiveSeqs(events, first) {
  return events.every((event, index) => event.seq === first + index);
}
// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------
/** A number metric of the client's user; returns its id. */
export async function createMetric(client, name = `metric ${randomUUID()}`) {
  const metric = await client.trpc.metrics.create.mutate({ name, type: 'number', category: 'custom' });
  return metric.id;
}
/** One entry per call (one change event each), returned in order. */
export async function createEntries(client, metricId, count, options = {}) {
  const created = [];
  for (let index = 0; index < count; index++) {
    created.push(
      await client.trpc.entries.create.mutate({
        metricId,
        value: index,
        date: '2026-03-01',
        ...(options.notes ? { notes: options.notes } : {}),
        clientMutationId: `${options.prefix ?? 'm'}-${index}`,
      }),
    );
  }
  return created;
}
/** `count` entries in one call (one transaction, `count` change events). */
export async function createEntriesAtOnce(client, metricId, count, notes) {
  return client.trpc.entries.createMany.mutate({
    entries: Array.from({ length: count }, (_, index) => ({
      metricId,
      value: index,
      date: '2026-03-01',
      ...(notes ? { notes } : {}),
    })),
  });
}
/**
 * A raw `ws` connection to /trpc, as createWSClient makes it: with a token, the URL carries
 * `connectionParams=1` and the first frame is `{method: 'connectionParams', data: {token}}`.
 */
export async function rawSocket(url, token, options = {}) {
  const withParams = options.connectionParams ?? token !== undefined;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc${withParams ? '?connectionParams=1' : ''}`);
  const raw = {
    ws,
    messages: [],
    other: [],
    closed: null,
    send: (frame) =>
      ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    events: (requestId) =>
      raw.messages
        .filter((message) => message.id === requestId && message.result?.type === 'data')
        .map((message) => message.result.data),
    close: () => ws.terminate(),
  };
  ws.on('message', (data) => {
    const text = String(data);
    try {
      raw.messages.push(JSON.parse(text));
    } catch {
      raw.other.push(text);
    }
  });
  ws.on('close', (code, reason) => {
    raw.closed = { code, reason: String(reason) };
  });
  ws.on('error', () => {
    // Reported through `closed`.
  });
  await new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (withParams && token !== undefined) raw.send({ method: 'connectionParams', data: { token } });
  return raw;
}
/** The request that starts a `sync.changes` subscription over a raw socket. */
export function subscribeFrame(id, input = {}) {
  return { id, method: 'subscription', params: { path: 'sync.changes', input } };
}
