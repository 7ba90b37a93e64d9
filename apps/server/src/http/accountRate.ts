import { createKeyedBuckets } from '@lifexp/config';
import type { MiddlewareHandler } from 'hono';
import { readBearer, readSessionCookie } from '../auth/cookies';
import type { AppDeps } from '../deps';
import type { HonoEnv } from './env';
import { errorResponse } from './plain';

/**
 * One account's API calls per second on this instance (API_ACCOUNT_CALLS_PER_SECOND, after a burst
 * of API_ACCOUNT_CALLS_BURST), over every device and token, counted before any procedure runs: a
 * refusal costs a session-cache lookup and a short answer, so a client that keeps calling cannot
 * take the event loop from everyone else. Each call of a tRPC batch counts. A request without a
 * valid session passes on to be refused by the procedure (sign-in has limits of its own).
 */
export function createAccountCallRate(
  deps: AppDeps,
): (surface: 'trpc' | 'rest') => MiddlewareHandler<HonoEnv> {
  const { config } = deps;
  const buckets = createKeyedBuckets({
    perSecond: config.apiAccountCallsPerSecond,
    capacity: config.apiAccountCallsBurst,
  });
  let held = 0;
  return (surface) => async (c, next) => {
    const token = readBearer(c.req.header('authorization')) ?? readSessionCookie(c.req.header('cookie'));
    if (!token) return next();
    // Validated once for the request: the procedure's context reuses it (a renewal's cookie included).
    const result = deps.hub.sessions.validate(deps.database.db, token);
    c.set('validated', { token, result });
    const validated = await result.catch(() => null);
    if (!validated) return next();
    const account = validated.session.userId;
    const calls = surface === 'trpc' ? callsInPath(c.req.path) : 1;
    if (buckets.available(account) < calls) {
      const retryAfterSeconds = buckets.retryAfterSeconds(account, calls);
      // Held a while (at most its Retry-After) before it is answered: a client that ignores
      // Retry-After and asks again at once is slowed to one refusal per hold on each connection.
      const hold = Math.min(retryAfterSeconds * 1000, config.apiRefusalHoldMs);
      if (hold > 0 && held < config.apiRefusalHoldMax) {
        held += 1;
        await new Promise((resolve) => setTimeout(resolve, hold)).finally(() => {
          held -= 1;
        });
      }
      const message = `at most ${config.apiAccountCallsPerSecond} API calls a second per account; ask again in ${retryAfterSeconds} s`;
      if (surface === 'rest') return errorResponse(c, 'TOO_MANY_REQUESTS', message, { retryAfterSeconds });
      c.header('Retry-After', String(retryAfterSeconds));
      const error = {
        error: {
          message,
          code: -32029,
          data: {
            code: 'TOO_MANY_REQUESTS',
            httpStatus: 429,
            requestId: c.get('requestId'),
            details: { retryAfterSeconds },
          },
        },
      };
      // A batch is answered with one error per call, as tRPC answers batches.
      return c.json(c.req.query('batch') ? Array.from({ length: calls }, () => error) : error, 429);
    }
    buckets.take(account, calls);
    return next();
  };
}

/** `/trpc/a,b,c` names three calls; never fewer than one. */
function callsInPath(path: string): number {
  const procedures = path.slice(path.indexOf('/trpc/') + 6);
  let calls = 1;
  for (let i = 0; i < procedures.length; i++) if (procedures.charCodeAt(i) === 44) calls += 1;
  return calls;
}
