import { TRPCClientError } from '@trpc/client';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { describeServer, httpClient, wsClient } from './support';

describeServer(
  'server over HTTP and WebSocket',
  (ctx) => {
    it('serves the liveness and readiness probes', async () => {
      const health = await fetch(`${ctx().url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${ctx().url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
    });

    it('answers tRPC over HTTP with a request id, echoing a sane incoming one', async () => {
      const result = await httpClient(ctx().url).system.ping.query();
      expect(result.ok).toBe(true);
      const given = await fetch(`${ctx().url}/trpc/system.ping`, { headers: { 'x-request-id': 'abc-123' } });
      expect(given.headers.get('x-request-id')).toBe('abc-123');
      const forged = await fetch(`${ctx().url}/trpc/system.ping`, {
        headers: { 'x-request-id': '<script>alert(1)</script>' },
      });
      expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const logged = ctx().logs.find((line) => line.reqId === 'abc-123' && line.msg === 'request');
      expect(logged).toMatchObject({ method: 'GET', path: '/trpc/system.ping', status: 200 });
    });

    it('answers tRPC over WebSocket on the same port', async () => {
      const { socket, client } = wsClient(ctx().url);
      try {
        expect((await client.system.ping.query()).ok).toBe(true);
      } finally {
        await socket.close();
      }
    });

    it('refuses a WebSocket upgrade from a foreign origin and on another path', async () => {
      const wsUrl = `${ctx().url.replace('http', 'ws')}/trpc`;
      const status = (url: string, origin?: string) =>
        new Promise<number>((resolve) => {
          const socket = new WebSocket(url, origin ? { origin } : {});
          socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.on('open', () => {
            socket.close();
            resolve(101);
          });
          socket.on('error', () => {});
        });
      expect(await status(wsUrl, 'https://evil.example')).toBe(403);
      expect(await status(wsUrl, 'http://localhost:5173')).toBe(101);
      expect(await status(wsUrl.replace('/trpc', '/elsewhere'))).toBe(404);
    });

    it('answers an unknown procedure NOT_FOUND and an unknown path 404, without internals', async () => {
      const error = await httpClient(ctx().url)
        // @ts-expect-error: calling a procedure that does not exist
        .system.missing.query()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
      expect(JSON.stringify((error as TRPCClientError<never>).data)).not.toContain('stack');
      const missing = await fetch(`${ctx().url}/nothing-here`);
      expect(missing.status).toBe(404);
    });

    it('answers PAYLOAD_TOO_LARGE for a body over the limit', async () => {
      const response = await fetch(`${ctx().url}/trpc/system.ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(response.status).toBe(413);
      // The rest of the body was never read: the connection cannot carry another request.
      expect(response.headers.get('connection')).toBe('close');
      const body = (await response.json()) as { error: { data: { code: string } } };
      expect(body.error.data.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('counts a chunked body as it arrives: over the limit PAYLOAD_TOO_LARGE, under it read by the procedure', async () => {
      // A stream body goes without Content-Length, as Transfer-Encoding: chunked.
      const chunked = (path: string, text: string) =>
        fetch(`${ctx().url}/trpc/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: new ReadableStream({
            start(controller) {
              const bytes = new TextEncoder().encode(text);
              for (let at = 0; at < bytes.length; at += 64 * 1024)
                controller.enqueue(bytes.subarray(at, at + 64 * 1024));
              controller.close();
            },
          }),
          duplex: 'half',
        } as RequestInit);
      const big = await chunked('system.ping', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
        'PAYLOAD_TOO_LARGE',
      );
      const small = await chunked(
        'users.login',
        JSON.stringify({ email: 'nobody-chunked@example.com', password: 'not-the-password-1' }),
      );
      expect(small.status).toBe(401);
      expect(((await small.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
        'UNAUTHORIZED',
      );
    });

    it("answers a batch over the body limit with one PAYLOAD_TOO_LARGE per call, in tRPC's shape", async () => {
      const response = await fetch(`${ctx().url}/trpc/system.ping,system.ping?batch=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ 0: { padding: 'x'.repeat(2 * 1024 * 1024) }, 1: {} }),
      });
      expect(response.status).toBe(413);
      const body = (await response.json()) as { error: { code: number; data: Record<string, unknown> } }[];
      expect(body).toHaveLength(2);
      for (const answer of body)
        expect(answer.error).toMatchObject({
          code: -32013,
          data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, requestId: expect.any(String) },
        });
    });

    it('hides an unexpected failure behind a generic message and logs it with the request id', async () => {
      // Break the database under the running server: the next query fails unexpectedly.
      await ctx().database.database.close();
      const response = await fetch(`${ctx().url}/trpc/system.ping`, {
        headers: { 'x-request-id': 'boom-1' },
      });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text).error).toMatchObject({
        message: 'Internal server error',
        data: { code: 'INTERNAL_SERVER_ERROR', requestId: 'boom-1' },
      });
      expect(text).not.toMatch(/stack|\.ts:|closed|PGlite|postgres/i);
      const logged = ctx().logs.find((line) => line.reqId === 'boom-1' && line.msg === 'procedure failed');
      expect(logged).toBeDefined();
      const ready = await fetch(`${ctx().url}/readyz`);
      expect(ready.status).toBe(503);
    });
  },
  {},
  { listen: true },
);
