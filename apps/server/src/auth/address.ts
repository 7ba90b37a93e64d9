import type { IncomingMessage } from 'node:http';

export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The client's address, for per-address login throttling. X-Forwarded-For is believed only when
 * TRUST_PROXY says a proxy sets it; otherwise anyone could pick their own throttle key. Its last entry
 * is the one our proxy appended (the address it saw); earlier entries are whatever the client sent.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = headerValue(req.headers['x-forwarded-for'])?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return req.socket.remoteAddress ?? 'unknown';
}
