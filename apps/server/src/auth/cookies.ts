import { SESSION_INACTIVITY_MS } from '@lifexp/db';
import { parse, serialize } from 'hono/utils/cookie';

export const SESSION_COOKIE = 'lifexp_session';

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Secure everywhere but on localhost, where browsers serve plain http. */
export function isLocalhost(host: string | null | undefined): boolean {
  if (!host) return false;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return localHosts.has(hostname ?? '');
}

export function sessionCookie(token: string, host: string | null | undefined): string {
  return serialize(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: !isLocalhost(host),
    maxAge: Math.floor(SESSION_INACTIVITY_MS / 1000),
  });
}

export function clearedSessionCookie(host: string | null | undefined): string {
  return serialize(SESSION_COOKIE, '', {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: !isLocalhost(host),
    maxAge: 0,
  });
}

export function readSessionCookie(cookieHeader: string | null | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  return parse(cookieHeader, SESSION_COOKIE)[SESSION_COOKIE];
}

/** The token of an `Authorization: Bearer <token>` header. */
export function readBearer(authorization: string | null | undefined): string | undefined {
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** How a request's session token arrived: a cookie needs CSRF checks, the others do not. */
export type TokenVia = 'bearer' | 'connection' | 'cookie';

/**
 * The session token a request carries, in the one order every surface reads it: an
 * `Authorization: Bearer` header, then a WebSocket's connection parameter, then the session cookie.
 */
export function requestToken(
  headers: { get(name: string): string | null },
  connectionToken?: string | undefined,
): { token: string; via: TokenVia } | undefined {
  const bearer = readBearer(headers.get('authorization'));
  if (bearer) return { token: bearer, via: 'bearer' };
  if (connectionToken) return { token: connectionToken, via: 'connection' };
  const cookie = readSessionCookie(headers.get('cookie'));
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}
