import { DomainError } from '@lifexp/db';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { Hono, type Context as HonoContext, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { clientAddress } from '../auth/address';
import type { AppDeps } from '../deps';
import { safeError } from '../errorLog';
import { type Context, createContext } from '../trpc/context';
import type { HonoEnv } from './env';
import { fieldIssues, issuesMessage } from './issues';
import { crossSiteRefused } from './origin';

// The pipeline of every route under /api — the REST form of the procedures and the plain routes
// (files in and out): the same context, authentication, CSRF rule and error codes as the tRPC
// procedures, and one error body, so a route handler only does its own work.

export type PlainEnv = HonoEnv & { Variables: { ctx: Context } };

type ErrorCode = DomainError['code'] | TRPCError['code'];

/**
 * The one error body of every route under /api (REST procedures and plain routes alike):
 * `{code, message, details?, requestId}`, with the status of the code. A 401 names the scheme to
 * use; a retry delay becomes `Retry-After`.
 */
export function errorResponse<E extends HonoEnv>(
  c: HonoContext<E>,
  code: ErrorCode | 'MISDIRECTED_REQUEST',
  message: string,
  details: unknown = null,
  status?: number,
): Response {
  const answer = (status ??
    getHTTPStatusCodeFromError(new TRPCError({ code: code as ErrorCode }))) as ContentfulStatusCode;
  const retryAfter = (details as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  if (answer === 401) c.header('WWW-Authenticate', 'Bearer');
  const requestId = (c as unknown as HonoContext<HonoEnv>).get('requestId');
  return c.json({ code, message, ...(details == null ? {} : { details }), requestId }, answer);
}

/**
 * An error answered under /trpc before any procedure runs (wrong host, body too large, the call
 * rate), in the shape tRPC's own errors have, so a tRPC client reads it as it reads any other:
 * `{error: {message, code, data: {code, httpStatus, requestId, details}}}`. A batch (`?batch=1`)
 * is answered with one such error per call, as tRPC answers a batch.
 */
export function trpcErrorResponse<E extends HonoEnv>(
  c: HonoContext<E>,
  code: TRPCError['code'] | 'MISDIRECTED_REQUEST',
  status: ContentfulStatusCode,
  message: string,
  details: unknown = null,
): Response {
  const retryAfter = (details as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  const requestId = (c as unknown as HonoContext<HonoEnv>).get('requestId');
  const error = {
    error: {
      message,
      // MISDIRECTED_REQUEST is not a tRPC code: it takes the number of a request the server refuses.
      code: TRPC_ERROR_CODES_BY_KEY[code === 'MISDIRECTED_REQUEST' ? 'BAD_REQUEST' : code],
      data: { code, httpStatus: status, requestId, details },
    },
  };
  const batch = c.req.query('batch');
  return c.json(batch ? Array.from({ length: trpcCallsInPath(c.req.path) }, () => error) : error, status);
}

/** `/trpc/a,b,c` names three calls; never fewer than one. */
export function trpcCallsInPath(path: string): number {
  const procedures = path.slice(path.indexOf('/trpc/') + 6);
  let calls = 1;
  for (let i = 0; i < procedures.length; i++) if (procedures.charCodeAt(i) === 44) calls += 1;
  return calls;
}

/**
 * An exception as the error body: a data-layer failure (DomainError) and a tRPC error with its own
 * code and details, refused input with the path of every field (`details.issues`), anything else
 * a logged 500 that says nothing of its cause.
 */
export function errorFromException<E extends HonoEnv>(c: HonoContext<E>, deps: AppDeps, error: unknown) {
  const cause = error instanceof TRPCError ? error.cause : undefined;
  const domain = error instanceof DomainError ? error : cause instanceof DomainError ? cause : undefined;
  if (domain) return errorResponse(c, domain.code, domain.message, domain.details ?? null);
  if (error instanceof TRPCError && error.code !== 'INTERNAL_SERVER_ERROR') {
    if (cause instanceof ZodError)
      return errorResponse(c, error.code, issuesMessage(cause), { issues: fieldIssues(cause) });
    return errorResponse(c, error.code, error.message);
  }
  const requestId = (c as unknown as HonoContext<HonoEnv>).get('requestId');
  deps.log.error({ reqId: requestId, error: safeError(cause ?? error) }, 'unhandled error');
  return errorResponse(c, 'INTERNAL_SERVER_ERROR', 'internal server error');
}

/**
 * A Hono app for plain routes: each request gets the tRPC context (session from cookie or bearer,
 * renewed cookies passed on), and expected failures (DomainError, TRPCError) answer with their
 * status; anything else goes on to the server's 500 handler.
 */
export function plainRoutes(deps: AppDeps): Hono<PlainEnv> {
  const app = new Hono<PlainEnv>();
  app.use('/api/*', async (c, next) => {
    const resHeaders = new Headers();
    const ctx = await createContext(deps, 'http', c.get('requestId'), {
      headers: c.req.raw.headers,
      clientAddress: clientAddress(c.env.incoming, deps.config.trustProxy),
      resHeaders,
      validated: c.get('validated'),
    });
    c.set('ctx', ctx);
    await next();
    // Cookies add up; anything else the procedure set (Retry-After) replaces the route's own.
    for (const [key, value] of resHeaders) {
      if (key === 'set-cookie') c.res.headers.append(key, value);
      else c.res.headers.set(key, value);
    }
  });
  app.onError((error, c) => errorFromException(c, deps, error));
  return app;
}

/** Only for a signed-in session; a cookie-authenticated write must also pass the origin rule. */
export function signedIn(options: { write?: boolean } = {}): MiddlewareHandler<PlainEnv> {
  return async (c, next) => {
    const ctx = c.get('ctx');
    if (!ctx.auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'not signed in' });
    if (options.write && crossSiteRefused(ctx.request.headers, ctx.auth.via === 'cookie', ctx.deps.config))
      throw new TRPCError({ code: 'FORBIDDEN', message: 'cross-site request refused: origin not allowed' });
    await next();
  };
}
