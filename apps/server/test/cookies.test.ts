import { describe, expect, it } from 'vitest';
import { requestToken, SESSION_COOKIE } from '../src/auth/cookies';

const headers = (entries: Record<string, string>) => new Headers(entries);

describe("a request's session token", () => {
  it('reads a bearer header first, then a connection parameter, then the cookie', () => {
    const cookie = `theme=dark; ${SESSION_COOKIE}=from-cookie`;
    expect(requestToken(headers({ authorization: 'Bearer from-bearer', cookie }), 'from-param')).toEqual({
      token: 'from-bearer',
      via: 'bearer',
    });
    expect(requestToken(headers({ cookie }), 'from-param')).toEqual({
      token: 'from-param',
      via: 'connection',
    });
    expect(requestToken(headers({ cookie }))).toEqual({ token: 'from-cookie', via: 'cookie' });
  });

  it('finds none in an empty or malformed header, or another cookie', () => {
    expect(requestToken(headers({}))).toBeUndefined();
    expect(requestToken(headers({ authorization: 'Basic abc', cookie: 'theme=dark' }))).toBeUndefined();
    expect(requestToken(headers({ authorization: 'Bearer two words' }))).toBeUndefined();
    expect(requestToken(headers({ authorization: 'bearer  lower-case ' }))).toEqual({
      token: 'lower-case',
      via: 'bearer',
    });
  });
});
