import type { Config } from '@lifexp/config';
import type { Context } from '../trpc/context';

// The origin rule, in one place: which pages may send a browser's cookies along with a request.

/**
 * CSRF: a browser sends cookies with cross-site requests, so a state-changing request that a cookie
 * would authenticate must come from an allowed origin (or declare itself same-origin). Bearer tokens
 * are exempt: a foreign page cannot make the browser send one. A request with no cookie session that
 * still carries a foreign Origin (login CSRF) is refused too.
 */
export function crossSiteRefused(ctx: Context): boolean {
  if (ctx.auth && ctx.auth.via !== 'cookie') return false;
  const origin = ctx.request.headers.get('origin');
  const allowed =
    (origin !== null && ctx.deps.config.allowedOrigins.includes(origin)) ||
    ctx.request.headers.get('sec-fetch-site') === 'same-origin';
  return !allowed && (ctx.auth?.via === 'cookie' || origin !== null);
}

/** Whether a WebSocket upgrade's Origin may connect: an allowed origin, or this server's own. */
export function isAllowedOrigin(origin: string, host: string | undefined, config: Config): boolean {
  if (config.allowedOrigins.includes(origin)) return true;
  // Same origin as the server itself (the dashboard served from this host).
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
