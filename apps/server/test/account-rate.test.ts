import { createSession, rowsOf } from '@lifexp/db';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { call, describeServer, errorOf, send, signUp, wsClient } from './support';

// One account's API calls per second (API_ACCOUNT_CALLS_PER_SECOND after API_ACCOUNT_CALLS_BURST),
// set low here: 5 at once, then one every 20 s (no test waits for a refill). A refusal is held for
// API_REFUSAL_HOLD_MS (1 s) before it is answered, at most API_REFUSAL_HOLD_MAX (here 2) at once.
const env = { API_ACCOUNT_CALLS_PER_SECOND: '0.05', API_ACCOUNT_CALLS_BURST: '5', API_REFUSAL_HOLD_MAX: '2' };

describeServer(
  'API calls per account',
  (ctx) => {
    const list = (token: string) =>
      call(ctx().url, 'metrics.list', {}, { type: 'query', headers: { authorization: `Bearer ${token}` } });

    it('answers the burst, then refuses with 429, Retry-After and nothing done', async () => {
      const person = await signUp(ctx().url);
      const auth = { authorization: `Bearer ${person.token}` };
      const answered = [];
      for (let i = 0; i < 4; i++) answered.push((await list(person.token)).status);
      const created = await call(
        ctx().url,
        'metrics.create',
        { name: 'Mood', type: 'rating', category: 'mood' },
        { headers: auth },
      );
      expect([...answered, created.status]).toEqual([200, 200, 200, 200, 200]);

      const asked = performance.now();
      const refused = await call(
        ctx().url,
        'metrics.create',
        { name: 'Energy', type: 'rating', category: 'mood' },
        { headers: auth },
      );
      // Held a second (API_REFUSAL_HOLD_MS, below its Retry-After) before the answer.
      expect(performance.now() - asked).toBeGreaterThanOrEqual(990);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('20');
      expect(refused.error).toMatchObject({
        message: 'at most 0.05 API calls a second per account; ask again in 20 s',
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, details: { retryAfterSeconds: 20 } },
      });
      expect(JSON.parse(refused.text).error.data.requestId).toEqual(expect.any(String));
      // The refused create did nothing.
      const metrics = await ctx().database.database.db.execute(
        sql`select name from metrics where user_id = ${person.user.id}`,
      );
      expect(rowsOf<{ name: string }>(metrics).map((metric) => metric.name)).toEqual(['Mood']);
    });

    it('counts the account, over every token and over REST as well as tRPC', async () => {
      const person = await signUp(ctx().url);
      const second = (await createSession(ctx().database.database.db, person.user.id)).token;
      for (let i = 0; i < 3; i++) expect((await list(person.token)).status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await list(second)).status).toBe(200);
      expect((await list(second)).status).toBe(429);
      const rest = await send(`${ctx().url}/api/metrics`, {
        headers: { authorization: `Bearer ${person.token}` },
      });
      expect(rest.status).toBe(429);
      // The refusal before was held a second: the bucket has refilled by that much meanwhile.
      const seconds = Number(rest.headers.get('retry-after'));
      expect(seconds).toBeGreaterThanOrEqual(15);
      expect(seconds).toBeLessThanOrEqual(20);
      expect(await rest.json()).toMatchObject({
        code: 'TOO_MANY_REQUESTS',
        message: `at most 0.05 API calls a second per account; ask again in ${seconds} s`,
        details: { retryAfterSeconds: seconds },
        requestId: expect.any(String),
      });
      // Another account is not affected.
      const other = await signUp(ctx().url);
      expect((await list(other.token)).status).toBe(200);
    });

    it('counts every call of a batch, and answers a refused batch call by call', async () => {
      const person = await signUp(ctx().url);
      const auth = { authorization: `Bearer ${person.token}` };
      const batch = (size: number) =>
        send(
          `${ctx().url}/trpc/${Array.from({ length: size }, () => 'metrics.list').join(',')}?batch=1&input=${encodeURIComponent(
            JSON.stringify(Object.fromEntries(Array.from({ length: size }, (_, i) => [i, {}]))),
          )}`,
          { headers: auth },
        );
      const four = await batch(4);
      expect(four.status).toBe(200);
      expect(await four.json()).toHaveLength(4);
      // One call left: a batch of three is refused whole, with one error per call.
      const three = await batch(3);
      expect(three.status).toBe(429);
      expect(three.headers.get('retry-after')).toBe('40');
      const errors = (await three.json()) as { error: { data: { code: string } } }[];
      expect(errors.map((answer) => answer.error.data.code)).toEqual([
        'TOO_MANY_REQUESTS',
        'TOO_MANY_REQUESTS',
        'TOO_MANY_REQUESTS',
      ]);
      // The one call left still goes through.
      expect((await list(person.token)).status).toBe(200);
    });

    it("counts calls over a WebSocket with the account's calls over HTTP, and refuses them alike", async () => {
      const person = await signUp(ctx().url);
      const { socket, client } = wsClient(ctx().url, { token: person.token });
      const other = await signUp(ctx().url);
      const second = wsClient(ctx().url, { token: other.token });
      try {
        for (let i = 0; i < 3; i++) expect(await client.metrics.list.query({})).toEqual([]);
        for (let i = 0; i < 2; i++) expect((await list(person.token)).status).toBe(200);
        const refused = await errorOf(
          client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' }),
        );
        expect(refused).toEqual({
          code: 'TOO_MANY_REQUESTS',
          message: 'at most 0.05 API calls a second per account; ask again in 20 s',
          details: { retryAfterSeconds: 20 },
        });
        const metrics = await ctx().database.database.db.execute(
          sql`select name from metrics where user_id = ${person.user.id}`,
        );
        expect(rowsOf(metrics)).toEqual([]);
        // The socket stays open; HTTP is refused as well; another account's socket is not affected.
        expect((await errorOf(client.metrics.list.query({}))).code).toBe('TOO_MANY_REQUESTS');
        expect(await second.client.metrics.list.query({})).toEqual([]);
        expect((await list(person.token)).status).toBe(429);
      } finally {
        socket.close();
        second.socket.close();
      }
    });

    it('holds at most API_REFUSAL_HOLD_MAX refusals at once; the rest are answered at once', async () => {
      const person = await signUp(ctx().url);
      for (let i = 0; i < 5; i++) expect((await list(person.token)).status).toBe(200);
      const timed = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const asked = performance.now();
          const response = await list(person.token);
          return { status: response.status, ms: performance.now() - asked };
        }),
      );
      expect(timed.map((answer) => answer.status)).toEqual([429, 429, 429, 429]);
      expect(timed.filter((answer) => answer.ms >= 990)).toHaveLength(2);
    });

    it('neither counts nor refuses the routes that take no session, whatever token they carry', async () => {
      const person = await signUp(ctx().url);
      const auth = { authorization: `Bearer ${person.token}` };
      const sessionless = ['/api/openapi.json', '/api/docs', '/api/notifications/unsubscribe?token=x'];
      for (const path of [...sessionless, ...sessionless])
        expect((await send(`${ctx().url}${path}`, { headers: auth })).status).not.toBe(429);
      // Six sessionless requests later, the whole burst is still there.
      for (let i = 0; i < 5; i++) expect((await list(person.token)).status).toBe(200);
      expect((await list(person.token)).status).toBe(429);
      // Refused for its calls, the account still reads the API's description.
      const document = await send(`${ctx().url}/api/openapi.json`, { headers: auth });
      expect(document.status).toBe(200);
      expect(((await document.json()) as { openapi: string }).openapi).toMatch(/^3\./);
      expect((await send(`${ctx().url}/api/docs`, { headers: auth })).status).toBe(200);
    });

    it('leaves calls without a valid session to the procedures (401), uncounted', async () => {
      for (let i = 0; i < 8; i++) expect((await list('not-a-token')).status).toBe(401);
      const signedOut = await call(ctx().url, 'metrics.list', {}, { type: 'query' });
      expect(signedOut.status).toBe(401);
    });
  },
  env,
  // On a port: the WebSocket case needs a socket.
  { listen: true },
);
