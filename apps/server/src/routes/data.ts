import { exportInput, importOptions } from '@lifexp/contracts';
import { DomainError, exportCsv, exportJson, importCsv, importDocument } from '@lifexp/db';
import { Hono, type Context as HonoContext } from 'hono';
import { z } from 'zod';
import { clientAddress } from '../auth/address';
import { closingBodyLimit, type HonoEnv } from '../http';
import { exportFilename } from '../routers/data';
import { type AppDeps, type Context, createContext } from '../trpc/context';
import { crossSiteRefused } from '../trpc/init';

const STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
} as const;

function failure(
  c: HonoContext<HonoEnv>,
  code: keyof typeof STATUS,
  message: string,
  details: unknown = null,
) {
  return c.json({ error: { code, message, details, requestId: c.get('requestId') } }, STATUS[code]);
}

async function signedIn(c: HonoContext<HonoEnv>, deps: AppDeps): Promise<Context> {
  const resHeaders = new Headers();
  const ctx = await createContext(deps, 'http', c.get('requestId'), {
    headers: c.req.raw.headers,
    clientAddress: clientAddress(c.env.incoming, deps.config.trustProxy),
    resHeaders,
  });
  for (const [key, value] of resHeaders) c.header(key, value, { append: true });
  return ctx;
}

const exportQuery = z.object({
  format: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  metricIds: z.string().optional(),
});

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

/**
 * File routes beside tRPC: the streamed export (the seed's `GET /api/analytics/export`) and an
 * upload route for imports too large for a tRPC call. Authenticated exactly like tRPC calls.
 */
export function dataRoutes(deps: AppDeps): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();

  app.get('/api/analytics/export', async (c) => {
    const ctx = await signedIn(c, deps);
    if (!ctx.auth) return failure(c, 'UNAUTHORIZED', 'not signed in');
    const query = exportQuery.parse(c.req.query());
    const parsed = exportInput.safeParse({
      format: query.format ?? 'json',
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      ...(query.metricIds ? { metricIds: query.metricIds.split(',') } : {}),
    });
    if (!parsed.success) {
      return failure(
        c,
        'BAD_REQUEST',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    }
    const input = parsed.data;
    const chunks =
      input.format === 'csv'
        ? exportCsv(ctx.db, ctx.auth.user.id, input)
        : exportJson(ctx.db, ctx.auth.user.id, input);
    c.header(
      'Content-Type',
      input.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    );
    c.header('Content-Disposition', `attachment; filename="${exportFilename(input.format)}"`);
    c.header('Cache-Control', 'no-store');
    return c.body(streamOf(chunks));
  });

  app.post(
    '/api/data/import',
    closingBodyLimit(deps.config.importMaxBytes, (c) =>
      failure(c, 'PAYLOAD_TOO_LARGE', `the file exceeds ${deps.config.importMaxBytes} bytes`),
    ),
    async (c) => {
      const ctx = await signedIn(c, deps);
      if (!ctx.auth) return failure(c, 'UNAUTHORIZED', 'not signed in');
      if (crossSiteRefused(ctx))
        return failure(c, 'FORBIDDEN', 'cross-site request refused: origin not allowed');
      const options = z.object(importOptions).safeParse({
        dryRun: c.req.query('dryRun') === 'true',
        onConflict: c.req.query('onConflict') ?? 'skip',
      });
      if (!options.success) return failure(c, 'BAD_REQUEST', 'onConflict must be skip or overwrite');
      const type = c.req.header('content-type') ?? '';
      const text = await c.req.text();
      try {
        let report: unknown;
        if (type.startsWith('text/csv')) {
          report = await importCsv(ctx.db, ctx.auth.user.id, text, options.data);
        } else {
          let document: unknown;
          try {
            document = JSON.parse(text);
          } catch (error) {
            return failure(c, 'BAD_REQUEST', `the file is not valid JSON: ${(error as Error).message}`, {
              problems: [{ path: '(document)', message: 'not valid JSON' }],
            });
          }
          report = await importDocument(ctx.db, ctx.auth.user.id, document, options.data);
        }
        if (!options.data.dryRun) {
          ctx.deps.jobs
            .requestRecompute(ctx.auth.user.id)
            .catch((error: unknown) =>
              ctx.log.error({ err: error }, 'could not queue an insights recompute'),
            );
        }
        return c.json(report);
      } catch (error) {
        if (error instanceof DomainError) return failure(c, error.code, error.message, error.details ?? null);
        throw error;
      }
    },
  );
  return app;
}
