import type { Config } from '@lifexp/config';
import type { MiddlewareHandler } from 'hono';
import { requestToken } from '../auth/cookies';
import type { AppDeps } from '../deps';
import type { HonoEnv } from './env';
import { errorResponse, trpcCallsInPath, trpcErrorResponse } from './plain';

/** The refusal's message, over HTTP and WebSocket alike. */
export function callRateMessage(config: Config, retryAfterSeconds: number): string {
  return `at most ${config.apiAccountCallsPerSecond} API calls a second per account; ask again in ${retryAfterSeconds} s`;
}

/**
 * Spends `calls` of the account's calls (deps.accountCalls), over HTTP and WebSocket alike: null
 * when they are taken, or the seconds to wait when the account has not that many left (nothing taken).
 */
export function spendCalls(
  deps: Pick<AppDeps, 'accountCalls'>,
  account: string,
  calls: number,
): number | null {
  const buckets = deps.accountCalls;
  if (buckets.available(account) < calls) return buckets.retryAfterSeconds(account, calls);
  buckets.take(account, calls);
  return null;
}

/**
 * One account's API calls per second on this instance (API_ACCOUNT_CALLS_PER_SECOND, after a burst
 * of API_ACCOUNT_CALLS_BURST), over every device and token, counted before any procedure runs: a
 * refusal costs a session-cache lookup and a short answer, so a client that keeps calling cannot
 * take the event loop from everyone else. Each call of a tRPC batch counts. Calls over a WebSocket
 * take from the same buckets (deps.accountCalls) in the procedures' pipeline (trpc/init). A request without a
 * valid session passes on to be refused by the procedure (sign-in has limits of its own); so does
 * a route that takes no session (`sessionless`: the API's documents, the unsubscribe link), whose
 * token, if one is sent, is neither validated nor counted.
 */
export function createAccountCallRate(
  deps: AppDeps,
  sessionless: Iterable<string> = [],
): (surface: 'trpc' | 'rest') => MiddlewareHandler<HonoEnv> {
  const skipped = new Set(sessionless);
  const { config } = deps;
  let held = 0;
  return (surface) => async (c, next) => {
    if (skipped.has(c.req.path)) return next();
    const token = requestToken(c.req.raw.headers)?.token;
    if (!token) return next();
    // Validated once for the request: the procedure's context reuses it (a renewal's cookie included).
    const result = deps.hub.sessions.validate(deps.database.db, token);
    c.set('validated', { token, result });
    const validated = await result.catch(() => null);
    if (!validated) return next();
    const account = validated.session.userId;
    const calls = surface === 'trpc' ? trpcCallsInPath(c.req.path) : 1;
    const retryAfterSeconds = spendCalls(deps, account, calls);
    if (retryAfterSeconds !== null) {
      // Held a while (at most its Retry-After) before it is answered: a client that ignores
      // Retry-After and asks again at once is slowed to one refusal per hold on each connection.
      const hold = Math.min(retryAfterSeconds * 1000, config.apiRefusalHoldMs);
      if (hold > 0 && held < config.apiRefusalHoldMax) {
        held += 1;
        await new Promise((resolve) => setTimeout(resolve, hold)).finally(() => {
          held -= 1;
        });
      }
      const message = callRateMessage(config, retryAfterSeconds);
      const details = { retryAfterSeconds };
      return surface === 'rest'
        ? errorResponse(c, 'TOO_MANY_REQUESTS', message, details)
        : trpcErrorResponse(c, 'TOO_MANY_REQUESTS', 429, message, details);
    }
    return next();
  };
}
