import { DomainError } from '@lifexp/db';
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { ZodError, z } from 'zod';
import { callRateMessage, spendCalls } from '../http/accountRate';
import { issuesMessage } from '../http/issues';
import { crossSiteRefused } from '../http/origin';
import type { Context } from './context';

/**
 * A procedure's REST form (trpc-to-openapi): its method and path under /api, summary and tags;
 * `created` makes a successful call answer 201 Created.
 */
export type ApiMeta = OpenApiMeta<{ created?: boolean }>;

const t = initTRPC
  .context<Context>()
  .meta<ApiMeta>()
  .create({
    // Stack traces are added back below only outside production.
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const production = ctx?.deps.config.env !== 'development' && ctx?.deps.config.env !== 'test';
      const internal = error.code === 'INTERNAL_SERVER_ERROR';
      const zodError = error.cause instanceof ZodError ? error.cause : null;
      let message = shape.message;
      // An unexpected error's message may carry internals (SQL, paths): production answers generically.
      if (internal && production) message = 'Internal server error';
      if (zodError) message = issuesMessage(zodError);
      return {
        ...shape,
        message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          requestId: ctx?.requestId,
          zodError: zodError ? z.treeifyError(zodError) : null,
          details: error.cause instanceof DomainError ? (error.cause.details ?? null) : null,
          ...(production ? {} : { stack: error.stack }),
        },
      };
    },
  });

export const router = t.router;

/** Expected failures of the data layer become TRPCErrors with their own code, never a 500. */
const domainErrors = t.middleware(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    const retryAfter = cause.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') ctx.request.resHeaders?.set('Retry-After', String(retryAfter));
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});

/** CSRF: the origin rule of every state-changing HTTP request (see http/origin). */
const csrf = t.middleware(({ ctx, type, next }) => {
  if (
    type === 'mutation' &&
    ctx.transport === 'http' &&
    crossSiteRefused(ctx.request.headers, ctx.auth?.via === 'cookie', ctx.deps.config)
  ) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'cross-site request refused: origin not allowed' });
  }
  return next();
});

/**
 * Request counts and latencies by procedure (GET /metrics, when it is on); a subscription counts as
 * running from its start until its stream ends.
 */
const observed = t.middleware(async ({ ctx, path, type, next }) => {
  const metrics = ctx.deps.metrics;
  if (!metrics) return next();
  const started = performance.now();
  const result = await next();
  metrics.observe(
    path,
    ctx.transport,
    result.ok ? 'ok' : result.error.code,
    (performance.now() - started) / 1000,
  );
  if (type === 'subscription' && result.ok && isAsyncIterable(result.data)) {
    const ended = metrics.subscriptionStarted();
    const source = result.data;
    return {
      ...result,
      data: (async function* counted() {
        try {
          return yield* source;
        } finally {
          ended();
        }
      })(),
    };
  }
  return result;
});

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

export const publicProcedure = t.procedure.use(observed).use(domainErrors).use(csrf);

/**
 * register, login, changePassword, deleteAccount: one call per HTTP request. In a batch, N password
 * guesses would share one request (and once shared one throttle check).
 */
const unbatched = t.middleware(({ ctx, next }) => {
  if ((ctx.request.batchSize ?? 1) > 1) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'this procedure cannot be called in a batch: send it on its own',
    });
  }
  return next();
});

/** A public procedure that handles credentials. */
export const credentialProcedure = publicProcedure.use(unbatched);

/**
 * After a successful change of metrics or entries, the user's insights are due for a recompute
 * (debounced in the job queue).
 */
export const recomputeInsightsAfter = t.middleware(async ({ ctx, type, next }) => {
  const result = await next();
  if (result.ok && type === 'mutation' && ctx.auth) ctx.deps.jobs.requestRecompute(ctx.auth.user.id);
  return result;
});

/** Every procedure but sign-up and sign-in: needs a valid session. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  // A WebSocket connection authenticates once; the hub revokes it when its session ends.
  if (!ctx.auth || ctx.connection?.revoked)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'not signed in' });
  // A call over a WebSocket counts toward its account's call rate, as an HTTP call does before
  // tRPC (http/accountRate); it is refused without being held (the socket's other calls go on).
  const retryAfterSeconds = ctx.transport === 'ws' ? spendCalls(ctx.deps, ctx.auth.user.id, 1) : null;
  if (retryAfterSeconds !== null) {
    throw new DomainError('TOO_MANY_REQUESTS', callRateMessage(ctx.deps.config, retryAfterSeconds), {
      retryAfterSeconds,
    });
  }
  return next({ ctx: { auth: ctx.auth } });
});

/** A protected procedure that asks for the password again. */
export const protectedCredentialProcedure = protectedProcedure.use(unbatched);

/** A protected procedure whose successful mutations change the data the insights rest on. */
export const dataProcedure = protectedProcedure.use(recomputeInsightsAfter);
