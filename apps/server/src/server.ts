import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { type Config, createKeyedBuckets, createLogger, type Logger } from '@lifexp/config';
import { createDb, type Database } from '@lifexp/db';
import { createAnalyticsService } from '@lifexp/insights';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { startAdminSocket } from './admin';
import { createApp, logProcedureError, type ServerState } from './app';
import { clientAddress, headerValue } from './auth/address';
import type { AppDeps } from './deps';
import { safeError } from './errorLog';
import { carriesSessionCookie, crossSiteRefused, hostAllowed } from './http/origin';
import { type Jobs, runsJobs, startJobs } from './jobs';
import { startMaintenance } from './maintenance';
import { createMetrics } from './metrics';
import { type NotificationsService, startNotifications } from './notifications';
import { syncEncoder } from './sync/encoder';
import { authenticatedSockets, CLOSE_CODES, type SyncHub, startSyncHub } from './sync/hub';
import { createContext } from './trpc/context';
import { appRouter } from './trpc/router';

export interface RunningServer {
  url: string;
  port: number;
  deps: AppDeps;
  /** The WebSocket server, for observability (connected clients, their send buffers). */
  wss: WebSocketServer;
  /** Graceful shutdown: stop accepting, ask WebSocket clients to reconnect, finish in-flight work, close the database. */
  close(): Promise<void>;
}

/** The port could not be opened; the message is one line. */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** The server without a socket: its dependencies, running jobs, and the HTTP application. */
export interface ServerCore {
  deps: AppDeps;
  state: ServerState;
  app: ReturnType<typeof createApp>;
  /** Stops the jobs, the analytics workers and the sync hub, and closes the database. */
  stop(): Promise<void>;
}

/**
 * Opens the database (applying migrations), starts the sync hub, the analytics workers and the job
 * queue, and builds the HTTP application. `startServer` puts it on a port; tests of plain request
 * handling call `app.request()` on it directly.
 */
export async function createServerCore(
  config: Config,
  options: { log?: Logger; database?: Database } = {},
): Promise<ServerCore> {
  const log = options.log ?? createLogger(config);
  const database =
    options.database ??
    (await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax }));
  let hub: SyncHub;
  let jobs: Jobs;
  let notifications: NotificationsService;
  const analytics = createAnalyticsService(config, database, log);
  try {
    hub = await startSyncHub(database, log, {
      sessionRecheckMs: config.sessionRecheckMs,
      sessionCacheMs: config.sessionCacheMs,
      sessionCacheEntries: config.sessionCacheEntries,
    });
    jobs = await startJobs(config, database, analytics, log);
    // A web process only queues notices' jobs; the scheduler and the deliveries run where jobs run.
    notifications = await startNotifications(config, database, jobs, log, {
      scheduler: runsJobs(config.role),
    });
    jobs.onRecomputed((userId, setId) => notifications.afterRecompute(userId, setId));
  } catch (error) {
    await analytics.close();
    await database.close();
    throw error;
  }
  const metrics = config.metricsToken ? createMetrics(config.role) : null;
  const accountCalls = createKeyedBuckets({
    perSecond: config.apiAccountCallsPerSecond,
    capacity: config.apiAccountCallsBurst,
  });
  const deps: AppDeps = { config, database, log, hub, analytics, jobs, notifications, accountCalls, metrics };
  // Backups of an embedded database this server opened itself (not a handle it was given).
  const admin =
    !options.database && !config.databaseUrl
      ? await startAdminSocket(database, config.dataDir, log).catch((error: unknown) => {
          log.warn({ error: safeError(error) }, 'the backup socket could not be opened');
          return undefined;
        })
      : undefined;
  const state: ServerState = { shuttingDown: false };
  return {
    deps,
    state,
    app: createApp(deps, state),
    async stop() {
      metrics?.stop();
      await admin?.close();
      await notifications.stop();
      await jobs.stop();
      await analytics.close();
      await hub.close();
      await database.close();
    },
  };
}

export async function startServer(
  config: Config,
  options: { log?: Logger; database?: Database } = {},
): Promise<RunningServer> {
  // Migrations are applied here, before the port opens.
  const core = await createServerCore(config, options);
  const { deps, state, app } = core;
  const { log } = deps;

  const httpServer = createAdaptorServer({ fetch: app.fetch }) as Server;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.wsMaxPayloadBytes });
  deps.metrics?.bind({ sockets: () => wss.clients.size, jobs: deps.jobs, analytics: deps.analytics });
  const socketsByAddress = new Map<string, number>();
  // Registered before tRPC's handler, so the limits see every socket (and every message) first.
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const address = clientAddress(req, config.trustProxy);
    socketsByAddress.set(address, (socketsByAddress.get(address) ?? 0) + 1);
    limitMessageRate(ws, config, log);
    const grace = setTimeout(() => {
      if (!authenticatedSockets.has(ws)) ws.close(CLOSE_CODES.authenticationTimeout, 'not authenticated');
    }, config.wsAuthGraceMs);
    ws.once('close', () => {
      clearTimeout(grace);
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsByAddress.set(address, left);
      else socketsByAddress.delete(address);
    });
  });
  const wsHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }) =>
      createContext(deps, 'ws', `ws-${randomUUID()}`, {
        socket: res,
        headers: { get: (name) => headerValue(req.headers[name]) },
        clientAddress: clientAddress(req, config.trustProxy),
        resHeaders: null,
        connectionToken:
          typeof info.connectionParams?.token === 'string' ? info.connectionParams.token : undefined,
      }),
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    // A change event's JSON is made once for every socket of its user (see sync/encoder.ts).
    experimental_encoder: syncEncoder,
    onError: ({ error, path, ctx }) => logProcedureError(deps, error, path, ctx?.requestId),
  });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal =
      upgradeRefusal(req, config, state) ??
      ((socketsByAddress.get(clientAddress(req, config.trustProxy)) ?? 0) >= config.wsMaxSocketsPerAddress
        ? '429 Too Many Requests'
        : undefined);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await core.stop();
    const code = (error as NodeJS.ErrnoException).code;
    throw new ListenError(
      `cannot listen on ${config.host}:${config.port}: ${code ?? (error as Error).message}`,
    );
  }
  // Housekeeping runs where the jobs run (idempotent, so several workers may run it).
  const maintenance = runsJobs(config.role) ? startMaintenance(deps) : { stop() {} };
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, driver: deps.database.driver, env: config.env, role: config.role }, 'listening');

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    state.shuttingDown = true;
    maintenance.stop();
    const deadline = Date.now() + config.shutdownTimeoutMs;
    log.info('shutting down');
    // Clients reconnect (to this address once it is back, or to another instance).
    wsHandler.broadcastReconnectNotification();
    for (const client of wss.clients) client.close(1012, 'server restarting');
    const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    // In-flight requests finish; idle keep-alive connections are closed as they become idle.
    const idleSweep = setInterval(() => httpServer.closeIdleConnections(), 50);
    httpServer.closeIdleConnections();
    const timedOut = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()))),
    ]);
    clearInterval(idleSweep);
    if (timedOut) {
      log.warn('shutdown deadline reached: closing the remaining connections');
      httpServer.closeAllConnections();
      for (const client of wss.clients) client.terminate();
      await closed;
    }
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await core.stop();
    log.info('stopped');
  }

  return {
    url,
    port,
    deps,
    wss,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

const SOCKET_PATHS = new Set(['/trpc', '/trpc/', '/socket', '/socket/']);

/** Why a WebSocket upgrade is refused (an HTTP status line), or undefined to accept it. */
function upgradeRefusal(req: IncomingMessage, config: Config, state: ServerState): string | undefined {
  if (state.shuttingDown) return '503 Service Unavailable';
  const path = (req.url ?? '').split('?')[0];
  // /socket is the original design's path; /trpc the tRPC clients' default. A worker serves its
  // health probes and metrics only.
  if (!SOCKET_PATHS.has(path ?? '') || config.role === 'worker') return '404 Not Found';
  // The same rule as for HTTP requests (http/origin): the Host must be one of ours (DNS rebinding),
  // and a foreign page must not open a socket — in particular one that would ride the user's cookie.
  const headers = { get: (name: string) => headerValue(req.headers[name]) };
  if (!hostAllowed(headers.get('host'), config)) return '421 Misdirected Request';
  if (crossSiteRefused(headers, carriesSessionCookie(headers), config)) return '403 Forbidden';
  return undefined;
}

/**
 * A token bucket per socket: WS_MESSAGE_BURST messages at once, refilled at WS_MAX_MESSAGES_PER_SECOND.
 * A socket that sends more is closed with 4429, and what it sent beyond the limit is never handled:
 * the bucket stands in front of every 'message' listener, tRPC's included.
 */
function limitMessageRate(ws: WebSocket, config: Config, log: Logger): void {
  const rate = config.wsMaxMessagesPerSecond / 1000;
  const burst = config.wsMessageBurst;
  let tokens = burst;
  let last = performance.now();
  let over = false;
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'message') {
      if (over) return false;
      const now = performance.now();
      tokens = Math.min(burst, tokens + (now - last) * rate);
      last = now;
      if (tokens < 1) {
        over = true;
        log.warn('closing a socket over its message rate');
        ws.close(CLOSE_CODES.messageRate, 'message rate limit exceeded');
        return false;
      }
      tokens -= 1;
    }
    return emit(event, ...args);
  }) as typeof ws.emit;
}
