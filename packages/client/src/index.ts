import type { AppRouter } from '@lifexp/server';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  splitLink,
  type TRPCClient,
  wsLink,
} from '@trpc/client';

export type { AppRouter };

/** Procedures the server runs only outside a batch. */
const CREDENTIAL_PROCEDURES = new Set([
  'users.register',
  'users.login',
  'users.changePassword',
  'users.deleteAccount',
]);

export interface LifeXPClientOptions {
  /** The server's base URL, e.g. https://api.lifexp.app or http://127.0.0.1:3000. */
  url: string;
  /** A session token: sent as `Authorization: Bearer` over HTTP and as connectionParams over WebSocket.
   * Without it, a browser client relies on the session cookie. */
  token?: string | undefined;
  /** `split` (default): subscriptions over WebSocket, everything else over batched HTTP.
   * `websocket`: everything over the one socket. */
  transport?: 'split' | 'websocket';
  /** A WebSocket implementation: browsers and Node 22+ have one; on Node 20 pass the `ws` package. */
  WebSocket?: typeof globalThis.WebSocket;
  /** Reconnect backoff: the first delay and the cap, in milliseconds (jittered). */
  reconnect?: { baseMs?: number; maxMs?: number };
  /** Called when the socket opens, closes or fails. */
  onSocketState?: (state: 'open' | 'closed' | 'error') => void;
}

export interface LifeXPClient {
  /** The typed tRPC client: `client.trpc.entries.create.mutate(...)`. */
  trpc: TRPCClient<AppRouter>;
  /** Closes the WebSocket (HTTP needs no closing). */
  close(): Promise<void>;
}

/**
 * Exponential backoff with jitter: attempt n waits a random time between half and all of
 * min(max, base · 2ⁿ), so that clients cut off together do not reconnect together.
 */
export function reconnectDelay(attempt: number, baseMs = 250, maxMs = 10_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function createLifeXPClient(options: LifeXPClientOptions): LifeXPClient {
  const base = options.url.replace(/\/+$/, '');
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  if (!WebSocketImpl) throw new Error('no WebSocket implementation: pass one (on Node 20, the `ws` package)');
  const socket = createWSClient({
    url: `${base.replace(/^http/, 'ws')}/trpc`,
    WebSocket: WebSocketImpl,
    connectionParams: options.token ? { token: options.token } : undefined,
    retryDelayMs: (attempt) => reconnectDelay(attempt, options.reconnect?.baseMs, options.reconnect?.maxMs),
    onOpen: () => options.onSocketState?.('open'),
    onClose: () => options.onSocketState?.('closed'),
    onError: () => options.onSocketState?.('error'),
    // Connect when the first operation needs the socket, and let it go when none does.
    lazy: { enabled: true, closeMs: 10_000 },
  });
  const overSocket = wsLink<AppRouter>({ client: socket });
  const httpOptions = {
    url: `${base}/trpc`,
    headers: () => (options.token ? { authorization: `Bearer ${options.token}` } : {}),
    // Browsers send the session cookie only when asked to.
    fetch: (input: string | URL | Request, init?: RequestInit) =>
      fetch(input, { ...init, credentials: 'include' }),
  };
  // The server takes at most MAX_BATCH_SIZE (default 50) calls per batch.
  const overHttpBatched = httpBatchLink<AppRouter>({ ...httpOptions, maxItems: 50 });
  // Credential procedures are refused inside a batch: they go on their own.
  const overHttpAlone = httpLink<AppRouter>(httpOptions);
  const overHttp = splitLink<AppRouter>({
    condition: (op) => CREDENTIAL_PROCEDURES.has(op.path),
    true: overHttpAlone,
    false: overHttpBatched,
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => options.transport === 'websocket' || op.type === 'subscription',
        true: overSocket,
        false: overHttp,
      }),
    ],
  });
  return { trpc, close: () => socket.close() };
}
