import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLifeXPClient, type LifeXPClient } from '@lifexp/client';
import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import type { ChangeEvent, SyncEvent } from '@lifexp/contracts';
import type { Database } from '@lifexp/db';
import type { RunningServer, startServer as StartServer } from '@lifexp/server/runtime';
import { vi } from 'vitest';
import WebSocket from 'ws';

export const PASSWORD = 'correct horse battery';

/**
 * Generous limits for files that start servers: the machine may be busy (two cores shared with other
 * suites), and these tests wait by polling, never by measuring time. Call at the top of a test file.
 */
export function allowSlowMachines(): void {
  vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` until it returns true (or a truthy value, which is returned), failing after
 * `timeoutMs` with `describe()` in the message so a failure says what was seen.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
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

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/**
 * The server under test: the built bundle when LIFEXP_SERVER_DIST names its directory (CI builds it
 * first, so the suite exercises what is deployed), otherwise the TypeScript sources.
 */
export const serverDist = process.env.LIFEXP_SERVER_DIST || undefined;

let startServerOnce: Promise<typeof StartServer> | undefined;
function loadStartServer(): Promise<typeof StartServer> {
  startServerOnce ??= serverDist
    ? import(pathToFileURL(join(serverDist, 'runtime.mjs')).href).then(
        (bundle: { startServer: typeof StartServer }) => bundle.startServer,
      )
    : import('@lifexp/server/runtime').then((sources) => sources.startServer);
  return startServerOnce;
}

/** The per-address limits, lifted: every test account and device comes from 127.0.0.1. */
export const ONE_ADDRESS = { REGISTRATIONS_PER_ADDRESS: '100000', WS_MAX_SOCKETS_PER_ADDRESS: '100000' };

export interface TestServer {
  server: RunningServer;
  url: string;
  logs: Record<string, unknown>[];
}

/**
 * A real server in this process, in production mode. With `database`, it serves that handle (and
 * closes it on close); otherwise it opens what `env` says (DATA_DIR or DATABASE_URL).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  database?: Database,
): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    WEB_DIST_DIR: 'none',
    ...ONE_ADDRESS,
    ...env,
  });
  const { lines, log } = memoryLog();
  const startServer = await loadStartServer();
  const server = await startServer(config, { log, ...(database ? { database } : {}) });
  return { server, url: server.url, logs: lines };
}

/** A TCP port that was free a moment ago (for servers that must come back on the same address). */
export async function freePort(): Promise<number> {
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

const tempDirs: string[] = [];
export function tempDir(prefix = 'lifexp-client-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const serverDir = fileURLToPath(new URL('../../apps/server/', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

const spawned = new Set<ServerProcess>();

/**
 * Runs the real entry point as its own process: the bundle (`node dist/main.mjs`, as `pnpm start` and
 * the container do) under LIFEXP_SERVER_DIST, otherwise `src/main.ts` through tsx. Stop them all with
 * `stopServerProcesses()`.
 */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const args = serverDist ? [join(serverDist, 'main.mjs')] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: serverDist ?? serverDir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', ...ONE_ADDRESS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (chunk) => stdout.push(...String(chunk).split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk) => stderr.push(...String(chunk).split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = { child, stdout, stderr, exited };
  spawned.add(started);
  return started;
}

/** Ends every spawned server still running (SIGKILL unless told otherwise) and waits for each to exit. */
export async function stopServerProcesses(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const all = [...spawned];
  spawned.clear();
  for (const started of all) {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill(signal);
  }
  await Promise.all(all.map((started) => started.exited));
}

/** The URL of a spawned server once it logged `listening`. */
export async function listening(started: ServerProcess, timeoutMs = 120_000): Promise<string> {
  return waitFor(
    () => {
      if (started.child.exitCode !== null || started.child.signalCode !== null) {
        throw new Error(`the server exited: ${started.stderr.join('\n')}`);
      }
      for (const line of started.stdout) {
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
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

async function callProcedure(url: string, procedure: string, input: unknown, token?: string) {
  const response = await fetch(`${url}/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: { data: unknown }; error?: unknown };
  if (!response.ok || !body.result) {
    throw new Error(`${procedure} failed (${response.status}): ${JSON.stringify(body.error)}`);
  }
  return body.result.data;
}

export interface Account {
  user: { id: string; email: string };
  email: string;
  token: string;
}

/** A new account, signed in (its first session's token). */
export async function signUp(url: string): Promise<Account> {
  const email = `sync-${randomUUID()}@example.test`;
  const data = (await callProcedure(url, 'users.register', { email, password: PASSWORD })) as {
    user: { id: string; email: string };
    token: string;
  };
  return { user: data.user, token: data.token, email };
}

/** Another session of the same account (a second device signing in). */
export async function signIn(url: string, email: string): Promise<string> {
  const data = (await callProcedure(url, 'users.login', { email, password: PASSWORD })) as { token: string };
  return data.token;
}

const openClients = new Set<LifeXPClient>();

/** A device: the app's own client, with fast reconnects. Close them all with `closeDevices()`. */
export function device(
  url: string,
  token: string | undefined,
  options: {
    transport?: 'split' | 'websocket';
    onSocketState?: (state: 'open' | 'closed' | 'error') => void;
  } = {},
): LifeXPClient {
  const client = createLifeXPClient({
    url,
    token,
    transport: options.transport ?? 'split',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    reconnect: { baseMs: 50, maxMs: 500 },
    ...(options.onSocketState ? { onSocketState: options.onSocketState } : {}),
  });
  openClients.add(client);
  return client;
}

export async function closeDevices(): Promise<void> {
  const clients = [...openClients];
  openClients.clear();
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------

export interface CollectedError {
  code: string | undefined;
  message: string;
}

export interface Collected {
  /** Every event received, in order. */
  events: SyncEvent[];
  /** The tracked id of each event (the seq as a string). */
  ids: string[];
  errors: CollectedError[];
  started: boolean;
  completed: boolean;
  changes(): ChangeEvent[];
  unsubscribe(): void;
}

/** Subscribes to `sync.changes` and collects what arrives. */
export function subscribe(client: LifeXPClient, input?: { lastEventId?: string | null }): Collected {
  const collected: Collected = {
    events: [],
    ids: [],
    errors: [],
    started: false,
    completed: false,
    changes: () => collected.events.filter((event): event is ChangeEvent => event.kind === 'change'),
    unsubscribe: () => subscription.unsubscribe(),
  };
  const subscription = client.trpc.sync.changes.subscribe(input, {
    onStarted: () => {
      collected.started = true;
    },
    onData: (tracked) => {
      collected.ids.push(tracked.id);
      // The inferred output type makes `data` optional (unknown after JSON); it is always present.
      collected.events.push(tracked.data as SyncEvent);
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
export async function ready(collected: Collected): Promise<number> {
  const event = await waitFor(() => collected.events.find((candidate) => candidate.kind === 'ready'), {
    describe: () => collected,
  });
  return event.seq;
}

/** Waits until the subscription holds at least `count` change events; returns them. */
export async function changesArrived(
  collected: Collected,
  count: number,
  timeoutMs = 60_000,
): Promise<ChangeEvent[]> {
  await waitFor(() => collected.changes().length >= count, {
    timeoutMs,
    describe: () => ({ changes: collected.changes().length, errors: collected.errors }),
  });
  return collected.changes();
}

/** Waits for an error on the subscription and returns it. */
export async function errorArrived(collected: Collected, timeoutMs = 10_000): Promise<CollectedError> {
  return waitFor(() => collected.errors[0], { timeoutMs, describe: () => collected });
}

/** Asserts seqs are consecutive integers, from `first` (no gaps, no duplicates, in order). */
export function consecutiveSeqs(events: { seq: number }[], first: number): boolean {
  return events.every((event, index) => event.seq === first + index);
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** A number metric of the client's user; returns its id. */
export async function createMetric(client: LifeXPClient, name = `metric ${randomUUID()}`): Promise<string> {
  const metric = await client.trpc.metrics.create.mutate({ name, type: 'number', category: 'custom' });
  return metric.id;
}

/** One entry per call (one change event each), returned in order. */
export async function createEntries(
  client: LifeXPClient,
  metricId: string,
  count: number,
  options: { notes?: string; prefix?: string } = {},
) {
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
export async function createEntriesAtOnce(
  client: LifeXPClient,
  metricId: string,
  count: number,
  notes?: string,
) {
  return client.trpc.entries.createMany.mutate({
    entries: Array.from({ length: count }, (_, index) => ({
      metricId,
      value: index,
      date: '2026-03-01',
      ...(notes ? { notes } : {}),
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// Speaking tRPC's WebSocket protocol by hand
// ---------------------------------------------------------------------------------------------

/** What tRPC 11 sends over the socket: responses by request id, or `{id: null, error}` for a bad frame. */
export interface WireMessage {
  id: number | string | null;
  result?: { type: 'started' | 'stopped' | 'data'; id?: string; data?: unknown };
  error?: { message: string; code: number; data?: { code?: string } };
  method?: string;
}

export interface RawSocket {
  ws: WebSocket;
  messages: WireMessage[];
  /** Frames that were not JSON (PING). */
  other: string[];
  closed: { code: number; reason: string } | null;
  send(frame: unknown): void;
  /** The subscription's data events (`{id, data}` of tracked events), in order. */
  events(requestId: number): { id: string; data: SyncEvent }[];
  close(): void;
}

/**
 * A raw `ws` connection to /trpc, as createWSClient makes it: with a token, the URL carries
 * `connectionParams=1` and the first frame is `{method: 'connectionParams', data: {token}}`.
 */
export async function rawSocket(url: string, token?: string, options: { connectionParams?: boolean } = {}) {
  const withParams = options.connectionParams ?? token !== undefined;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc${withParams ? '?connectionParams=1' : ''}`);
  const raw: RawSocket = {
    ws,
    messages: [],
    other: [],
    closed: null,
    send: (frame) =>
      ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)),
    events: (requestId) =>
      raw.messages
        .filter((message) => message.id === requestId && message.result?.type === 'data')
        .map((message) => message.result!.data as { id: string; data: SyncEvent }),
    close: () => ws.terminate(),
  };
  ws.on('message', (data) => {
    const text = String(data);
    try {
      raw.messages.push(JSON.parse(text) as WireMessage);
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
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (withParams && token !== undefined) raw.send({ method: 'connectionParams', data: { token } });
  return raw;
}

/** The request that starts a `sync.changes` subscription over a raw socket. */
export function subscribeFrame(id: number, input: Record<string, unknown> = {}) {
  return { id, method: 'subscription', params: { path: 'sync.changes', input } };
}
