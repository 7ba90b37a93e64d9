import { DomainError } from '@lifexp/db';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { Hono, type Context as HonoContext, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { clientAddress } from '../auth/address';
import type { AppDeps } from '../deps';
import { safeError } from '../errorLog';
import { type Context, createContext } from '../trpc/context';
import type { HonoEnv } from './env';
import { crossSiteRefused } from './origin';

// The pipeline of the plain HTTP routes (files in and out): the same context, authentication, CSRF
// rule and error codes as the tRPC procedures, so a route handler only does its own work.

export type PlainEnv = HonoEnv & { Variables: { ctx: Context } };

type ErrorCode = DomainError['code'];

/** The one error body of the plain routes: `{error: {code, message, details, requestId}}`. */
export function errorResponse<E extends HonoEnv>(
  c: HonoContext<E>,
  code: ErrorCode | TRPCError['code'],
  message: string,
  details: unknown = null,
): Response {
  const status = getHTTPStatusCodeFromError(new TRPCError({ code })) as ContentfulStatusCode;
  const retryAfter = (details as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
  const requestId = (c as unknown as HonoContext<HonoEnv>).get('requestId');
  return c.json({ error: { code, message, details, requestId } }, status);
}

/**
 * A Hono app for plain routes: each request gets the tRPC context (session from cookie or bearer,
 * renewed cookies passed on), and expected failures (DomainError, TRPCError) answer with their
 * status; anything else goes on to the server's 500 handler.
 */
export function plainRoutes(deps: AppDeps): Hono<PlainEnv> {
  const app = new Hono<PlainEnv>();
  app.use('*', async (c, next) => {
    const resHeaders = new Headers();
    const ctx = await createContext(deps, 'http', c.get('requestId'), {
      headers: c.req.raw.headers,
      clientAddress: clientAddress(c.env.incoming, deps.config.trustProxy),
      resHeaders,
    });
    c.set('ctx', ctx);
    await next();
    for (const [key, value] of resHeaders) c.res.headers.append(key, value);
  });
  app.onError((error, c) => {
    if (error instanceof DomainError)
      return errorResponse(c, error.code, error.message, error.details ?? null);
    if (error instanceof TRPCError && error.code !== 'INTERNAL_SERVER_ERROR')
      return errorResponse(c, error.code, error.message);
    deps.log.error({ reqId: c.get('requestId'), error: safeError(error) }, 'unhandled error');
    return errorResponse(c, 'INTERNAL_SERVER_ERROR', 'internal server error');
  });
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
