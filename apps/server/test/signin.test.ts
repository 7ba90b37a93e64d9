import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { schema } from '@lifexp/db';
import { like, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { startMaintenance } from '../src/maintenance';
import { call, describeServer, eventually, type TestServer } from './support';

// Sign-in that cannot be abused: every attempt counts (batches, parallel calls), strangers cannot
// lock the owner out, registration is rationed per address, and one origin rule holds for HTTP and
// the WebSocket upgrade. Real HTTP and WebSocket clients against a listening server, on both drivers.

const GOOD_PASSWORD = 'correct horse battery';
const WRONG = 'wrong password!';
const ORIGIN = 'http://localhost:5173';

let counter = 0;
/**
 * How many password checks the per-account-and-address bucket lets through in `elapsedMs`: five free
 * attempts and the one that sets the first block, then one more each time a block (2 s, doubling)
 * has run out. On a busy machine a burst can take longer than the first block; the bound follows the
 * policy rather than the clock's speed.
 */
function checksAllowed(elapsedMs: number): number {
  let allowed = 6;
  let waited = 0;
  for (let block = 2; (waited + block) * 1000 <= elapsedMs; block *= 2) {
    waited += block;
    allowed += 1;
  }
  return allowed;
}

function identity() {
  counter += 1;
  return {
    email: `signin-${randomUUID()}@example.test`,
    address: `10.1.${Math.floor(counter / 250)}.${counter % 250}`,
  };
}

function cookiesOf(response: { headers: Headers }): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ');
}

async function register(ctx: TestServer, who = identity()) {
  const response = await call(
    ctx.url,
    'users.register',
    { email: who.email, password: GOOD_PASSWORD },
    { headers: { 'x-forwarded-for': who.address } },
  );
  expect(response.status, response.text).toBe(200);
  const data = response.data as { user: { id: string; email: string }; token: string };
  return { ...who, ...data, cookies: cookiesOf(response) };
}

function login(ctx: TestServer, email: string, password: string, address: string, cookie?: string) {
  return call(
    ctx.url,
    'users.login',
    { email, password },
    { headers: { 'x-forwarded-for': address, ...(cookie ? { cookie } : {}) } },
  );
}

/** A raw batched POST, as `POST /trpc/a,b,c?batch=1` with inputs keyed by index. */
async function batch(
  ctx: TestServer,
  paths: string[],
  inputs: unknown[],
  headers: Record<string, string> = {},
) {
  const body = Object.fromEntries(inputs.map((input, index) => [String(index), input]));
  const response = await fetch(`${ctx.url}/trpc/${paths.join(',')}?batch=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as unknown };
}

type Answer = { result?: { data: unknown }; error?: { data: { code: string } } };

describeServer(
  'sign-in under attack',
  (ctx) => {
    it('refuses a batch over MAX_BATCH_SIZE, and any batch holding a credential procedure', async () => {
      const a = await register(ctx());
      // 300 logins in one request: over the batch limit, refused as a whole.
      const huge = await batch(
        ctx(),
        Array.from({ length: 300 }, () => 'users.login'),
        Array.from({ length: 300 }, (_, i) => ({
          email: a.email,
          password: i === 299 ? GOOD_PASSWORD : WRONG,
        })),
        { 'x-forwarded-for': '10.2.0.1' },
      );
      expect(huge.status).toBe(400);
      expect(JSON.stringify(huge.body)).toMatch(/Batch call exceeds maximum size/);

      // 10 wrong logins then the right one, within the limit: every call is refused, none verified.
      const small = await batch(
        ctx(),
        Array.from({ length: 11 }, () => 'users.login'),
        Array.from({ length: 11 }, (_, i) => ({
          email: a.email,
          password: i === 10 ? GOOD_PASSWORD : WRONG,
        })),
        { 'x-forwarded-for': '10.2.0.1' },
      );
      const answers = small.body as Answer[];
      expect(answers).toHaveLength(11);
      expect(answers.every((answer) => answer.error?.data.code === 'BAD_REQUEST')).toBe(true);
      expect(JSON.stringify(answers)).not.toMatch(/"token"/);

      // changePassword, deleteAccount and register are refused in a batch too, even beside a harmless call.
      const bearer = { authorization: `Bearer ${a.token}` };
      const mixed = await batch(
        ctx(),
        ['users.changePassword', 'users.deleteAccount', 'users.register'],
        [
          { currentPassword: WRONG, newPassword: 'a new good passphrase' },
          { password: WRONG },
          { email: `batch-${randomUUID()}@example.test`, password: GOOD_PASSWORD },
        ],
        bearer,
      );
      const mixedAnswers = mixed.body as Answer[];
      expect(mixedAnswers.map((answer) => answer.error?.data.code)).toEqual([
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
      ]);
      // Nothing was counted against the account: the owner signs in at once.
      expect((await login(ctx(), a.email, GOOD_PASSWORD, '10.2.0.1')).status).toBe(200);
    });

    it('counts N parallel wrong logins as N: the right one sent last is refused', async () => {
      const a = await register(ctx());
      const address = '10.3.0.1';
      const started = Date.now();
      const wrong = await Promise.all(
        Array.from({ length: 30 }, () => login(ctx(), a.email, WRONG, address)),
      );
      const right = await login(ctx(), a.email, GOOD_PASSWORD, address);
      const allowed = checksAllowed(Date.now() - started);
      const statuses = wrong.map((response) => response.status);
      // Five free attempts and the one that sets the block were verified; the rest were refused.
      const checked = statuses.filter((status) => status === 401).length;
      expect(checked).toBeGreaterThanOrEqual(6);
      expect(checked + (right.status === 200 ? 1 : 0)).toBeLessThanOrEqual(allowed);
      expect(statuses.filter((status) => status === 429)).toHaveLength(30 - checked);
      if (allowed === 6) {
        expect(right.status).toBe(429);
        expect(right.text).not.toMatch(/"token"/);
      }
    });

    it('counts a WebSocket frame of N wrong logins and the right one as N + 1 attempts', async () => {
      const a = await register(ctx());
      const ws = new WebSocket(`${ctx().url.replace('http', 'ws')}/trpc`, {
        headers: { 'x-forwarded-for': '10.3.1.1' },
      });
      const answers: Answer[] = [];
      ws.on('message', (data) => answers.push(JSON.parse(String(data)) as Answer));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      try {
        // tRPC takes an array of requests in one frame: its own kind of batch.
        const frame = Array.from({ length: 31 }, (_, i) => ({
          id: i + 1,
          method: 'mutation',
          params: {
            path: 'users.login',
            input: { email: a.email, password: i === 30 ? GOOD_PASSWORD : WRONG },
          },
        }));
        const started = Date.now();
        ws.send(JSON.stringify(frame));
        await eventually(async () => (answers.length >= 31 ? true : undefined), 'every answer');
        const allowed = checksAllowed(Date.now() - started);
        const byId = new Map(answers.map((answer) => [(answer as { id: number }).id, answer]));
        const codes = [...byId.values()].map((answer) => answer.error?.data.code ?? 'OK');
        const checked = codes.filter((code) => code === 'UNAUTHORIZED' || code === 'OK').length;
        expect(checked).toBeLessThanOrEqual(allowed);
        expect(codes.filter((code) => code === 'TOO_MANY_REQUESTS')).toHaveLength(31 - checked);
        // The frame's calls reserve their slots concurrently (on PostgreSQL each on its own pooled
        // connection), so which ones are checked is not their order in the frame: only the right
        // password can pass, and only inside the checked attempts counted above.
        const passed = [...byId.entries()].filter(([, answer]) => !answer.error).map(([id]) => id);
        expect(passed.every((id) => id === 31)).toBe(true);
      } finally {
        ws.terminate();
      }
    });

    it('counts N parallel wrong passwords for changePassword and deleteAccount as N', async () => {
      const a = await register(ctx());
      const bearer = { authorization: `Bearer ${a.token}` };
      const attempts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? call(
                ctx().url,
                'users.changePassword',
                { currentPassword: WRONG, newPassword: 'a new good passphrase' },
                { headers: bearer },
              )
            : call(ctx().url, 'users.deleteAccount', { password: WRONG }, { headers: bearer }),
        ),
      );
      const statuses = attempts.map((response) => response.status);
      expect(statuses.filter((status) => status === 403)).toHaveLength(6);
      expect(statuses.filter((status) => status === 429)).toHaveLength(14);
      const right = await call(
        ctx().url,
        'users.changePassword',
        { currentPassword: GOOD_PASSWORD, newPassword: 'a new good passphrase' },
        { headers: bearer },
      );
      expect(right.status).toBe(429);
    });

    it("does not let a stranger's failures lock the owner's known device out", async () => {
      const owner = await register(ctx());
      // The owner signed in from this browser before: it holds a device cookie for the account.
      const earlier = await login(ctx(), owner.email, GOOD_PASSWORD, owner.address);
      expect(earlier.status).toBe(200);
      const deviceCookie = cookiesOf(earlier)
        .split('; ')
        .find((part) => part.startsWith('lifexp_device='))!;
      expect(deviceCookie).toBeDefined();
      const ownerSession = (earlier.data as { token: string }).token;

      // The attacker: a burst from one address, then a spread over 60 addresses (past the soft cap).
      await Promise.all(Array.from({ length: 16 }, () => login(ctx(), owner.email, WRONG, '10.66.0.1')));
      for (let i = 0; i < 60; i++) await login(ctx(), owner.email, WRONG, `10.66.1.${i}`);
      // A forged device cookie (another nonce, a made-up signature) is no known device.
      const forged = await login(
        ctx(),
        owner.email,
        WRONG,
        '10.66.0.1',
        'lifexp_device=AAAAAAAAAAAAAAAAAAAAAA.forged',
      );
      expect(forged.status).toBe(429);
      // An unknown device of the owner is slowed down by the account's soft cap…
      expect((await login(ctx(), owner.email, GOOD_PASSWORD, '10.77.0.1')).status).toBe(429);

      // …the known device signs in, from its usual address and even from the attacker's.
      expect((await login(ctx(), owner.email, GOOD_PASSWORD, owner.address, deviceCookie)).status).toBe(200);
      expect((await login(ctx(), owner.email, GOOD_PASSWORD, '10.66.0.1', deviceCookie)).status).toBe(200);
      // A device cookie of another account does not help with this one.
      const other = await register(ctx());
      const otherLogin = await login(ctx(), other.email, GOOD_PASSWORD, other.address);
      const otherDevice = cookiesOf(otherLogin)
        .split('; ')
        .find((part) => part.startsWith('lifexp_device='))!;
      expect((await login(ctx(), owner.email, GOOD_PASSWORD, '10.66.0.1', otherDevice)).status).toBe(429);

      // Nor does the attack block the owner's password change or account deletion.
      const bearer = { authorization: `Bearer ${ownerSession}` };
      const changed = await call(
        ctx().url,
        'users.changePassword',
        { currentPassword: GOOD_PASSWORD, newPassword: 'a new good passphrase' },
        { headers: bearer },
      );
      expect(changed.status, changed.text).toBe(200);

      // Deleting the account removes every throttle row keyed by its email (and its user id).
      const keysOf = async () =>
        (
          await ctx()
            .database.db.select({ key: schema.loginThrottle.key })
            .from(schema.loginThrottle)
            .where(like(schema.loginThrottle.key, `%${owner.email}%`))
        ).map((row) => row.key);
      expect((await keysOf()).length).toBeGreaterThan(10);
      const deleted = await call(
        ctx().url,
        'users.deleteAccount',
        { password: 'a new good passphrase' },
        { headers: bearer },
      );
      expect(deleted.status, deleted.text).toBe(200);
      expect(await keysOf()).toEqual([]);
      // The other account's rows stay.
      const [otherRows] = await ctx()
        .database.db.select({ n: sql<number>`count(*)::int` })
        .from(schema.loginThrottle)
        .where(like(schema.loginThrottle.key, `%${other.email}%`));
      expect(otherRows!.n).toBeGreaterThan(0);
    });

    it('expires idle throttle rows in the maintenance pass, keeping live blocks', async () => {
      const db = ctx().database.db;
      const old = new Date(Date.now() - 2 * 3600_000);
      const tag = randomUUID();
      await db.insert(schema.loginThrottle).values([
        { key: `address:idle-${tag}`, failures: 3, lastFailureAt: old, blockedUntil: null },
        {
          key: `address:lapsed-${tag}`,
          failures: 30,
          lastFailureAt: old,
          blockedUntil: new Date(Date.now() - 60_000),
        },
        {
          key: `address:blocked-${tag}`,
          failures: 30,
          lastFailureAt: old,
          blockedUntil: new Date(Date.now() + 600_000),
        },
        { key: `address:recent-${tag}`, failures: 2, lastFailureAt: new Date(), blockedUntil: null },
      ]);
      const maintenance = startMaintenance(ctx().server.deps);
      try {
        await maintenance.runOnce();
      } finally {
        maintenance.stop();
      }
      const left = await db
        .select({ key: schema.loginThrottle.key })
        .from(schema.loginThrottle)
        .where(like(schema.loginThrottle.key, `%${tag}`));
      expect(left.map((row) => row.key).sort()).toEqual([`address:blocked-${tag}`, `address:recent-${tag}`]);
    });
  },
  { TRUST_PROXY: 'true' },
  { listen: true },
);

describeServer(
  'registration per address',
  (ctx) => {
    it('allows REGISTRATIONS_PER_ADDRESS sign-ups per address and hour, then answers 429', async () => {
      const address = '10.4.0.1';
      const attempt = (email: string, from = address) =>
        call(
          ctx().url,
          'users.register',
          { email, password: GOOD_PASSWORD },
          { headers: { 'x-forwarded-for': from } },
        );
      const taken = `taken-${randomUUID()}@example.test`;
      expect((await attempt(taken)).status).toBe(200);
      // Asking whether an email is taken costs a registration too.
      expect((await attempt(taken)).status).toBe(409);
      expect((await attempt(`new-${randomUUID()}@example.test`)).status).toBe(200);
      const refused = await attempt(`more-${randomUUID()}@example.test`);
      expect(refused.status).toBe(429);
      expect(refused.error?.data.code).toBe('TOO_MANY_REQUESTS');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The enumeration question is refused as well, with the same answer.
      expect((await attempt(taken)).status).toBe(429);
      expect((await attempt(`elsewhere-${randomUUID()}@example.test`, '10.4.0.2')).status).toBe(200);
    });
  },
  { TRUST_PROXY: 'true', REGISTRATIONS_PER_ADDRESS: '3' },
);

/** One raw HTTP request with any Host header (fetch does not let a caller set Host). */
function rawPost(url: string, path: string, headers: Record<string, string>, body: string) {
  const { port } = new URL(url);
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function upgradeStatus(url: string, headers: Record<string, string>) {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', () => {});
  });
}

describeServer(
  'one origin rule for HTTP and WebSocket',
  (ctx) => {
    it('judges every origin the same on both transports, and refuses an unexpected Host', async () => {
      const a = await register(ctx());
      const session = a.cookies.split('; ').find((part) => part.startsWith('lifexp_session='))!;
      const { host } = new URL(ctx().url);
      const cases: [string, Record<string, string>, 'allowed' | 'refused' | 'misdirected'][] = [
        ['an allowed origin', { origin: ORIGIN }, 'allowed'],
        ['this server’s own origin', { origin: `http://${host}` }, 'allowed'],
        ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }, 'allowed'],
        ['a foreign origin', { origin: 'https://evil.example' }, 'refused'],
        [
          'a foreign origin claiming same-site',
          { origin: 'https://evil.example', 'sec-fetch-site': 'same-site' },
          'refused',
        ],
        ['a cross-site fetch without Origin', { 'sec-fetch-site': 'cross-site' }, 'refused'],
        ['no Origin at all, with the cookie', {}, 'refused'],
        ['the own origin on another port', { origin: `http://127.0.0.1:1` }, 'refused'],
        ['the origin "null"', { origin: 'null' }, 'refused'],
        // DNS rebinding: a foreign name that resolves to this server sends its own Host and Origin.
        [
          'a rebound host name',
          { host: 'rebind.evil.example', origin: 'http://rebind.evil.example' },
          'misdirected',
        ],
        [
          'an allowed origin to a foreign Host',
          { host: 'rebind.evil.example', origin: ORIGIN },
          'misdirected',
        ],
      ];
      const expected = { allowed: [200, 101], refused: [403, 403], misdirected: [421, 421] };
      for (const [label, headers, verdict] of cases) {
        const all = { ...headers, cookie: session };
        const overHttp = await rawPost(
          ctx().url,
          '/trpc/users.updatePreferences',
          all,
          JSON.stringify({ preferences: { theme: 'dark' } }),
        );
        const overWs = await upgradeStatus(ctx().url, all);
        expect([label, overHttp, overWs]).toEqual([label, ...expected[verdict]]);
      }
      // Without a cookie, no Origin is a script: allowed on both (it has nothing of the user's to ride).
      expect(await upgradeStatus(ctx().url, {})).toBe(101);
      expect(
        await rawPost(
          ctx().url,
          '/trpc/users.login',
          {},
          JSON.stringify({ email: a.email, password: GOOD_PASSWORD }),
        ),
      ).toBe(200);
      expect(
        await rawPost(
          ctx().url,
          '/trpc/users.login',
          { origin: 'https://evil.example' },
          JSON.stringify({ email: a.email, password: GOOD_PASSWORD }),
        ),
      ).toBe(403);
      expect(await upgradeStatus(ctx().url, { origin: 'https://evil.example' })).toBe(403);
    });
  },
  { TRUST_PROXY: 'true' },
  { listen: true },
);

describeServer(
  'allowed hosts from the configuration',
  (ctx) => {
    it('serves the names in ALLOWED_HOSTS and no other, on both transports', async () => {
      const body = JSON.stringify({ email: `nobody-${randomUUID()}@example.test`, password: WRONG });
      expect(await rawPost(ctx().url, '/trpc/users.login', { host: 'app.example.com' }, body)).toBe(401);
      expect(await upgradeStatus(ctx().url, { host: 'app.example.com' })).toBe(101);
      expect(await rawPost(ctx().url, '/trpc/users.login', { host: 'localhost' }, body)).toBe(421);
      expect(await upgradeStatus(ctx().url, { host: 'localhost' })).toBe(421);
      // Health probes answer whatever the name.
      const { port } = new URL(ctx().url);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    });
  },
  { ALLOWED_HOSTS: 'app.example.com' },
  { listen: true },
);
