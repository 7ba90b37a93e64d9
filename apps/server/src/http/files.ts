import { exportInput, importOptions } from '@lifexp/contracts';
import { exportStream, importText } from '@lifexp/db';
import { TRPCError } from '@trpc/server';
import type { Hono, Context as HonoContext } from 'hono';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { closingBodyLimit } from './env';
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
 * upload route for imports too large for a tRPC call.
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

  app.post(
    '/api/data/import',
    closingBodyLimit(deps.config.importMaxBytes, (c) =>
      errorResponse(c, 'PAYLOAD_TOO_LARGE', `the file exceeds ${deps.config.importMaxBytes} bytes`),
    ),
    signedIn({ write: true }),
    async (c) => {
      const { db, userId } = userOf(c);
      const options = z.object(importOptions).safeParse({
        dryRun: c.req.query('dryRun') === 'true',
        onConflict: c.req.query('onConflict') ?? 'skip',
      });
      if (!options.success)
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'onConflict must be skip or overwrite' });
      const format = (c.req.header('content-type') ?? '').startsWith('text/csv') ? 'csv' : 'json';
      const report = await importText(db, userId, await c.req.text(), format, options.data);
      if (!options.data.dryRun) deps.jobs.requestRecompute(userId);
      return c.json(report);
    },
  );
}
