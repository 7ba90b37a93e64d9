import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { describeEachDriver, type TestDatabase } from '@lifexp/db/testing';
import { createTRPCClient, createWSClient, httpBatchLink, wsLink } from '@trpc/client';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { AppDeps } from '../src/deps';
import { createServerCore, type ServerCore, startServer } from '../src/server';
import type { AppRouter } from '../src/trpc/router';

export interface TestServer {
  /** The running server: its dependencies (and, when listening, its sockets). */
  server: { deps: AppDeps };
  database: TestDatabase;
  /** Where requests go: a listening server's address, or the in-process application's own origin. */
  url: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
}

/** In-process applications by origin: requests to them are answered by `app.request()`, no socket. */
const inProcess = new Map<string, ServerCore['app']>();
let inProcessCount = 0;

/**
 * `fetch`, except that a URL of an in-process application is answered by that application directly,
 * as if from a client at 127.0.0.1. Test helpers and tests send every plain HTTP request through it.
 */
export const send: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const app = inProcess.get(new URL(request.url).origin);
  if (!app) return fetch(request);
  // A client on the network sends the Host it connected to; Request objects leave it to the transport.
  if (!request.headers.has('host')) request.headers.set('host', new URL(request.url).host);
  const incoming = {
    headers: Object.fromEntries(request.headers),
    socket: { remoteAddress: '127.0.0.1' },
  };
  return app.request(request, undefined, { incoming });
};

/**
 * Declares a suite once per database driver, each with a server in production mode over a fresh
 * database. Plain request handling is served in-process through `app.request()`; `listen: true` puts
 * the server on an ephemeral port, for suites that need a socket (WebSocket, processes, restarts).
 */
export function describeServer(
  title: string,
  body: (ctx: () => TestServer) => void,
  env: Record<string, string> = {},
  options: { listen?: boolean } = {},
): void {
  describeEachDriver(title, (database) => {
    let current: TestServer | undefined;
    let stop: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      // Every test account comes from 127.0.0.1: registrations per address are lifted unless a suite sets them.
      const config = loadConfig({
        NODE_ENV: 'production',
        PORT: '0',
        REGISTRATIONS_PER_ADDRESS: '100000',
        // The API alone, whether or not this checkout has a dashboard build (web.test.ts sets one).
        WEB_DIST_DIR: 'none',
        ...env,
      });
      const { lines, log } = memoryLog();
      if (options.listen) {
        const server = await startServer(config, { log, database: database().database });
        stop = () => server.close();
        current = { server, database: database(), url: server.url, logs: lines };
        return;
      }
      const core = await createServerCore(config, { log, database: database().database });
      inProcessCount += 1;
      // A loopback origin, as the default ALLOWED_HOSTS expects; no socket listens on it.
      const url = `http://127.0.0.1:${64_000 + inProcessCount}`;
      inProcess.set(url, core.app);
      stop = async () => {
        inProcess.delete(url);
        await core.stop();
      };
      current = { server: core, database: database(), url, logs: lines };
    });
    afterAll(async () => {
      await stop?.();
    });
    body(() => {
      if (!current) throw new Error('the test server is not running yet');
      return current;
    });
  });
}

export function httpClient(url: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/trpc`, headers, fetch: send })],
  });
}

export function wsClient(url: string, connectionParams?: { token: string }) {
  const socket = createWSClient({
    url: `${url.replace(/^http/, 'ws')}/trpc`,
    ...(connectionParams ? { connectionParams } : {}),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    retryDelayMs: () => 100,
  });
  return { socket, client: createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] }) };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  /** The procedure's data on success. */
  data: unknown;
  /** The tRPC error on failure. */
  error:
    | { message: string; data: { code: string; httpStatus: number; details?: unknown; zodError?: unknown } }
    | undefined;
  text: string;
}

/**
 * One tRPC call as a browser or script makes it, over plain fetch, so a test can set any header and
 * read any response header (Set-Cookie, Retry-After).
 */
export async function call(
  url: string,
  procedure: string,
  input?: unknown,
  options: { type?: 'query' | 'mutation'; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const type = options.type ?? 'mutation';
  const target =
    type === 'query'
      ? `${url}/trpc/${procedure}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
      : `${url}/trpc/${procedure}`;
  const response = await send(target, {
    method: type === 'query' ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(type === 'mutation' ? { body: JSON.stringify(input ?? null) } : {}),
  });
  const text = await response.text();
  const body = JSON.parse(text) as { result?: { data: unknown }; error?: RawResponse['error'] };
  return {
    status: response.status,
    headers: response.headers,
    data: body.result?.data,
    error: body.error,
    text,
  };
}

let accounts = 0;
/** A new account, signed in: a typed tRPC client over HTTP with its bearer token. */
export async function signUp(url: string) {
  accounts += 1;
  const email = `person-${accounts}-${Math.random().toString(36).slice(2)}@example.test`;
  const response = await call(url, 'users.register', { email, password: 'correct horse battery' });
  if (!response.data) throw new Error(`sign-up failed: ${response.status} ${response.text}`);
  const { user, token } = response.data as {
    user: { id: string; email: string; timezone: string };
    token: string;
  };
  return { user, token, email, client: httpClient(url, { authorization: `Bearer ${token}` }) };
}

/** The tRPC error code of a rejected call (throws if the call succeeded). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    const data = (error as { data?: { code: string; details?: unknown } }).data;
    return {
      code: data?.code ?? 'UNKNOWN',
      message: (error as Error).message,
      details: data?.details ?? null,
    };
  }
  throw new Error('expected the call to fail');
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
