import type { Config } from '@lifexp/config';
import { readSessionCookie } from '../auth/cookies';

// The origin rule, in one place, for HTTP requests and WebSocket upgrades alike: which Host this
// server answers to, and which pages may send a browser's cookies along with a request.

interface HeaderSource {
  get(name: string): string | null;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `host[:port]` of a Host header or an origin, lower-cased, or null when it is not one. */
function hostOf(value: string, scheme = 'http://'): { host: string; hostname: string } | null {
  try {
    const url = new URL(value.includes('://') ? value : `${scheme}${value}`);
    if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '')) return null;
    return { host: url.host.toLowerCase(), hostname: url.hostname.toLowerCase() };
  } catch {
    return null;
  }
}

/** The host names this server answers to (see ALLOWED_HOSTS). */
export function allowedHostList(config: Config): string[] {
  if (config.allowedHosts.length > 0) return config.allowedHosts;
  const names = new Set(LOOPBACK);
  if (config.host !== '0.0.0.0' && config.host !== '::') {
    names.add(config.host.includes(':') ? `[${config.host}]` : config.host.toLowerCase());
  }
  for (const origin of config.allowedOrigins) {
    const parsed = hostOf(origin);
    if (parsed) names.add(parsed.hostname);
  }
  return [...names];
}

/**
 * DNS rebinding: a page on a name that resolves to this server sends its own name as Host. Only the
 * names in the list are served; an entry without a port allows any port.
 */
export function hostAllowed(host: string | null, config: Config): boolean {
  if (host === null) return false;
  const list = allowedHostList(config);
  if (list.includes('*')) return true;
  const parsed = hostOf(host);
  if (!parsed) return false;
  return list.some((entry) => entry === parsed.host || entry === parsed.hostname);
}

export type OriginVerdict = 'allowed' | 'foreign' | 'absent';

/**
 * Where a request comes from: an allowed origin (ALLOWED_ORIGINS, or this server's own origin —
 * the Origin's host equal to the Host, or `Sec-Fetch-Site: same-origin`), a foreign one, or no
 * browser origin at all (a script).
 */
export function originVerdict(headers: HeaderSource, config: Config): OriginVerdict {
  const origin = headers.get('origin');
  const site = headers.get('sec-fetch-site');
  if (site === 'same-origin') return 'allowed';
  if (origin === null || origin === '') return site === null || site === 'none' ? 'absent' : 'foreign';
  if (config.allowedOrigins.includes(origin)) return 'allowed';
  const from = hostOf(origin, '');
  const host = headers.get('host');
  const own = host === null ? null : hostOf(host);
  if (from && own && from.host === own.host && hostAllowed(host, config)) return 'allowed';
  return 'foreign';
}

/**
 * CSRF, for both transports: a browser sends cookies with cross-site requests, so a request that a
 * cookie would authenticate must come from an allowed origin; one with no cookie session but a
 * foreign Origin (login CSRF, a foreign page opening a socket) is refused too. Bearer tokens and
 * connection tokens are exempt: a foreign page cannot make the browser send one.
 */
export function crossSiteRefused(
  headers: HeaderSource,
  cookieAuthenticated: boolean,
  config: Config,
): boolean {
  const verdict = originVerdict(headers, config);
  if (verdict === 'foreign') return true;
  return verdict === 'absent' && cookieAuthenticated;
}

/** Whether a WebSocket upgrade would ride a session cookie. */
export function carriesSessionCookie(headers: HeaderSource): boolean {
  return readSessionCookie(headers.get('cookie')) !== undefined;
}
