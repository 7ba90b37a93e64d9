import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '@lifexp/config';
import { parse, serialize } from 'hono/utils/cookie';
import { isLocalhost } from './cookies';

// The device cookie (OWASP's "device cookie" against account lockout): after a successful sign-in,
// the browser gets `lifexp_device=<nonce>.<hmac(email, nonce)>`. A later sign-in to that email that
// carries it is throttled on that device's own failures only, so strangers' failures for the account
// cannot lock its owner out.

export const DEVICE_COOKIE = 'lifexp_device';
const YEAR_SECONDS = 365 * 24 * 60 * 60;
const nonceShape = /^[A-Za-z0-9_-]{22}$/;

const processKey = randomBytes(32);
const keyOf = (config: Config) => config.deviceCookieSecret ?? processKey;

function sign(config: Config, email: string, nonce: string): string {
  return createHmac('sha256', keyOf(config)).update(`${email}\n${nonce}`).digest('base64url');
}

/** A fresh device cookie for this email. */
export function deviceCookie(config: Config, email: string, host: string | null | undefined): string {
  const nonce = randomBytes(16).toString('base64url');
  return serialize(DEVICE_COOKIE, `${nonce}.${sign(config, email, nonce)}`, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/trpc',
    secure: !isLocalhost(host),
    maxAge: YEAR_SECONDS,
  });
}

/** The device id of a valid device cookie for this email, or undefined. */
export function knownDevice(config: Config, cookieHeader: string | null, email: string): string | undefined {
  if (!cookieHeader) return undefined;
  const value = parse(cookieHeader, DEVICE_COOKIE)[DEVICE_COOKIE];
  if (!value) return undefined;
  const [nonce, mac] = value.split('.');
  if (!nonce || !mac || !nonceShape.test(nonce)) return undefined;
  const expected = Buffer.from(sign(config, email, nonce));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return nonce;
}
