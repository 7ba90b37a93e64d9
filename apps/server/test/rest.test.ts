import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppRouter } from '../src/trpc/router';
import { describeServer } from './support';

// The REST API over real HTTP with plain fetch, as a script in any language would call it.

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  body: any;
}

async function api(
  url: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the text itself
  }
  return { status: response.status, headers: response.headers, body };
}

async function register(url: string) {
  const email = `rest-${randomUUID()}@example.test`;
  const answer = await api(url, 'POST', '/api/users/register', {
    body: { email, password: 'correct horse battery', timezone: 'Europe/Berlin' },
  });
  expect(answer.status).toBe(201);
  return { email, token: answer.body.token as string, user: answer.body.user as { id: string } };
}

/** The documented error body: code, message, requestId, and nothing unexpected. */
function expectError(answer: Answer, status: number, code: string) {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({ status, code });
  expect(typeof answer.body.message).toBe('string');
  expect(answer.body.requestId).toBe(answer.headers.get('x-request-id'));
  expect(Object.keys(answer.body).sort()).toEqual(
    ['code', 'message', 'requestId', ...('details' in answer.body ? ['details'] : [])].sort(),
  );
}

const days = [
  '2026-11-16',
  '2026-11-17',
  '2026-11-18',
  '2026-11-19',
  '2026-11-20',
  '2026-11-21',
  '2026-11-22',
];

describeServer(
  'the REST API',
  (ctx) => {
    it('runs the round trip at the original paths: register, create a metric, log, list, update with If-Match, delete', async () => {
      const { url } = ctx();
      const email = `round-${randomUUID()}@example.test`;
      const registered = await api(url, 'POST', '/api/users/register', {
        body: { email, password: 'correct horse battery' },
      });
      expect(registered.status).toBe(201);
      expect(registered.headers.get('set-cookie')).toContain('lifexp_session=');
      const login = await api(url, 'POST', '/api/users/login', {
        body: { email, password: 'correct horse battery' },
      });
      expect(login.status).toBe(200);
      const token = login.body.token as string;
      expect((await api(url, 'GET', '/api/users/profile', { token })).body.email).toBe(email);
      const preferences = await api(url, 'PUT', '/api/users/preferences', {
        token,
        body: { timezone: 'Europe/Berlin', preferences: { theme: 'dark' } },
      });
      expect(preferences.body).toMatchObject({ timezone: 'Europe/Berlin', preferences: { theme: 'dark' } });

      const created = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: 'Mood', type: 'rating', category: 'mood' },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.headers.get('location')).toBe(`/api/metrics/${created.body.id}`);
      expect(created.body.config).toEqual({ min: 1, max: 5, aggregation: 'mean', missing: 'unknown' });
      const metricId = created.body.id as string;
      expect(
        (await api(url, 'GET', '/api/metrics', { token })).body.map((m: { id: string }) => m.id),
      ).toEqual([metricId]);

      const ids: string[] = [];
      for (const [index, date] of days.entries()) {
        const logged = await api(url, 'POST', '/api/entries', {
          token,
          body: { metricId, value: 1 + (index % 5), date, tags: index % 2 ? ['work', 'home'] : ['work'] },
        });
        expect(logged.status).toBe(201);
        expect(logged.headers.get('etag')).toBe('"1"');
        ids.push(logged.body.id);
      }
      const firstPage = await api(
        url,
        'GET',
        `/api/entries?from=${days[0]}&to=${days[6]}&metricId=${metricId}&limit=4`,
        { token },
      );
      expect(firstPage.status).toBe(200);
      expect(firstPage.body.items.map((e: { date: string }) => e.date)).toEqual(days.slice(3).reverse());
      const secondPage = await api(
        url,
        'GET',
        `/api/entries?limit=4&cursor=${encodeURIComponent(firstPage.body.nextCursor)}`,
        { token },
      );
      expect(secondPage.body.items.map((e: { date: string }) => e.date)).toEqual(days.slice(0, 3).reverse());
      expect(secondPage.body.nextCursor).toBeNull();
      // A repeated tag means every one of them; empty parameters are left out.
      const tagged = await api(url, 'GET', '/api/entries?tag=work&tag=HOME&from=&cursor=', { token });
      expect(tagged.body.items).toHaveLength(3);
      expect((await api(url, 'GET', '/api/entries?tag=work', { token })).body.items).toHaveLength(7);

      const entryId = ids[0]!;
      const updated = await api(url, 'PUT', `/api/entries/${entryId}`, {
        token,
        headers: { 'if-match': '"1"' },
        body: { value: 5, notes: 'after a walk' },
      });
      expect(updated.status).toBe(200);
      expect(updated.headers.get('etag')).toBe('"2"');
      expect(updated.body).toMatchObject({ value: 5, notes: 'after a walk', version: 2 });
      const fetched = await api(url, 'GET', `/api/entries/${entryId}`, { token });
      expect(fetched.headers.get('etag')).toBe('"2"');
      const notModified = await fetch(`${url}/api/entries/${entryId}`, {
        headers: { authorization: `Bearer ${token}`, 'if-none-match': '"2"' },
      });
      expect(notModified.status).toBe(304);

      // A stale precondition is 409 with the object as it is now, and changes nothing.
      const stale = await api(url, 'PUT', `/api/entries/${entryId}`, {
        token,
        headers: { 'if-match': '"1"' },
        body: { value: 1 },
      });
      expectError(stale, 409, 'CONFLICT');
      expect(stale.body.details.current).toMatchObject({ id: entryId, version: 2, value: 5 });
      // baseVersion in the body works as it does over tRPC; neither it nor If-Match: unconditional.
      expect(
        (await api(url, 'PUT', `/api/entries/${entryId}`, { token, body: { baseVersion: 2, value: 4 } })).body
          .version,
      ).toBe(3);
      const blind = await api(url, 'PUT', `/api/entries/${entryId}`, { token, body: { value: 3 } });
      expect(blind.status).toBe(200);
      expect(blind.body).toMatchObject({ value: 3, version: 4 });
      const staleDelete = await api(url, 'DELETE', `/api/entries/${entryId}`, {
        token,
        headers: { 'if-match': 'W/"3"' },
      });
      expectError(staleDelete, 409, 'CONFLICT');
      const deleted = await api(url, 'DELETE', `/api/entries/${entryId}`, {
        token,
        headers: { 'if-match': '"4"' },
      });
      expect(deleted).toMatchObject({ status: 200, body: { id: entryId } });
      expectError(await api(url, 'GET', `/api/entries/${entryId}`, { token }), 404, 'NOT_FOUND');
      expect((await api(url, 'GET', '/api/entries', { token })).body.items).toHaveLength(6);

      const renamed = await api(url, 'PUT', `/api/metrics/${metricId}`, {
        token,
        body: { baseVersion: 1, name: 'Evening mood' },
      });
      expect(renamed.body).toMatchObject({ name: 'Evening mood', version: 2 });
      expect(renamed.headers.get('etag')).toBe('"2"');

      for (const path of ['correlations', 'trends', 'insights']) {
        const answer = await api(url, 'GET', `/api/analytics/${path}`, { token });
        expect(answer.status, path).toBe(200);
      }
      const correlations = await api(url, 'GET', '/api/analytics/correlations?maxLag=1&all=true&minN=7', {
        token,
      });
      expect(correlations.body).toMatchObject({ findings: [], testsRun: expect.any(Number) });
      const csv = await fetch(`${url}/api/analytics/export?format=csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect((await csv.text()).split('\n').filter(Boolean)).toHaveLength(7);

      const gone = await api(url, 'DELETE', `/api/metrics/${metricId}`, { token });
      expect(gone.body).toEqual({ id: metricId, deletedEntries: 6 });
      expect((await api(url, 'GET', '/api/metrics', { token })).body).toEqual([]);
    });

    it('answers every other procedure at its own path', async () => {
      const { url } = ctx();
      const { token, email } = await register(url);
      const other = await api(url, 'POST', '/api/users/login', {
        body: { email, password: 'correct horse battery' },
      });
      expect((await api(url, 'GET', '/api/system/ping')).body).toMatchObject({ ok: true });
      const metric = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: 'Sleep', type: 'duration', category: 'sleep' },
      });
      expect((await api(url, 'GET', `/api/metrics/${metric.body.id}`, { token })).body.name).toBe('Sleep');
      const batch = await api(url, 'POST', '/api/entries/batch', {
        token,
        body: { entries: days.map((date) => ({ metricId: metric.body.id, value: 27_000, date })) },
      });
      expect(batch.status).toBe(201);
      expect(batch.body).toHaveLength(7);
      const changes = await api(url, 'GET', '/api/sync/changes?after=0&limit=3', { token });
      expect(changes.body).toMatchObject({ resync: null, hasMore: true, latest: expect.any(Number) });
      expect(changes.body.events.map((event: { seq: number }) => event.seq)).toEqual([1, 2, 3]);
      const progress = await api(url, 'GET', '/api/analytics/progress', { token });
      expect(progress.body).toMatchObject({ daysLogged: 7, entries: 7, longestStreak: 7 });
      const exported = await api(url, 'GET', '/api/data/export?format=json', { token });
      expect(exported.body).toMatchObject({ format: 'json', content: { format: 'lifexp' } });
      expect(exported.body.content.entries).toHaveLength(7);
      const archived = await api(url, 'PUT', `/api/metrics/${metric.body.id}`, {
        token,
        body: { isActive: false },
      });
      expect(archived.body.isActive).toBe(false);
      // Booleans in the query are booleans: archived metrics only with includeArchived=true.
      expect((await api(url, 'GET', '/api/metrics?includeArchived=false', { token })).body).toEqual([]);
      expect((await api(url, 'GET', '/api/metrics?includeArchived=true', { token })).body).toHaveLength(1);
      expect((await api(url, 'POST', '/api/users/logout-all', { token })).body).toEqual({
        ok: true,
        endedSessions: 1,
      });
      expectError(
        await api(url, 'GET', '/api/users/profile', { token: other.body.token }),
        401,
        'UNAUTHORIZED',
      );
      const changed = await api(url, 'PUT', '/api/users/password', {
        token,
        body: { currentPassword: 'correct horse battery', newPassword: 'another long passphrase' },
      });
      expect(changed.body).toEqual({ ok: true, endedSessions: 0 });
      expect((await api(url, 'POST', '/api/users/logout', { token })).body).toEqual({ ok: true });
      expectError(await api(url, 'GET', '/api/users/profile', { token }), 401, 'UNAUTHORIZED');
      const again = await api(url, 'POST', '/api/users/login', {
        body: { email, password: 'another long passphrase' },
      });
      const removed = await api(url, 'POST', '/api/users/delete-account', {
        token: again.body.token,
        body: { password: 'another long passphrase' },
      });
      expect(removed.body).toEqual({ ok: true });
      expectError(
        await api(url, 'POST', '/api/users/login', { body: { email, password: 'another long passphrase' } }),
        401,
        'UNAUTHORIZED',
      );
    });

    it('answers 400 with the path of every refused field, and changes nothing', async () => {
      const { url } = ctx();
      const { token } = await register(url);
      const bad = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: '', type: 'rating', category: 'mood', config: { min: 5, max: 1 } },
      });
      expectError(bad, 400, 'BAD_REQUEST');
      expect(bad.body.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
        'config.max',
        'name',
      ]);
      const metric = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: 'Mood', type: 'rating', category: 'mood' },
      });
      const badEntries = await api(url, 'POST', '/api/entries/batch', {
        token,
        body: { entries: [{ metricId: metric.body.id, value: 3, date: '2026-02-30' }] },
      });
      expectError(badEntries, 400, 'BAD_REQUEST');
      expect(badEntries.body.details.issues).toEqual([
        { path: 'entries.0.date', message: 'must be a real calendar date' },
      ]);
      // Query strings: a number that is not one, an unknown parameter, a bad boolean.
      const badQuery = await api(url, 'GET', '/api/entries?limit=many&colour=red', { token });
      expectError(badQuery, 400, 'BAD_REQUEST');
      expect(badQuery.body.details.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
        'input',
        'limit',
      ]);
      expectError(await api(url, 'GET', '/api/metrics?includeArchived=maybe', { token }), 400, 'BAD_REQUEST');
      expectError(
        await api(url, 'GET', '/api/analytics/correlations?maxLag=1.5', { token }),
        400,
        'BAD_REQUEST',
      );
      expectError(
        await api(url, 'PUT', `/api/metrics/${metric.body.id}`, {
          token,
          headers: { 'if-match': 'yesterday' },
          body: { name: 'x' },
        }),
        400,
        'BAD_REQUEST',
      );
      expectError(
        await api(url, 'PUT', `/api/metrics/${metric.body.id}`, {
          token,
          headers: { 'if-match': '"1"' },
          body: { name: 'x', baseVersion: 2 },
        }),
        400,
        'BAD_REQUEST',
      );
      expectError(
        await api(url, 'PUT', `/api/metrics/${metric.body.id}`, {
          token,
          body: { id: randomUUID(), name: 'x' },
        }),
        400,
        'BAD_REQUEST',
      );
      expectError(
        await api(url, 'POST', '/api/metrics', { token, body: '{"name": "Mood",' }),
        400,
        'PARSE_ERROR',
      );
      expectError(
        await api(url, 'POST', '/api/metrics', {
          token,
          headers: { 'content-type': 'text/plain' },
          body: 'name=Mood',
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      const listed = await api(url, 'GET', '/api/metrics', { token });
      expect(listed.body).toHaveLength(1);
      expect(listed.body[0]).toMatchObject({ name: 'Mood', version: 1 });
    });

    it('answers 401 without a session, 403 to a cookie write from no allowed origin, 404 for unknown routes and 405 for a wrong method', async () => {
      const { url } = ctx();
      const anonymous = await api(url, 'GET', '/api/metrics');
      expectError(anonymous, 401, 'UNAUTHORIZED');
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expectError(await api(url, 'GET', '/api/metrics', { token: 'not.a-token' }), 401, 'UNAUTHORIZED');

      const { token } = await register(url);
      const cookie = `lifexp_session=${token}`;
      // A cookie authenticates reads, but a write needs an allowed Origin (the tRPC rule).
      expect((await api(url, 'GET', '/api/users/profile', { headers: { cookie } })).status).toBe(200);
      const forged = await api(url, 'POST', '/api/metrics', {
        headers: { cookie },
        body: { name: 'Forged', type: 'binary', category: 'habits' },
      });
      expectError(forged, 403, 'FORBIDDEN');
      const foreign = await api(url, 'POST', '/api/metrics', {
        headers: { cookie, origin: 'https://evil.example' },
        body: { name: 'Forged', type: 'binary', category: 'habits' },
      });
      expectError(foreign, 403, 'FORBIDDEN');
      const allowed = await api(url, 'POST', '/api/metrics', {
        headers: { cookie, origin: 'http://localhost:5173' },
        body: { name: 'Coffee', type: 'binary', category: 'habits' },
      });
      expect(allowed.status).toBe(201);
      // A bearer token needs no origin; a foreign page cannot make a browser send one.
      expect(
        (await api(url, 'GET', '/api/metrics', { token })).body.map((m: { name: string }) => m.name),
      ).toEqual(['Coffee']);
      // Login CSRF: a foreign page may not sign a browser in either.
      expectError(
        await api(url, 'POST', '/api/users/login', {
          headers: { origin: 'https://evil.example' },
          body: { email: 'a@example.test', password: 'whatever it is' },
        }),
        403,
        'FORBIDDEN',
      );

      expectError(await api(url, 'GET', '/api/nothing-here', { token }), 404, 'NOT_FOUND');
      // DNS rebinding: a Host this server does not answer to, with the same error body.
      const misdirected = await new Promise<Answer>((resolve, reject) => {
        const target = new URL(`${url}/api/users/profile`);
        const request = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            headers: { host: 'evil.example' },
          },
          (response) => {
            let text = '';
            response.on('data', (chunk) => {
              text += chunk;
            });
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: new Headers(response.headers as Record<string, string>),
                body: JSON.parse(text),
              }),
            );
          },
        );
        request.on('error', reject);
        request.end();
      });
      expectError(misdirected, 421, 'MISDIRECTED_REQUEST');
      const wrongMethod = await api(url, 'PATCH', '/api/metrics', { token, body: {} });
      expectError(wrongMethod, 405, 'METHOD_NOT_SUPPORTED');
      expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    });

    it('answers another user’s id 404 on every route that takes one, and changes nothing of theirs', async () => {
      const { url } = ctx();
      const owner = await register(url);
      const stranger = await register(url);
      const metric = await api(url, 'POST', '/api/metrics', {
        token: owner.token,
        body: { name: 'Private', type: 'number', category: 'health' },
      });
      const entry = await api(url, 'POST', '/api/entries', {
        token: owner.token,
        body: { metricId: metric.body.id, value: 1, date: '2026-11-20' },
      });
      const attempts: [string, string, unknown?][] = [
        ['GET', `/api/metrics/${metric.body.id}`],
        ['PUT', `/api/metrics/${metric.body.id}`, { name: 'Mine now' }],
        ['DELETE', `/api/metrics/${metric.body.id}`],
        ['GET', `/api/entries/${entry.body.id}`],
        ['PUT', `/api/entries/${entry.body.id}`, { value: 2 }],
        ['DELETE', `/api/entries/${entry.body.id}`],
        ['POST', '/api/entries', { metricId: metric.body.id, value: 3, date: '2026-11-21' }],
      ];
      for (const [method, path, body] of attempts) {
        const answer = await api(url, method, path, { token: stranger.token, body });
        expectError(answer, 404, 'NOT_FOUND');
        expect(JSON.stringify(answer.body)).not.toContain('Private');
        // With a precondition too.
        if (method === 'PUT' || method === 'DELETE') {
          const conditional = await api(url, method, path, {
            token: stranger.token,
            body,
            headers: { 'if-match': '"1"' },
          });
          expectError(conditional, 404, 'NOT_FOUND');
        }
      }
      expect(
        (await api(url, 'GET', `/api/metrics/${metric.body.id}`, { token: owner.token })).body,
      ).toMatchObject({
        name: 'Private',
        version: 1,
      });
      expect((await api(url, 'GET', '/api/entries', { token: owner.token })).body.items).toHaveLength(1);
    });

    it('answers 413 to a body over MAX_BODY_BYTES and 429 with Retry-After to a throttled login', async () => {
      const { url } = ctx();
      const { token, email } = await register(url);
      const big = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: 'x'.repeat(5_000), type: 'binary', category: 'habits' },
      });
      expectError(big, 413, 'PAYLOAD_TOO_LARGE');
      let throttled: Answer | undefined;
      for (let attempt = 0; attempt < 12 && !throttled; attempt++) {
        const answer = await api(url, 'POST', '/api/users/login', {
          body: { email, password: `wrong guess ${attempt}` },
        });
        if (answer.status === 429) throttled = answer;
        else expectError(answer, 401, 'UNAUTHORIZED');
      }
      expect(throttled).toBeDefined();
      expectError(throttled!, 429, 'TOO_MANY_REQUESTS');
      const retryAfter = Number(throttled!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(throttled!.body.details.retryAfterSeconds).toBe(retryAfter);
    });

    it('serves the WebSocket at /socket as well as /trpc', async () => {
      const { url } = ctx();
      const { token, user } = await register(url);
      for (const path of ['/socket', '/trpc']) {
        const socket = createWSClient({
          url: `${url.replace(/^http/, 'ws')}${path}`,
          connectionParams: { token },
          WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        });
        const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
        try {
          expect((await client.users.profile.query()).id).toBe(user.id);
        } finally {
          await socket.close();
        }
      }
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/elsewhere`);
        ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        ws.on('error', () => {});
      });
      expect(refused).toBe(404);
    });

    it('answers notices, push, webhooks and chart series at their own paths; another user’s webhook or metric is 404', async () => {
      const { url } = ctx();
      const mine = await register(url);
      const theirs = await register(url);
      const token = mine.token;
      expect((await api(url, 'GET', '/api/notifications?limit=5&unreadOnly=true', { token })).body).toEqual({
        items: [],
        nextCursor: null,
        unread: 0,
      });
      expect(
        (await api(url, 'POST', '/api/notifications/read', { token, body: { ids: [randomUUID()] } })).body,
      ).toEqual({ updated: 0 });
      expect((await api(url, 'POST', '/api/notifications/read-all', { token })).body).toEqual({ updated: 0 });
      const noIds = await api(url, 'POST', '/api/notifications/read', { token, body: { ids: [] } });
      expectError(noIds, 400, 'BAD_REQUEST');
      expect(JSON.stringify(noIds.body.details)).toContain('ids');

      const key = await api(url, 'GET', '/api/push/public-key', { token });
      expect(key.body.publicKey).toMatch(/^[A-Za-z0-9_-]{80,100}$/);
      const endpoint = `https://127.0.0.1:9/push/${randomUUID()}`;
      const subscribed = await api(url, 'POST', '/api/push/subscriptions', {
        token,
        body: { endpoint, keys: { p256dh: `B${'a'.repeat(86)}`, auth: 'b'.repeat(22) } },
      });
      expect(subscribed.status).toBe(201);
      expect(subscribed.body.id).toEqual(expect.any(String));
      expect(
        (await api(url, 'POST', '/api/push/unsubscribe', { token: theirs.token, body: { endpoint } })).body,
      ).toEqual({ removed: 0 });
      expect((await api(url, 'POST', '/api/push/unsubscribe', { token, body: { endpoint } })).body).toEqual({
        removed: 1,
      });

      const created = await api(url, 'POST', '/api/webhooks', {
        token,
        body: { url: 'http://127.0.0.1:9/hook', description: 'closed port' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        url: 'http://127.0.0.1:9/hook',
        enabled: true,
        secret: expect.any(String),
      });
      const listed = await api(url, 'GET', '/api/webhooks', { token });
      expect(listed.body).toHaveLength(1);
      expect(listed.body[0]).not.toHaveProperty('secret');
      expect((await api(url, 'GET', '/api/webhooks', { token: theirs.token })).body).toEqual([]);
      const id = created.body.id as string;
      expectError(await api(url, 'DELETE', `/api/webhooks/${id}`, { token: theirs.token }), 404, 'NOT_FOUND');
      expectError(
        await api(url, 'POST', `/api/webhooks/${id}/test`, { token: theirs.token }),
        404,
        'NOT_FOUND',
      );
      const tried = await api(url, 'POST', `/api/webhooks/${id}/test`, { token });
      expect(tried.body).toMatchObject({ ok: false, status: null, error: expect.any(String) });
      expect((await api(url, 'DELETE', `/api/webhooks/${id}`, { token })).body).toEqual({ ok: true });
      expect((await api(url, 'GET', '/api/webhooks', { token })).body).toEqual([]);

      const metric = await api(url, 'POST', '/api/metrics', {
        token,
        body: { name: 'Mood', type: 'rating', category: 'mood' },
      });
      await api(url, 'POST', '/api/entries', {
        token,
        body: { metricId: metric.body.id, value: 4, date: days[6] },
      });
      const series = await api(
        url,
        'GET',
        `/api/analytics/series?metricId=${metric.body.id}&from=${days[0]}&to=${days[6]}`,
        {
          token,
        },
      );
      expect(series.status, JSON.stringify(series.body)).toBe(200);
      expect(series.body.metric).toMatchObject({ id: metric.body.id, name: 'Mood' });
      expect(series.body.values.at(-1)).toBe(4);
      expectError(
        await api(url, 'GET', `/api/analytics/series?metricId=${metric.body.id}`, { token: theirs.token }),
        404,
        'NOT_FOUND',
      );
    });
  },
  { MAX_BODY_BYTES: '4096', WEBHOOKS_ALLOW_PRIVATE: 'true' },
  { listen: true },
);

describe('REST route table', () => {
  it('puts every procedure but the subscription on a route, with the original paths', async () => {
    const { restRoutes } = await import('../src/http/rest');
    const { appRouter } = await import('../src/trpc/router');
    const procedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
    )
      .filter(([, procedure]) => procedure._def.type !== 'subscription')
      .map(([path]) => path)
      .filter((path) => path !== 'data.import');
    expect(restRoutes.map((route) => route.procedure).sort()).toEqual(procedures.sort());
    const table = Object.fromEntries(
      restRoutes.map((route) => [route.procedure, `${route.method} ${route.path}`]),
    );
    expect(table).toMatchObject({
      'users.register': 'POST /api/users/register',
      'users.login': 'POST /api/users/login',
      'users.profile': 'GET /api/users/profile',
      'users.updatePreferences': 'PUT /api/users/preferences',
      'metrics.list': 'GET /api/metrics',
      'metrics.create': 'POST /api/metrics',
      'metrics.update': 'PUT /api/metrics/{id}',
      'metrics.delete': 'DELETE /api/metrics/{id}',
      'entries.create': 'POST /api/entries',
      'entries.list': 'GET /api/entries',
      'entries.update': 'PUT /api/entries/{id}',
      'entries.delete': 'DELETE /api/entries/{id}',
      'analytics.correlations': 'GET /api/analytics/correlations',
      'analytics.trends': 'GET /api/analytics/trends',
      'analytics.insights': 'GET /api/analytics/insights',
      'users.logout': 'POST /api/users/logout',
      'metrics.get': 'GET /api/metrics/{id}',
      'entries.createMany': 'POST /api/entries/batch',
      'sync.pull': 'GET /api/sync/changes',
      'analytics.progress': 'GET /api/analytics/progress',
    });
  });
});
