// Benchmark of live sync on PostgreSQL: delivery latency from a write on one device to the change
// event on the user's other device, with 1,000 and 5,000 subscribed sockets on one server instance,
// beside a bare `ws` server that forwards the same payloads (the floor), in the same run; and the
// server's memory per idle subscribed socket, measured in a child process.
//
//   pnpm exec tsx src/sync.ts [--sockets=1000,5000] [--writes=200] [--rate=25] [--writers=250]
//                             [--warmup-writes=30] [--ramp=30] [--memory=0] [--large=20000]
//                             [--connect-budget=90]
//
// Latency: each user has two devices (two sessions, two sockets), so N sockets = N/2 users. Writes
// go to `writers` users spread evenly over them, paced at `rate` per second. t0 = just before
// device A sends entries.create over HTTP (keep-alive fetch); t1 = when device B's socket receives
// the change event carrying that write's clientMutationId. The sockets are raw `ws` clients speaking
// tRPC's WebSocket protocol (connectionParams, then one sync.changes subscription; PING → PONG).
// Clients, the server and the floor share this process (and the machine with PostgreSQL).
//
// Floor: a bare `ws` server (plus node:http for the write) with no database, no auth and no tRPC:
// the POST builds the same change message JSON and sends it to the sockets of the writer's user.
//
// Memory: the real server is started as its own process (`node --import tsx src/main.ts`); after a
// forced GC its VmRSS (/proc/<pid>/status) and heapUsed are read before and after N idle subscribed
// sockets connect; the difference ÷ N is the cost of one socket. The same for the bare server.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMetricInput } from '@lifexp/contracts';
import { createMetric, createSession, type Db, schema } from '@lifexp/db';
import { serialiseOnce, syncEncoder } from '@lifexp/server/runtime';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import WebSocket, { WebSocketServer } from 'ws';
import {
  listFlag,
  machineLine,
  numberFlag,
  percentile,
  ratio,
  round,
  serverEnv,
  sleep,
  startLifeXp,
  withThrowawayDatabase,
} from './support.ts';

const SOCKETS = listFlag('sockets', [1000, 5000]).sort((a, b) => a - b);
/** Measured writes per case. */
const WRITES = numberFlag('writes', 200);
/**
 * Writes per second, open loop (a write is sent when due, whether or not the previous one is done).
 * 25/s keeps a shared 2-core machine clear of saturation; at 50/s a loaded box queues the writes.
 */
const RATE = numberFlag('rate', 25);
/**
 * Seconds over which the Life XP sockets connect, at an even rate. Every subscription re-reads the
 * database 30 s after it started (and then every 30 s) and the keep-alive pings after 30 s idle:
 * with a 30 s ramp, the writes run while those happen at their steady rate of N per 30 s, as on a
 * server whose clients did not all arrive at once. --ramp=0 connects as fast as possible.
 */
const RAMP_SECONDS = numberFlag('ramp', 30);
/** Users that write; spread evenly over the connected users. */
const WRITERS = numberFlag('writers', 250);
const WARMUP_WRITES = numberFlag('warmup-writes', 30);
/** --flood=0 skips the flood-at-the-limits phase; its socket count is --flood-sockets. */
const FLOOD = numberFlag('flood', 1) !== 0;
const FLOOD_SOCKETS = numberFlag('flood-sockets', 1000);
/** The attacker's writes per second (each a createMany of 10 entries) during the flood. */
const FLOOD_WRITE_RATE = numberFlag('flood-write-rate', 5);
/** Sockets of the flooding account (each at every per-socket limit); up to WS_MAX_SOCKETS_PER_ACCOUNT. */
const FLOOD_ATTACKER_SOCKETS = numberFlag('flood-attacker-sockets', 1);
/** --delivery=0 skips the delivery cases against the bare floor (to run the flood phase alone). */
const DELIVERY = numberFlag('delivery', 1) !== 0;
/** --encode=0 skips the serialisation figures (no database, about a second). */
const ENCODE = numberFlag('encode', 1) !== 0;
/** --memory=0 skips the memory phase. */
const MEMORY = numberFlag('memory', 1) !== 0;
/**
 * The large run: this many subscribed sockets on one instance started as its own process (so the
 * client and server ends of the sockets are counted against two processes' open-file limits), with
 * delivery latency and memory per socket measured while they are all connected; the same for the
 * bare floor. Capped a little below this process's open-file limit. --large=0 skips it.
 */
const LARGE = numberFlag('large', 20_000);
const POOL = 20;
const DELIVERY_TIMEOUT_MS = 10_000;
const CONNECT_CONCURRENCY = 100;
const CONNECT_TIMEOUT_MS = 30_000;
/** Upper bound on the time spent connecting one batch of sockets (--connect-budget, seconds). */
const CONNECT_BUDGET_MS = numberFlag('connect-budget', 90) * 1000;
const ENTRY_DATE = '2026-03-01';

const serverDir = fileURLToPath(new URL('../../apps/server/', import.meta.url));
const benchDir = fileURLToPath(new URL('../', import.meta.url));

interface User {
  id: string;
  /** Device A writes (HTTP); device B listens. Both are subscribed. */
  tokenA: string;
  tokenB: string;
  metricId?: string;
}

interface TrpcMessage {
  id?: number | null;
  result?: {
    type?: string;
    data?: { id?: string; data?: { kind?: string; clientMutationId?: string | null } };
  };
  error?: { message?: string };
}

type OnChange = (clientMutationId: string, receivedAt: number) => void;

/**
 * One device: a raw `ws` client speaking tRPC's WebSocket protocol. Resolves once the subscription
 * has sent its first event (`ready`), so the device is known to be live.
 */
function openDevice(wsUrl: string, token: string, onChange?: OnChange): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/trpc?connectionParams=1`, { perMessageDeflate: false });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('no ready event in time')), CONNECT_TIMEOUT_MS);
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'sync.changes', input: {} } }));
    });
    ws.on('message', (raw, isBinary) => {
      const receivedAt = performance.now();
      if (isBinary) return;
      const text = String(raw);
      // tRPC's keep-alive: an unanswered PING closes the socket after pongWaitMs.
      if (text === 'PING') {
        ws.send('PONG');
        return;
      }
      let message: TrpcMessage;
      try {
        message = JSON.parse(text) as TrpcMessage;
      } catch {
        return;
      }
      if (message.error) {
        fail(new Error(message.error.message ?? 'subscription error'));
        return;
      }
      const event = message.result?.type === 'data' ? message.result.data?.data : undefined;
      if (event?.kind === 'ready' && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(ws);
      } else if (event?.kind === 'change' && event.clientMutationId) {
        onChange?.(event.clientMutationId, receivedAt);
      }
    });
    ws.on('error', (error) => fail(error));
    ws.on('close', (code) => fail(new Error(`closed (${code}) before the ready event`)));
  });
}

interface DeviceSpec {
  token: string;
  onChange?: OnChange | undefined;
}

/**
 * Opens the devices, CONNECT_CONCURRENCY handshakes at a time, the i-th no earlier than
 * i × rampMs / count after the start; failures are counted, not fatal.
 */
async function connectAll(
  wsUrl: string,
  specs: DeviceSpec[],
  rampMs = 0,
): Promise<{ sockets: WebSocket[]; failed: number }> {
  const sockets: WebSocket[] = [];
  const problems = new Map<string, number>();
  let next = 0;
  const start = performance.now();
  const deadline = Date.now() + CONNECT_BUDGET_MS;
  const worker = async () => {
    while (next < specs.length && Date.now() < deadline) {
      const index = next++;
      const spec = specs[index]!;
      const wait = start + (index * rampMs) / specs.length - performance.now();
      if (wait > 0) await sleep(wait);
      try {
        sockets.push(await openDevice(wsUrl, spec.token, spec.onChange));
      } catch (error) {
        const message = (error as Error).message;
        problems.set(message, (problems.get(message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, specs.length) }, worker));
  const failed = specs.length - sockets.length;
  if (failed > 0) {
    const why = [...problems].map(([message, count]) => `${count} × ${message}`).join('; ');
    console.log(`  ${failed} of ${specs.length} sockets did not connect (${why || 'connect budget spent'})`);
  }
  return { sockets, failed };
}

function closeAll(sockets: WebSocket[]): void {
  for (const ws of sockets) ws.terminate();
  sockets.length = 0;
}

interface DeliveryFigures {
  sent: number;
  delivered: number;
  httpErrors: number;
  p50: number;
  p99: number;
  max: number;
  httpP50: number;
  httpP99: number;
}

/**
 * Paced writes: write i is sent at start + i / RATE seconds to the writer users in turn; each
 * resolves with its HTTP time and its delivery time at device B (null when lost or late).
 */
async function pacedWrites(
  writeUrl: string,
  writers: User[],
  count: number,
  pending: Map<string, (receivedAt: number) => void>,
): Promise<DeliveryFigures> {
  const tag = randomBytes(4).toString('hex');
  const write = async (i: number) => {
    const user = writers[i % writers.length]!;
    const clientMutationId = `bench-${tag}-${i}`;
    const delivered = new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(clientMutationId);
        resolve(null);
      }, DELIVERY_TIMEOUT_MS);
      pending.set(clientMutationId, (receivedAt) => {
        clearTimeout(timer);
        pending.delete(clientMutationId);
        resolve(receivedAt);
      });
    });
    const body = JSON.stringify({ metricId: user.metricId, value: 3, date: ENTRY_DATE, clientMutationId });
    const t0 = performance.now();
    let ok = false;
    let http = Number.NaN;
    try {
      const response = await fetch(writeUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.tokenA}`, 'content-type': 'application/json' },
        body,
      });
      await response.text();
      http = performance.now() - t0;
      ok = response.ok;
    } catch {
      // counted as an HTTP error below
    }
    const receivedAt = await delivered;
    return { ok, http, delivery: receivedAt === null ? null : receivedAt - t0 };
  };

  const start = performance.now();
  const inFlight: ReturnType<typeof write>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(write(i));
  }
  const results = await Promise.all(inFlight);
  const deliveries = results
    .map((r) => r.delivery)
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
  const http = results
    .filter((r) => r.ok)
    .map((r) => r.http)
    .sort((a, b) => a - b);
  return {
    sent: count,
    delivered: deliveries.length,
    httpErrors: results.filter((r) => !r.ok).length,
    p50: percentile(deliveries, 50),
    p99: percentile(deliveries, 99),
    max: deliveries.at(-1) ?? Number.NaN,
    httpP50: percentile(http, 50),
    httpP99: percentile(http, 99),
  };
}

/** Indexes of the writer users among the `users` behind N sockets (two devices each): spread evenly. */
function writerIndexes(sockets: number): number[] {
  const users = Math.ceil(sockets / 2);
  const count = Math.max(1, Math.min(WRITERS, users));
  const stride = users / count;
  return Array.from({ length: count }, (_, k) => Math.floor(k * stride));
}

/** Connects N devices (A and B of each user; B reports changes), writes, and closes them. */

/**
 * The sockets of a run: two devices per user (the first listens, the second records when a write
 * arrives), the writing users, and the pending deliveries their writes wait for.
 */
function deviceLayout(all: User[], sockets: number) {
  const users = all.slice(0, Math.ceil(sockets / 2));
  const writers = writerIndexes(sockets).map((index) => all[index]!);
  const pending = new Map<string, (receivedAt: number) => void>();
  const onChange: OnChange = (clientMutationId, receivedAt) => pending.get(clientMutationId)?.(receivedAt);
  const specs: DeviceSpec[] = [];
  for (const user of users) {
    specs.push({ token: user.tokenA });
    if (specs.length < sockets) specs.push({ token: user.tokenB, onChange });
  }
  return { writers, pending, specs };
}

async function deliveryCase(
  wsUrl: string,
  writeUrl: string,
  all: User[],
  sockets: number,
  rampMs: number,
  whileConnected?: (connected: number) => Promise<void>,
): Promise<DeliveryFigures & { connected: number; connectSeconds: number }> {
  const { writers, pending, specs } = deviceLayout(all, sockets);
  const connecting = performance.now();
  const { sockets: open } = await connectAll(wsUrl, specs, rampMs);
  const connectSeconds = (performance.now() - connecting) / 1000;
  try {
    const connected = open.length;
    await sleep(1000);
    await whileConnected?.(connected);
    if (WARMUP_WRITES > 0) await pacedWrites(writeUrl, writers, WARMUP_WRITES, pending);
    const figures = await pacedWrites(writeUrl, writers, WRITES, pending);
    return { ...figures, connected, connectSeconds };
  } finally {
    closeAll(open);
    await sleep(500);
  }
}

/**
 * The floor: node:http + `ws`, no database. A socket joins its user's group with its connection
 * token; a POST builds the change message that Life XP would send (tracked envelope, entry object)
 * and sends it to every socket of the writer's user.
 */
export async function startBareSyncServer(
  userOf: (token: string) => string | undefined,
  /** When given, the write is inserted into PostgreSQL (one statement) before it is sent on. */
  store?: postgres.Sql,
): Promise<{ url: string; wsUrl: string; close(): Promise<void> }> {
  const groups = new Map<string, Set<WebSocket>>();
  const seqs = new Map<string, number>();
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const user = userOf(token);
      if (req.method !== 'POST' || !user) {
        res.writeHead(401).end();
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        metricId: string;
        value: number;
        date: string;
        clientMutationId?: string;
      };
      void announce(user, input);
    });
    const announce = async (
      user: string,
      input: { metricId: string; value: number; date: string; clientMutationId?: string },
    ) => {
      const id = randomUUID();
      if (store) {
        try {
          await store`
            insert into entries (id, user_id, metric_id, value, numeric_value, date)
            values (${id}, ${user}, ${input.metricId}, ${JSON.stringify(input.value)}::jsonb, ${input.value}, ${input.date})`;
        } catch {
          res.writeHead(500).end();
          return;
        }
      }
      const now = new Date().toISOString();
      const entry = {
        id,
        metricId: input.metricId,
        value: input.value,
        numericValue: input.value,
        date: input.date,
        time: null,
        notes: null,
        tags: [],
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      const seq = (seqs.get(user) ?? 0) + 1;
      seqs.set(user, seq);
      const event = {
        kind: 'change',
        seq,
        entity: 'entry',
        op: 'upsert',
        id: entry.id,
        data: entry,
        clientMutationId: input.clientMutationId ?? null,
        at: now,
      };
      const message = JSON.stringify({
        id: 1,
        result: { type: 'data', id: String(seq), data: { id: String(seq), data: event } },
      });
      for (const ws of groups.get(user) ?? []) ws.send(message);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ result: { data: entry } }));
    };
  });
  const wss = new WebSocketServer({ server: http, path: '/trpc' });
  wss.on('connection', (ws) => {
    let user: string | undefined;
    ws.on('message', (raw) => {
      let message: { method?: string; data?: { token?: string }; id?: number };
      try {
        message = JSON.parse(String(raw)) as typeof message;
      } catch {
        return; // PONG and the like
      }
      if (message.method === 'connectionParams') {
        user = userOf(message.data?.token ?? '');
        if (!user) ws.close(4001);
      } else if (message.method === 'subscription' && user) {
        const group = groups.get(user) ?? new Set();
        groups.set(user, group);
        group.add(ws);
        const seq = String(seqs.get(user) ?? 0);
        ws.send(JSON.stringify({ id: message.id, result: { type: 'started' } }));
        ws.send(
          JSON.stringify({
            id: message.id,
            result: { type: 'data', id: seq, data: { id: seq, data: { kind: 'ready', seq: Number(seq) } } },
          }),
        );
      }
    });
    ws.on('close', () => {
      if (user) groups.get(user)?.delete(ws);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

interface FloodFigures {
  rest: DeliveryFigures;
  flood: DeliveryFigures;
  attackerSockets: number;
  attackerSubscriptions: number;
  attackerMessages: number;
  attackerEvents: number;
  attackerWrites: number;
  attackerClosed: Record<string, number>;
}

/**
 * Other users' delivery at rest, then while one socket (--flood-attacker-sockets of one account) floods
 * at every per-socket limit: WS_MAX_SUBSCRIPTIONS_PER_SOCKET subscriptions and pings at 90 % of
 * WS_MAX_MESSAGES_PER_SECOND, while its account writes 10 entries at a time at FLOOD_WRITE_RATE/s (each
 * write fans out to every one of its subscriptions).
 */
async function floodCase(
  server: Awaited<ReturnType<typeof startLifeXp>>,
  all: User[],
  attacker: User,
  sockets: number,
): Promise<FloodFigures> {
  const { config } = server.deps;
  const wsUrl = server.url.replace(/^http/, 'ws');
  const writeUrl = `${server.url}/trpc/entries.create`;
  const { writers, pending, specs } = deviceLayout(all, sockets);
  // Connected over the usual ramp, then left to settle: "at rest" is measured on a quiet server.
  const { sockets: open } = await connectAll(wsUrl, specs, RAMP_SECONDS * 1000);
  const attackers: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const counts = { messages: 0, events: 0, writes: 0, closed: {} as Record<string, number> };
  try {
    await sleep(5000);
    await pacedWrites(writeUrl, writers, WARMUP_WRITES, pending);
    const rest = await pacedWrites(writeUrl, writers, WRITES, pending);

    // The attacker, at the limits.
    const subscriptions = config.wsMaxSubscriptionsPerSocket;
    for (let i = 0; i < Math.min(FLOOD_ATTACKER_SOCKETS, config.wsMaxSocketsPerAccount); i++) {
      const ws = new WebSocket(`${wsUrl}/trpc?connectionParams=1`, { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.on('message', () => {
        counts.events += 1;
      });
      ws.on('close', (code) => {
        counts.closed[code] = (counts.closed[code] ?? 0) + 1;
      });
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: attacker.tokenA } }));
      for (let id = 1; id <= subscriptions; id++) {
        ws.send(JSON.stringify({ id, method: 'subscription', params: { path: 'sync.changes', input: {} } }));
      }
      attackers.push(ws);
    }
    const pingEveryMs = 1000 / (0.9 * config.wsMaxMessagesPerSecond);
    let pingId = 1_000_000;
    timers.push(
      setInterval(() => {
        for (const ws of attackers) {
          if (ws.readyState !== WebSocket.OPEN) continue;
          ws.send(JSON.stringify({ id: pingId++, method: 'query', params: { path: 'system.ping' } }));
          counts.messages += 1;
        }
      }, pingEveryMs),
    );
    const createMany = `${server.url}/trpc/entries.createMany`;
    const body = JSON.stringify({
      entries: Array.from({ length: 10 }, (_, k) => ({
        metricId: attacker.metricId,
        value: 1 + (k % 5),
        date: ENTRY_DATE,
      })),
    });
    timers.push(
      setInterval(() => {
        counts.writes += 1;
        fetch(createMany, {
          method: 'POST',
          headers: { authorization: `Bearer ${attacker.tokenA}`, 'content-type': 'application/json' },
          body,
        })
          .then((response) => response.text())
          .catch(() => undefined);
      }, 1000 / FLOOD_WRITE_RATE),
    );
    await sleep(2000);
    const flood = await pacedWrites(writeUrl, writers, WRITES, pending);
    return {
      rest,
      flood,
      attackerSockets: attackers.length,
      attackerSubscriptions: attackers.length * subscriptions,
      attackerMessages: counts.messages,
      attackerEvents: counts.events,
      attackerWrites: counts.writes,
      attackerClosed: counts.closed,
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    closeAll(attackers);
    closeAll(open);
    await sleep(500);
  }
}

/**
 * Users and two sessions each, straight into the database (sign-up's argon2 would take minutes), and
 * a metric for each writer (through the data layer: no insights job is queued for the setup).
 */
async function createUsers(db: Db, count: number, writerIndexes: Set<number>): Promise<User[]> {
  const mood = createMetricInput.parse({ name: 'Mood', type: 'rating', category: 'mood' });
  const tag = randomBytes(3).toString('hex');
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const rows = await db
      .insert(schema.users)
      .values(
        Array.from({ length: Math.min(500, count - start) }, (_, k) => ({
          email: `bench-sync-${tag}-${start + k}@example.com`,
          passwordHash: 'not-a-password-hash',
        })),
      )
      .returning({ id: schema.users.id });
    ids.push(...rows.map((row) => row.id));
  }
  const users: User[] = new Array(ids.length);
  const jobs = ids.map((id, index) => async () => {
    const [a, b] = [await createSession(db, id), await createSession(db, id)];
    const user: User = { id, tokenA: a.token, tokenB: b.token };
    if (writerIndexes.has(index)) user.metricId = (await createMetric(db, id, mood)).id;
    users[index] = user;
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return users;
}

// ---------------------------------------------------------------------------------------------
// Memory, in child processes

const MEMORY_MARK = 'BENCH_MEMORY ';
/** Preloaded into the child: on SIGUSR2, a full GC, then process.memoryUsage() on stderr. */
const MEMORY_PRELOAD = `data:text/javascript,${encodeURIComponent(
  `process.on('SIGUSR2',()=>{globalThis.gc?.();process.stderr.write(${JSON.stringify(MEMORY_MARK)}+JSON.stringify(process.memoryUsage())+'\\n')})`,
)}`;

interface ChildServer {
  child: ChildProcess;
  wsUrl: string;
  /** VmRSS and heapUsed in bytes, after a forced GC. */
  memory(): Promise<{ rss: number; heapUsed: number }>;
  stop(): Promise<void>;
}

async function spawnServer(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', MEMORY_PRELOAD, '--import', 'tsx', ...args],
    {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  const memoryWaiters: ((line: string) => void)[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    let at = stderr.indexOf('\n');
    while (at >= 0) {
      const line = stderr.slice(0, at);
      stderr = stderr.slice(at + 1);
      if (line.startsWith(MEMORY_MARK)) memoryWaiters.shift()?.(line.slice(MEMORY_MARK.length));
      else if (line.trim()) process.stderr.write(`  [child] ${line}\n`);
      at = stderr.indexOf('\n');
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('the child server did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the child server exited (${code})`)));
    child.stdout!.setEncoding('utf8');
    // Read every line (a full pipe would stall the child); the first `listening` line gives the URL.
    child.stdout!.on('data', (chunk: string) => {
      buffer = (buffer + chunk).slice(-65_536);
      for (const line of buffer.split('\n')) {
        if (!line.includes('"listening"')) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === 'listening' && parsed.url) {
            clearTimeout(timer);
            resolve(parsed.url);
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    wsUrl: url.replace(/^http/, 'ws'),
    stop,
    async memory() {
      const line = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no memory report from the child')), 15_000);
        memoryWaiters.push((text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
      child.kill('SIGUSR2');
      const { heapUsed } = JSON.parse(await line) as { heapUsed: number };
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
      return { rss: kib * 1024, heapUsed };
    },
  };
}

interface MemoryRow {
  server: string;
  sockets: number;
  'RSS MiB': number;
  'heapUsed MiB': number;
  'RSS KiB / socket': number | string;
  'heapUsed KiB / socket': number | string;
}

/** Baseline (after a warm-up batch of sockets came and went), then each socket count in turn. */
async function memoryCase(name: string, server: ChildServer, devices: string[]): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const open: WebSocket[] = [];
  const row = (sockets: number, now: { rss: number; heapUsed: number }, base: typeof now): MemoryRow => ({
    server: name,
    sockets,
    'RSS MiB': round(now.rss / 2 ** 20, 1),
    'heapUsed MiB': round(now.heapUsed / 2 ** 20, 1),
    'RSS KiB / socket': sockets ? round((now.rss - base.rss) / 1024 / sockets, 1) : '',
    'heapUsed KiB / socket': sockets ? round((now.heapUsed - base.heapUsed) / 1024 / sockets, 1) : '',
  });
  try {
    const warm = await connectAll(
      server.wsUrl,
      devices.slice(0, 200).map((token) => ({ token })),
    );
    closeAll(warm.sockets);
    await sleep(1500);
    const base = await server.memory();
    rows.push(row(0, base, base));
    for (const target of SOCKETS) {
      const more = await connectAll(
        server.wsUrl,
        devices.slice(open.length, target).map((token) => ({ token })),
      );
      open.push(...more.sockets);
      await sleep(1500);
      rows.push(row(open.length, await server.memory(), base));
    }
  } finally {
    closeAll(open);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

/**
 * `large` subscribed sockets on one instance in its own process, Life XP then the bare floor: the
 * server's memory after a forced GC before they connect and once they all are, then paced writes
 * with delivery latency measured while they stay connected.
 */
async function largeCase(databaseUrl: string, users: User[], large: number): Promise<void> {
  const tokenToUser = new Map<string, string>();
  for (const user of users) {
    tokenToUser.set(user.tokenA, user.id);
    tokenToUser.set(user.tokenB, user.id);
  }
  // Too large for an environment variable: the floor reads the token → user map from a file.
  const usersFile = join(tmpdir(), `lifexp-bench-users-${process.pid}.json`);
  writeFileSync(usersFile, JSON.stringify([...tokenToUser]));
  const rows: Record<string, string | number>[] = [];
  const results: Record<string, DeliveryFigures> = {};
  for (const name of ['Life XP', 'bare ws (floor)'] as const) {
    const child =
      name === 'Life XP'
        ? await spawnServer(['src/main.ts'], serverDir, {
            PATH: process.env.PATH,
            ...serverEnv(databaseUrl, POOL),
            LOG_LEVEL: 'info',
          })
        : await spawnServer([fileURLToPath(import.meta.url), '--serve-bare'], benchDir, {
            PATH: process.env.PATH,
            BENCH_BARE_USERS: usersFile,
          });
    try {
      // A warm-up batch comes and goes first, as in the memory phase.
      const warm = await connectAll(
        child.wsUrl,
        users.slice(0, 100).flatMap((u) => [{ token: u.tokenA }, { token: u.tokenB }]),
      );
      closeAll(warm.sockets);
      await sleep(1500);
      const base = await child.memory();
      let loaded = base;
      const httpUrl = child.wsUrl.replace(/^ws/, 'http');
      const f = await deliveryCase(
        child.wsUrl,
        `${httpUrl}/trpc/entries.create`,
        users,
        large,
        name === 'Life XP' ? RAMP_SECONDS * 1000 : 0,
        async () => {
          await sleep(1500);
          loaded = await child.memory();
        },
      );
      results[name] = f;
      rows.push({
        server: name,
        sockets: f.connected,
        'delivered/sent': `${f.delivered}/${f.sent}`,
        'p50 ms': round(f.p50),
        'p99 ms': round(f.p99),
        'max ms': round(f.max),
        'RSS MiB': round(loaded.rss / 2 ** 20, 1),
        'RSS KiB / socket': round((loaded.rss - base.rss) / 1024 / Math.max(1, f.connected), 1),
        'heapUsed KiB / socket': round(
          (loaded.heapUsed - base.heapUsed) / 1024 / Math.max(1, f.connected),
          1,
        ),
        'connect s': round(f.connectSeconds, 1),
      });
    } finally {
      await child.stop();
    }
    console.log(`  large run, ${name} done (${machineLine()})`);
  }
  rmSync(usersFile, { force: true });
  console.log(`Large run: ${large} subscribed sockets on one instance in its own process:`);
  console.table(rows);
  const lifeXp = results['Life XP'];
  const floor = results['bare ws (floor)'];
  if (lifeXp && floor)
    console.log(
      `Life XP ÷ floor at ${large} sockets: p50 ${ratio(lifeXp.p50, floor.p50)}, p99 ${ratio(lifeXp.p99, floor.p99)}`,
    );
}

function openFileLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * What serialising a change event costs per event, for a user with 2 subscriptions (the delivery
 * cases' two devices) and with every socket and subscription the defaults allow one account
 * (WS_MAX_SOCKETS_PER_ACCOUNT × WS_MAX_SUBSCRIPTIONS_PER_SOCKET = 20 × 8): tRPC's default JSON encoder
 * (one JSON.stringify per message) beside the server's (the event's JSON made once), on the messages
 * tRPC's adapter builds. Each event is a fresh object, so the one serialisation is counted.
 */
function encodeCase(): void {
  const events = 2_000;
  const event = (seq: number) => ({
    kind: 'change' as const,
    seq,
    entity: 'entry',
    op: 'upsert',
    id: randomUUID(),
    data: {
      id: randomUUID(),
      metricId: randomUUID(),
      value: 7.5,
      date: ENTRY_DATE,
      time: '07:30:00',
      note: 'slept well after a long walk',
      version: 1,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      deletedAt: null,
    },
    clientMutationId: randomUUID(),
    at: new Date().toISOString(),
  });
  const message = (subscription: number, data: { seq: number }) => ({
    id: subscription,
    jsonrpc: '2.0',
    result: { type: 'data', data: { id: String(data.seq), data }, id: String(data.seq) },
  });
  const rows: Record<string, string | number>[] = [];
  for (const subscriptions of [2, 160]) {
    const time = (encode: (message: unknown) => unknown, share: boolean) => {
      let bytes = 0;
      const started = performance.now();
      for (let seq = 1; seq <= events; seq++) {
        const data = event(seq);
        if (share) serialiseOnce([data]);
        for (let s = 1; s <= subscriptions; s++) bytes += String(encode(message(s, data))).length;
      }
      return { usPerEvent: ((performance.now() - started) * 1000) / events, bytes };
    };
    // tRPC's default encoder is JSON.stringify of each message.
    const json = (value: unknown) => JSON.stringify(value);
    time(json, false); // warm-up
    time(syncEncoder.encode, true);
    const plain = time(json, false);
    const once = time(syncEncoder.encode, true);
    if (plain.bytes !== once.bytes) throw new Error('the two encoders sent different text');
    rows.push({
      subscriptions,
      'message bytes': Math.round(plain.bytes / events / subscriptions),
      'JSON per message (tRPC default) µs/event': round(plain.usPerEvent, 1),
      'JSON once per event µs/event': round(once.usPerEvent, 1),
      'default ÷ once': ratio(plain.usPerEvent, once.usPerEvent),
    });
  }
  console.log(`serialising one change event for every subscription of its user, ${events} events:`);
  console.table(rows);
}

export async function runSyncBench(): Promise<void> {
  console.log(machineLine());
  if (ENCODE) encodeCase();
  const limit = openFileLimit();
  // Each process holds one end of every socket in the large run, plus its pools, files and listeners.
  const large = Math.min(LARGE, Number.isFinite(limit) ? limit - 600 : LARGE);
  if (large < LARGE)
    console.log(
      `large run: ${large} sockets, not ${LARGE}: the open-file limit of a process here is ${limit}`,
    );
  const maxSockets = Math.max(SOCKETS.at(-1) ?? 0, large);
  // Client and server ends of every socket live in this process during the latency cases.
  const inProcess = SOCKETS.at(-1) ?? 0;
  if (limit < 2 * inProcess + 500) {
    console.log(
      `open-file limit ${limit} is below the ~${2 * inProcess + 500} descriptors that ${inProcess} ` +
        'sockets need here (both ends in one process): expect failed connections; raise `ulimit -n`',
    );
  }
  await withThrowawayDatabase(async (database) => {
    const server = await startLifeXp(database.url, POOL);
    const userCount = Math.ceil(maxSockets / 2);
    const writers = new Set([...SOCKETS, ...(large > 0 ? [large] : [])].flatMap(writerIndexes));
    let users: User[] = [];
    try {
      const started = performance.now();
      users = await createUsers(server.deps.database.db, userCount, writers);
      // Fresh tables: give the planner statistics, as autovacuum would have by now in production.
      await server.deps.database.db.execute(sql`analyze`);
      await sleep(1000);
      console.log(
        `${users.length} users × 2 sessions, ${writers.size} metrics set up in ` +
          `${round((performance.now() - started) / 1000, 1)} s; ${WRITES} writes per case at ${RATE}/s ` +
          `(after ${WARMUP_WRITES} warm-up writes) over up to ${WRITERS} writer users`,
      );

      const figures: Record<string, string | number>[] = [];
      const ratios: Record<string, string | number>[] = [];
      const tokenToUser = new Map<string, string>();
      for (const user of users) {
        tokenToUser.set(user.tokenA, user.id);
        tokenToUser.set(user.tokenB, user.id);
      }
      for (const sockets of DELIVERY ? SOCKETS : []) {
        const lifeXp = await deliveryCase(
          server.url.replace(/^http/, 'ws'),
          `${server.url}/trpc/entries.create`,
          users,
          sockets,
          RAMP_SECONDS * 1000,
        );
        const floorCase = async (store?: postgres.Sql) => {
          const bare = await startBareSyncServer((token) => tokenToUser.get(token), store);
          try {
            // No ramp: the floor has no periodic work that the ramp would spread out.
            return await deliveryCase(bare.wsUrl, `${bare.url}/trpc/entries.create`, users, sockets, 0);
          } finally {
            await bare.close();
          }
        };
        const floor = await floorCase();
        // The floor of a durable write: the same, with the entry inserted (one statement, its own
        // commit) before the change is sent, through a pool as large as the server's.
        const store = postgres(database.url, { max: POOL, onnotice: () => {} });
        let durable: Awaited<ReturnType<typeof deliveryCase>>;
        try {
          durable = await floorCase(store);
        } finally {
          await store.end({ timeout: 5 });
        }
        for (const [name, f] of [
          ['Life XP', lifeXp],
          ['bare ws + insert (durable floor)', durable],
          ['bare ws (floor)', floor],
        ] as const) {
          figures.push({
            sockets: f.connected,
            case: name,
            'delivered/sent': `${f.delivered}/${f.sent}`,
            'p50 ms': round(f.p50),
            'p99 ms': round(f.p99),
            'max ms': round(f.max),
            'HTTP p50 ms': round(f.httpP50),
            'HTTP p99 ms': round(f.httpP99),
            'HTTP errors': f.httpErrors,
            'connect s': round(f.connectSeconds, 1),
          });
        }
        ratios.push({
          sockets,
          'p50 ÷ floor': ratio(lifeXp.p50, floor.p50),
          'p99 ÷ floor': ratio(lifeXp.p99, floor.p99),
          'p50 ÷ durable floor': ratio(lifeXp.p50, durable.p50),
          'p99 ÷ durable floor': ratio(lifeXp.p99, durable.p99),
        });
        console.log(`  ${sockets} sockets done (${machineLine()})`);
      }
      console.log('Delivery latency, write sent on device A → change event received on device B:');
      console.table(figures);
      console.log('Life XP against the bare ws floors (without and with a database write):');
      console.table(ratios);

      if (FLOOD) {
        // The attacker is an account of its own, never one of the measured devices.
        const [attacker] = await createUsers(server.deps.database.db, 1, new Set([0]));
        const floodSockets = Math.min(FLOOD_SOCKETS, users.length * 2);
        const mood = createMetricInput.parse({ name: 'Mood', type: 'rating', category: 'mood' });
        for (const index of writerIndexes(floodSockets)) {
          const writer = users[index]!;
          writer.metricId ??= (await createMetric(server.deps.database.db, writer.id, mood)).id;
        }
        const f = await floodCase(server, users, attacker!, floodSockets);
        console.log(
          `Flood at the limits, beside ${floodSockets} sockets of others: ${f.attackerSockets} socket(s) × ` +
            `${f.attackerSubscriptions / Math.max(1, f.attackerSockets)} subscriptions of one account, ${f.attackerMessages} pings sent, ${f.attackerWrites} writes of 10 entries ` +
            `(${FLOOD_WRITE_RATE}/s), ${f.attackerEvents} messages received by the attacker; closes ${JSON.stringify(f.attackerClosed)}`,
        );
        console.table(
          [
            ['at rest', f.rest],
            ['during the flood', f.flood],
          ].map(([name, d]) => {
            const figures = d as DeliveryFigures;
            return {
              case: name as string,
              'delivered/sent': `${figures.delivered}/${figures.sent}`,
              'p50 ms': round(figures.p50),
              'p99 ms': round(figures.p99),
              'max ms': round(figures.max),
              'HTTP errors': figures.httpErrors,
            };
          }),
        );
        console.log(
          `  others' p99 during the flood ÷ at rest: ${ratio(f.flood.p99, f.rest.p99)} (goal: within 2×)`,
        );
      }
    } finally {
      await sleep(500);
      await server.close();
    }

    if (large > 0) await largeCase(database.url, users, large);
    if (!MEMORY) return;
    const devices = users.flatMap((u) => [u.tokenA, u.tokenB]).slice(0, maxSockets);
    const memoryRows: MemoryRow[] = [];
    const lifeXpChild = await spawnServer(['src/main.ts'], serverDir, {
      PATH: process.env.PATH,
      ...serverEnv(database.url, POOL),
      LOG_LEVEL: 'info',
    });
    try {
      memoryRows.push(...(await memoryCase('Life XP', lifeXpChild, devices)));
    } finally {
      await lifeXpChild.stop();
    }
    const bareChild = await spawnServer([fileURLToPath(import.meta.url), '--serve-bare'], benchDir, {
      PATH: process.env.PATH,
    });
    try {
      memoryRows.push(...(await memoryCase('bare ws', bareChild, devices)));
    } finally {
      await bareChild.stop();
    }
    console.log('Server memory per idle subscribed socket (child process, after a forced GC):');
    console.table(memoryRows);
  });
  console.log(machineLine());
}

/** `--serve-bare`: the floor server alone, as a child process for the memory phase. */
async function serveBare(): Promise<void> {
  // The large run passes the tokens' users, so that a write reaches the writer's other device.
  const file = process.env.BENCH_BARE_USERS;
  const users = new Map<string, string>(
    file ? (JSON.parse(readFileSync(file, 'utf8')) as [string, string][]) : [],
  );
  const bare = await startBareSyncServer((token) => users.get(token) ?? (token || undefined));
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: bare.url })}\n`);
  process.once('SIGTERM', () => {
    bare.close().finally(() => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve-bare')) await serveBare();
  else await runSyncBench();
}
