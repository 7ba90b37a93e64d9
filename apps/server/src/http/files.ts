import { exportInput, importOptions } from '@lifexp/contracts';
import { exportStream, importStream } from '@lifexp/db';
import { TRPCError } from '@trpc/server';
import type { Hono, Context as HonoContext } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { issuesMessage } from './issues';
import { errorResponse, type PlainEnv, signedIn } from './plain';

/** Streams an async generator of text as a response body, pulling one chunk at a time. */
function streamOf(chunks: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await chunks.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

function parsed<T>(result: { success: true; data: T } | { success: false; error: z.ZodError }): T {
  if (result.success) return result.data;
  throw new TRPCError({ code: 'BAD_REQUEST', message: issuesMessage(result.error), cause: result.error });
}

function userOf(c: HonoContext<PlainEnv>) {
  const { auth, db } = c.get('ctx');
  return { db, userId: auth!.user.id };
}

/**
 * File routes beside tRPC: the streamed export (the seed's `GET /api/analytics/export`) and an
 * upload route for imports too large for a tRPC call, read and checked as it streams.
 */
export function fileRoutes(app: Hono<PlainEnv>, deps: AppDeps): void {
  app.get('/api/analytics/export', signedIn(), (c) => {
    const { db, userId } = userOf(c);
    const query = c.req.query();
    const input = parsed(
      exportInput.safeParse({
        format: query.format ?? 'json',
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to } : {}),
        ...(query.metricIds ? { metricIds: query.metricIds.split(',') } : {}),
      }),
    );
    const stream = exportStream(db, userId, input);
    c.header('Content-Type', stream.contentType);
    c.header('Content-Disposition', `attachment; filename="${stream.filename}"`);
    c.header('Cache-Control', 'no-store');
    return c.body(streamOf(stream.chunks));
  });

  app.post('/api/data/import', signedIn({ write: true }), async (c) => {
    const { db, userId } = userOf(c);
    const limit = deps.config.importMaxBytes;
    const tooLarge = () => {
      // The rest of the body is never read: the connection cannot carry another request.
      c.header('Connection', 'close');
      return errorResponse(c, 'PAYLOAD_TOO_LARGE', `the file exceeds ${limit} bytes`);
    };
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > limit) return tooLarge();
    const options = z.object(importOptions).safeParse({
      dryRun: c.req.query('dryRun') === 'true',
      onConflict: c.req.query('onConflict') ?? 'skip',
    });
    if (!options.success)
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'onConflict must be skip or overwrite' });
    const format = (c.req.header('content-type') ?? '').startsWith('text/csv') ? 'csv' : 'json';
    try {
      // Read as it arrives and counted: a body past the limit (whatever its Content-Length said)
      // ends the import, nothing written, without ever being held whole.
      const report = await importStream(db, userId, limited(c.req.raw.body, limit), format, options.data);
      if (!options.data.dryRun) deps.jobs.requestRecompute(userId);
      return c.json(report);
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge();
      throw error;
    }
  });
}

class BodyTooLarge extends Error {}

/** The request body's chunks, refused past `limit` bytes. */
async function* limited(body: ReadableStream<Uint8Array> | null, limit: number): AsyncGenerator<Uint8Array> {
  if (!body) return;
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new BodyTooLarge();
    yield chunk;
  }
}
