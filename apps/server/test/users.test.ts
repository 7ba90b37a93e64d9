import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { schema } from '@lifexp/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { call, describeServer, type TestServer, wsClient } from './support';

const GOOD_PASSWORD = 'correct horse battery';
const ORIGIN = 'http://localhost:5173';

let counter = 0;
/** A fresh identity per test: its own email and its own client address (the server trusts the proxy). */
function identity() {
  counter += 1;
  return {
    email: `user-${randomUUID()}@example.test`,
    address: `10.0.${Math.floor(counter / 250)}.${counter % 250}`,
  };
}

function cookieOf(response: { headers: Headers }): string {
  const setCookie = response.headers.getSetCookie().find((line) => line.startsWith('lifexp_session='));
  if (!setCookie) throw new Error('no session cookie set');
  return setCookie.split(';')[0]!;
}

async function register(ctx: TestServer, who = identity(), password = GOOD_PASSWORD) {
  const response = await call(
    ctx.url,
    'users.register',
    { email: who.email, password },
    { headers: { 'x-forwarded-for': who.address } },
  );
  expect(response.status, response.text).toBe(200);
  const data = response.data as { user: { id: string; email: string }; token: string };
  return { ...who, ...data, cookie: cookieOf(response), bearer: { authorization: `Bearer ${data.token}` } };
}

async function countRows(ctx: TestServer, table: 'users' | 'sessions') {
  const [row] = await ctx.database.db.select({ n: sql<number>`count(*)::int` }).from(schema[table]);
  return row!.n;
}

describeServer(
  'users',
  (ctx) => {
    it('registers, signs in and reads the profile with a cookie and with a bearer token', async () => {
      const who = identity();
      const registered = await call(ctx().url, 'users.register', {
        email: `  ${who.email.toUpperCase()} `,
        password: GOOD_PASSWORD,
        timezone: 'Europe/Berlin',
      });
      expect(registered.status).toBe(200);
      const { user, token } = registered.data as { user: Record<string, unknown>; token: string };
      expect(user).toMatchObject({ email: who.email, timezone: 'Europe/Berlin', preferences: {} });
      expect(Object.keys(user).sort()).toEqual(['createdAt', 'email', 'id', 'preferences', 'timezone']);
      expect(token).toMatch(/^[a-km-z2-9]{24}\.[a-km-z2-9]{24}$/);
      const setCookie = registered.headers.getSetCookie().join('\n');
      expect(setCookie).toMatch(/lifexp_session=[^;]+; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax/);
      expect(setCookie).not.toMatch(/Secure/);

      const login = await call(ctx().url, 'users.login', { email: who.email, password: GOOD_PASSWORD });
      expect(login.status).toBe(200);
      const loginToken = (login.data as { token: string }).token;
      expect(loginToken).not.toBe(token);

      const byCookie = await call(ctx().url, 'users.profile', undefined, {
        type: 'query',
        headers: { cookie: cookieOf(login) },
      });
      expect(byCookie.data).toMatchObject({ id: user.id, email: who.email });
      const byBearer = await call(ctx().url, 'users.profile', undefined, {
        type: 'query',
        headers: { authorization: `Bearer ${loginToken}` },
      });
      expect(byBearer.data).toMatchObject({ id: user.id });

      const updated = await call(
        ctx().url,
        'users.updatePreferences',
        {
          timezone: 'America/Los_Angeles',
          preferences: { theme: 'dark', weekStartsOn: 1, ui: { layout: ['sleep', 'mood'] } },
        },
        { headers: { cookie: cookieOf(login), origin: ORIGIN } },
      );
      expect(updated.status, updated.text).toBe(200);
      expect(updated.data).toMatchObject({
        timezone: 'America/Los_Angeles',
        preferences: { theme: 'dark', weekStartsOn: 1, ui: { layout: ['sleep', 'mood'] } },
      });
      // A later patch merges key by key; null removes a key.
      const merged = await call(
        ctx().url,
        'users.updatePreferences',
        { preferences: { theme: null, dayStartsAtHour: 4 } },
        { headers: { authorization: `Bearer ${loginToken}` } },
      );
      expect((merged.data as { preferences: unknown }).preferences).toEqual({
        weekStartsOn: 1,
        dayStartsAtHour: 4,
        ui: { layout: ['sleep', 'mood'] },
      });
    });

    it('never answers with a password hash or another session secret', async () => {
      const a = await register(ctx());
      const responses = [
        await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD }),
        await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer }),
      ];
      for (const response of responses) {
        expect(response.text).not.toMatch(/argon2|passwordHash|password_hash|secretHash/);
        expect(response.text).not.toContain(a.token);
      }
    });

    it.each([
      [{ email: 'not-an-email', password: GOOD_PASSWORD }, 'email: must be an email address'],
      [
        { email: `${'x'.repeat(250)}@example.test`, password: GOOD_PASSWORD },
        'email: must be at most 254 characters',
      ],
      [{ email: 'a@example.test', password: 'short' }, 'password: must be at least 8 characters'],
      [{ email: 'a@example.test', password: 'x'.repeat(257) }, 'password: must be at most 256 characters'],
      [{ email: 'a@example.test', password: 'Password123' }, 'password: is too common'],
      [
        { email: 'a@example.test', password: GOOD_PASSWORD, timezone: 'Mars/Olympus' },
        'timezone: unknown time zone',
      ],
      [
        { email: 'a@example.test', password: GOOD_PASSWORD, timezone: '+05:00' },
        'timezone: must be an IANA time zone',
      ],
      [{ email: 'a@example.test', password: GOOD_PASSWORD, admin: true }, 'Unrecognized key'],
      ['just a string', 'input: '],
    ])('refuses bad registration #%# with BAD_REQUEST and creates nothing', async (input, message) => {
      const before = await countRows(ctx(), 'users');
      const response = await call(ctx().url, 'users.register', input);
      expect(response.status).toBe(400);
      expect(response.error?.data.code).toBe('BAD_REQUEST');
      expect(response.error?.message).toContain(message);
      expect(response.error?.data.zodError).toBeTruthy();
      expect(await countRows(ctx(), 'users')).toBe(before);
    });

    it('treats emails case-insensitively: a taken one is CONFLICT', async () => {
      const a = await register(ctx());
      const again = await call(ctx().url, 'users.register', {
        email: a.email.toUpperCase(),
        password: 'another password 1',
      });
      expect(again.status).toBe(409);
      expect(again.error?.data.code).toBe('CONFLICT');
      const login = await call(ctx().url, 'users.login', {
        email: ` ${a.email.toUpperCase()}`,
        password: GOOD_PASSWORD,
      });
      expect(login.status).toBe(200);
    });

    it('answers a wrong password and an unknown email alike', async () => {
      const a = await register(ctx());
      const wrong = await call(ctx().url, 'users.login', { email: a.email, password: 'wrong password here' });
      const unknown = await call(ctx().url, 'users.login', {
        email: `nobody-${a.email}`,
        password: 'wrong password here',
      });
      for (const response of [wrong, unknown]) {
        expect(response.status).toBe(401);
        expect(response.error?.message).toBe('invalid email or password');
        expect(response.headers.getSetCookie()).toEqual([]);
      }
      expect({ ...wrong.error, data: { ...wrong.error?.data, requestId: null } }).toEqual({
        ...unknown.error,
        data: { ...unknown.error?.data, requestId: null },
      });
    });

    it('throttles failed logins per account and address with growing delays, and releases', async () => {
      const a = await register(ctx());
      const attempt = (password: string, address: string) =>
        call(
          ctx().url,
          'users.login',
          { email: a.email, password },
          { headers: { 'x-forwarded-for': address } },
        );
      // Five free failures for this account from this address, then one more sets a block.
      for (let i = 0; i < 6; i++) expect((await attempt('wrong password!', '10.9.9.1')).status).toBe(401);
      const blocked = await attempt(GOOD_PASSWORD, '10.9.9.1');
      expect(blocked.status).toBe(429);
      expect(blocked.error?.data.code).toBe('TOO_MANY_REQUESTS');
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(blocked.error?.data.details).toEqual({ retryAfterSeconds: retryAfter });
      // Another address is not locked out by these failures.
      expect((await attempt(GOOD_PASSWORD, '10.9.9.2')).status).toBe(200);

      const key = `login:${a.email} 10.9.9.1`;
      const delay = async () => {
        const [row] = await ctx()
          .database.db.select()
          .from(schema.loginThrottle)
          .where(eq(schema.loginThrottle.key, key));
        return row!.blockedUntil!.getTime() - row!.lastFailureAt.getTime();
      };
      const first = await delay();
      // Let the block lapse, fail again: the next delay is twice as long.
      await ctx()
        .database.db.update(schema.loginThrottle)
        .set({ blockedUntil: new Date(Date.now() - 1000) })
        .where(eq(schema.loginThrottle.key, key));
      expect((await attempt('wrong password!', '10.9.9.1')).status).toBe(401);
      expect(await delay()).toBe(first * 2);

      await ctx()
        .database.db.update(schema.loginThrottle)
        .set({ blockedUntil: new Date(Date.now() - 1000) })
        .where(eq(schema.loginThrottle.key, key));
      expect((await attempt(GOOD_PASSWORD, '10.9.9.1')).status).toBe(200);
      // Success resets the account's bucket for that address: five more free failures.
      const rows = await ctx()
        .database.db.select()
        .from(schema.loginThrottle)
        .where(eq(schema.loginThrottle.key, key));
      expect(rows).toEqual([]);
    });

    it('throttles one address trying many accounts', async () => {
      const address = '10.200.0.1';
      for (let i = 0; i < 21; i++) {
        const response = await call(
          ctx().url,
          'users.login',
          { email: `guess-${i}-${randomUUID()}@example.test`, password: 'wrong password!' },
          { headers: { 'x-forwarded-for': address } },
        );
        expect(response.status).toBe(401);
      }
      const a = await register(ctx());
      const blocked = await call(
        ctx().url,
        'users.login',
        { email: a.email, password: GOOD_PASSWORD },
        { headers: { 'x-forwarded-for': address } },
      );
      expect(blocked.status).toBe(429);
      const elsewhere = await call(
        ctx().url,
        'users.login',
        { email: a.email, password: GOOD_PASSWORD },
        { headers: { 'x-forwarded-for': '10.200.0.2' } },
      );
      expect(elsewhere.status).toBe(200);
    });

    it.each([
      ['no token at all', {}],
      ['a garbled bearer token', { authorization: 'Bearer abc' }],
      [
        'a bearer token of the right shape that was never issued',
        { authorization: `Bearer ${'a'.repeat(24)}.${'b'.repeat(24)}` },
      ],
      ['a malformed Authorization header', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['a forged cookie', { cookie: `lifexp_session=${'c'.repeat(24)}.${'d'.repeat(24)}` }],
      ['an oversized token', { authorization: `Bearer ${'x'.repeat(4000)}` }],
    ])('refuses %s with UNAUTHORIZED', async (_label, headers) => {
      const response = await call(ctx().url, 'users.profile', undefined, { type: 'query', headers });
      expect(response.status).toBe(401);
      expect(response.error?.data.code).toBe('UNAUTHORIZED');
    });

    it('refuses a known session id with a wrong secret, and clears a bad cookie', async () => {
      const a = await register(ctx());
      const [id] = a.token.split('.');
      const forged = `${id}.${'z'.repeat(24)}`;
      const response = await call(ctx().url, 'users.profile', undefined, {
        type: 'query',
        headers: { cookie: `lifexp_session=${forged}` },
      });
      expect(response.status).toBe(401);
      expect(response.headers.getSetCookie().join()).toMatch(/lifexp_session=; Max-Age=0/);
      // The real session is unharmed.
      expect(
        (await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer })).status,
      ).toBe(200);
    });

    it('expires a session after 30 idle days and renews an active one at most hourly', async () => {
      const a = await register(ctx());
      const [id] = a.token.split('.') as [string];
      const { db } = ctx().database;
      // Time passing, as the database sees it. The server's session cache (SESSION_CACHE_MS, seconds)
      // would long have forgotten the session after such a wait: it forgets it here too.
      const setIdle = async (ms: number) => {
        await db
          .update(schema.sessions)
          .set({ lastVerifiedAt: new Date(Date.now() - ms) })
          .where(eq(schema.sessions.id, id));
        ctx().server.deps.hub.sessions.clear();
      };
      const lastVerified = async () =>
        (await db.select().from(schema.sessions).where(eq(schema.sessions.id, id)))[0]?.lastVerifiedAt;
      const profile = () =>
        call(ctx().url, 'users.profile', undefined, { type: 'query', headers: { cookie: a.cookie } });

      await setIdle(10 * 60 * 1000);
      const before = await lastVerified();
      const quiet = await profile();
      expect(quiet.status).toBe(200);
      expect(quiet.headers.getSetCookie()).toEqual([]);
      expect(await lastVerified()).toEqual(before);

      await setIdle(2 * 60 * 60 * 1000);
      const renewed = await profile();
      expect(renewed.status).toBe(200);
      expect(renewed.headers.getSetCookie().join()).toMatch(/lifexp_session=.+; Max-Age=2592000/);
      expect(Date.now() - (await lastVerified())!.getTime()).toBeLessThan(60_000);

      await setIdle(30 * 24 * 60 * 60 * 1000 + 1000);
      expect((await profile()).status).toBe(401);
      expect(await lastVerified()).toBeUndefined();
    });

    it('logout ends one session and clears its cookie; logoutAll ends the other devices', async () => {
      const a = await register(ctx());
      const deviceB = (await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD }))
        .data as { token: string };
      const deviceC = (await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD }))
        .data as { token: string };
      const profile = (token: string) =>
        call(ctx().url, 'users.profile', undefined, {
          type: 'query',
          headers: { authorization: `Bearer ${token}` },
        });

      const out = await call(ctx().url, 'users.logout', null, {
        headers: { cookie: a.cookie, origin: ORIGIN },
      });
      expect(out.status).toBe(200);
      expect(out.headers.getSetCookie().join()).toMatch(
        /lifexp_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax/,
      );
      expect((await profile(a.token)).status).toBe(401);
      expect((await profile(deviceB.token)).status).toBe(200);

      const all = await call(ctx().url, 'users.logoutAll', null, {
        headers: { authorization: `Bearer ${deviceB.token}` },
      });
      expect(all.data).toEqual({ ok: true, endedSessions: 1 });
      expect((await profile(deviceC.token)).status).toBe(401);
      expect((await profile(deviceB.token)).status).toBe(200);
    });

    it('refuses a cookie-authenticated mutation without an allowed Origin, changing nothing', async () => {
      const a = await register(ctx());
      const attempt = (headers: Record<string, string>) =>
        call(
          ctx().url,
          'users.updatePreferences',
          { preferences: { theme: 'light' } },
          { headers: { cookie: a.cookie, ...headers } },
        );
      for (const headers of [
        {},
        { origin: 'https://evil.example' },
        { 'sec-fetch-site': 'cross-site' },
      ] as Record<string, string>[]) {
        const response = await attempt(headers);
        expect(response.status).toBe(403);
        expect(response.error?.data.code).toBe('FORBIDDEN');
      }
      const profile = await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer });
      expect((profile.data as { preferences: unknown }).preferences).toEqual({});
      expect((await attempt({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      // A login from a foreign page (login CSRF) is refused too; scripts without Origin are not.
      const foreign = await call(
        ctx().url,
        'users.login',
        { email: a.email, password: GOOD_PASSWORD },
        { headers: { origin: 'https://evil.example' } },
      );
      expect(foreign.status).toBe(403);
    });

    it.each([
      [{ preferences: { theme: 'neon' } }, 'preferences.theme'],
      [{ preferences: { weekStartsOn: 7 } }, 'preferences.weekStartsOn'],
      [{ preferences: { favouriteColour: 'red' } }, 'Unrecognized key'],
      [{ preferences: { ui: { blob: 'x'.repeat(9000) } } }, 'preferences.ui'],
      [{ preferences: { ui: { deep: Array.from({ length: 101 }, () => 1) } } }, 'preferences.ui'],
      [{ timezone: 'Nowhere/Special' }, 'timezone'],
      [{}, 'give a timezone or preferences'],
    ])('refuses bad preferences #%# with BAD_REQUEST and changes nothing', async (input, message) => {
      const a = await register(ctx());
      const response = await call(ctx().url, 'users.updatePreferences', input, { headers: a.bearer });
      expect(response.status).toBe(400);
      expect(response.error?.message).toContain(message);
      const profile = await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer });
      expect(profile.data).toMatchObject({ preferences: {}, timezone: 'UTC' });
    });

    it('changes the password only with the current one, and signs out the other devices', async () => {
      const a = await register(ctx());
      const other = (await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD }))
        .data as { token: string };
      const wrong = await call(
        ctx().url,
        'users.changePassword',
        { currentPassword: 'not my password', newPassword: 'brand new secret 9' },
        { headers: a.bearer },
      );
      expect(wrong.status).toBe(403);
      const weak = await call(
        ctx().url,
        'users.changePassword',
        { currentPassword: GOOD_PASSWORD, newPassword: 'password1' },
        { headers: a.bearer },
      );
      expect(weak.status).toBe(400);
      expect((await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD })).status).toBe(
        200,
      );

      const changed = await call(
        ctx().url,
        'users.changePassword',
        { currentPassword: GOOD_PASSWORD, newPassword: 'brand new secret 9' },
        { headers: a.bearer },
      );
      expect(changed.status).toBe(200);
      expect((changed.data as { endedSessions: number }).endedSessions).toBe(2);
      expect(
        (
          await call(ctx().url, 'users.profile', undefined, {
            type: 'query',
            headers: { authorization: `Bearer ${other.token}` },
          })
        ).status,
      ).toBe(401);
      expect(
        (await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer })).status,
      ).toBe(200);
      expect((await call(ctx().url, 'users.login', { email: a.email, password: GOOD_PASSWORD })).status).toBe(
        401,
      );
      expect(
        (await call(ctx().url, 'users.login', { email: a.email, password: 'brand new secret 9' })).status,
      ).toBe(200);
    });

    it('deletes the account with every row of it, only with the password', async () => {
      const a = await register(ctx());
      const b = await register(ctx());
      await call(
        ctx().url,
        'users.updatePreferences',
        { preferences: { theme: 'dark' } },
        { headers: a.bearer },
      );
      const wrong = await call(
        ctx().url,
        'users.deleteAccount',
        { password: 'not my password' },
        { headers: a.bearer },
      );
      expect(wrong.status).toBe(403);

      const deleted = await call(
        ctx().url,
        'users.deleteAccount',
        { password: GOOD_PASSWORD },
        { headers: a.bearer },
      );
      expect(deleted.status).toBe(200);
      expect(
        (await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: a.bearer })).status,
      ).toBe(401);
      const { db } = ctx().database;
      for (const table of [
        schema.sessions,
        schema.metrics,
        schema.entries,
        schema.insights,
        schema.syncState,
        schema.changeLog,
      ]) {
        const rows = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(table)
          .where(eq(table.userId, a.user.id));
        expect(rows[0]!.n).toBe(0);
      }
      expect(await db.select().from(schema.users).where(eq(schema.users.id, a.user.id))).toEqual([]);
      // The other account is untouched.
      expect(
        (await call(ctx().url, 'users.profile', undefined, { type: 'query', headers: b.bearer })).status,
      ).toBe(200);
    });

    it('authenticates WebSocket clients by connectionParams.token', async () => {
      const a = await register(ctx());
      const signedIn = wsClient(ctx().url, { token: a.token });
      const anonymous = wsClient(ctx().url);
      try {
        expect(await signedIn.client.users.profile.query()).toMatchObject({ id: a.user.id });
        await expect(anonymous.client.users.profile.query()).rejects.toMatchObject({
          data: { code: 'UNAUTHORIZED' },
        });
      } finally {
        await signedIn.socket.close();
        await anonymous.socket.close();
      }
    });
  },
  { TRUST_PROXY: 'true' },
  { listen: true },
);

describe('session cookie security', () => {
  it.each([
    ['localhost:3000', false],
    ['127.0.0.1:3000', false],
    ['[::1]:3000', false],
    ['app.example.com', true],
  ])('Secure for host %s: %s', async (host, secure) => {
    const { sessionCookie } = await import('../src/auth/cookies');
    expect(sessionCookie('t', host).includes('Secure')).toBe(secure);
  });
});

// Keeps the raw-request import used: a Host header set by hand, as a proxy would forward it.
describeServer(
  'users behind a public host name',
  (ctx) => {
    it('marks the cookie Secure when not served on localhost', async () => {
      const { port } = new URL(ctx().url);
      const body = JSON.stringify({ email: `secure-${randomUUID()}@example.test`, password: GOOD_PASSWORD });
      const setCookie = await new Promise<string[]>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/trpc/users.register',
            method: 'POST',
            headers: { host: 'lifexp.example.com', 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.headers['set-cookie'] ?? []);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(setCookie.join()).toMatch(/HttpOnly; Secure; SameSite=Lax/);
    });
  },
  { ALLOWED_HOSTS: 'lifexp.example.com' },
  { listen: true },
);
