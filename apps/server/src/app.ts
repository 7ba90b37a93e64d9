import { randomUUID } from 'node:crypto';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { clientAddress } from './auth/address';
import type { AppDeps } from './deps';
import { safeError } from './errorLog';
import { createAccountCallRate } from './http/accountRate';
import { apiRoutes, SESSIONLESS_API_PATHS } from './http/api';
import { closingBodyLimit, type HonoEnv } from './http/env';
import { metricsRoute } from './http/metrics';
import { hostAllowed } from './http/origin';
import { errorResponse, trpcErrorResponse } from './http/plain';
import { UNSUBSCRIBE_PATH, unsubscribeRoutes } from './http/unsubscribe';
import { webRoutes } from './http/web';
import { createContext } from './trpc/context';
import { appRouter } from './trpc/router';

export interface ServerState {
  shuttingDown: boolean;
}

const incomingRequestId = /^[\w.-]{1,64}$/;

/** The HTTP application: health probes, tRPC over HTTP, the REST API with its documents under /api, and the dashboard's build. */
export function createApp(deps: AppDeps, state: ServerState): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  // A request id on every request: taken from a sane X-Request-Id header or made here, echoed back,
  // and carried by every log line of the request.
  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && incomingRequestId.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    deps.log.info(
      {
        reqId: requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
  app.use('*', secureHeaders());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/', metricsRoute(deps));
  app.get('/readyz', async (c) => {
    if (state.shuttingDown) return c.json({ status: 'shutting-down' }, 503);
    const ready = await deps.database.isReady().catch(() => false);
    return ready ? c.json({ status: 'ready' }) : c.json({ status: 'unavailable' }, 503);
  });

  // A worker (ROLE=worker) answers its probes and metrics; the API is served by web processes.
  if (deps.config.role === 'worker') {
    app.notFound((c) => c.json({ error: 'not found: this process runs jobs only (ROLE=worker)' }, 404));
    return app;
  }

  // DNS rebinding: the API answers only to the host names it is configured for (see http/origin).
  const MISDIRECTED = 'unexpected Host: this server does not answer to that name (see ALLOWED_HOSTS)';
  app.use('/trpc/*', async (c, next) => {
    if (hostAllowed(c.req.header('host') ?? null, deps.config)) return next();
    return trpcErrorResponse(c, 'MISDIRECTED_REQUEST', 421, MISDIRECTED);
  });
  app.use('/api/*', async (c, next) => {
    if (hostAllowed(c.req.header('host') ?? null, deps.config)) return next();
    return errorResponse(c, 'MISDIRECTED_REQUEST', MISDIRECTED, null, 421);
  });
  // Bodies under /api are bounded like tRPC's; an import upload has its own, larger limit.
  const apiBodyLimit = closingBodyLimit(deps.config.maxBodyBytes, (c) =>
    errorResponse(c, 'PAYLOAD_TOO_LARGE', `the body exceeds ${deps.config.maxBodyBytes} bytes`),
  );
  app.use('/api/*', (c, next) => (c.req.path === '/api/data/import' ? next() : apiBodyLimit(c, next)));

  app.use(
    '/trpc/*',
    closingBodyLimit(deps.config.maxBodyBytes, (c) =>
      trpcErrorResponse(
        c,
        'PAYLOAD_TOO_LARGE',
        413,
        `Request body exceeds ${deps.config.maxBodyBytes} bytes`,
      ),
    ),
  );
  // One account's calls per second, counted before any procedure runs (see http/accountRate).
  const callRate = createAccountCallRate(deps, [...SESSIONLESS_API_PATHS, UNSUBSCRIBE_PATH]);
  app.use('/trpc/*', callRate('trpc'));
  app.use('/api/*', callRate('rest'));
  app.all('/trpc/*', (c) =>
    fetchRequestHandler({
      endpoint: '/trpc',
      req: c.req.raw,
      router: appRouter,
      // A batch carries at most MAX_BATCH_SIZE calls (400 above); credential procedures refuse any batch.
      maxBatchSize: deps.config.maxBatchSize,
      createContext: ({ resHeaders, info }) =>
        createContext(deps, 'http', c.get('requestId'), {
          headers: c.req.raw.headers,
          clientAddress: clientAddress(c.env.incoming, deps.config.trustProxy),
          resHeaders,
          batchSize: info.isBatchCall ? info.calls.length : 1,
          validated: c.get('validated'),
        }),
      onError: ({ error, path, ctx }) => logProcedureError(deps, error, path, ctx?.requestId),
    }),
  );

  if (deps.metrics) {
    const { metrics } = deps;
    // Plain routes by their pattern (a bounded label), as the procedures are counted by name.
    app.use('/api/*', async (c, next) => {
      const started = performance.now();
      await next();
      const route = c.req.routePath === '/api/*' ? 'unmatched' : c.req.routePath;
      const status = c.res.status;
      metrics.observe(
        `${c.req.method} ${route}`,
        'http',
        status < 400 ? 'ok' : String(status),
        (performance.now() - started) / 1000,
      );
    });
  }
  app.route('/', unsubscribeRoutes(deps));
  app.route('/', apiRoutes(deps));
  // The dashboard's build, when there is one: every other GET is a file of it or its index.html.
  if (deps.config.webDistDir) app.route('/', webRoutes(deps.config.webDistDir));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    deps.log.error({ reqId: c.get('requestId'), error: safeError(error) }, 'unhandled error');
    return c.json({ error: 'internal server error', requestId: c.get('requestId') }, 500);
  });
  return app;
}

/**
 * Unexpected errors are logged with the request id, the statement's shape and the error codes;
 * expected ones (bad input, auth) briefly. Never a message, a query parameter or any input: those
 * carry users' notes and values.
 */
export function logProcedureError(
  deps: AppDeps,
  error: { code: string; message: string; cause?: unknown },
  path: string | undefined,
  requestId: string | undefined,
): void {
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    deps.log.error({ reqId: requestId, path, error: safeError(error.cause ?? error) }, 'procedure failed');
  } else {
    deps.log.debug({ reqId: requestId, path, code: error.code }, 'procedure rejected');
  }
}
