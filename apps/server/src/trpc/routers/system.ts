import { pong } from '@lifexp/contracts';
import { ping } from '@lifexp/db';
import { publicProcedure, router } from '../init';

export const systemRouter = router({
  /** Round trip through the API and the database; for clients checking their connection. */
  ping: publicProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/system/ping',
        summary: 'Round trip through the API and the database',
        tags: ['system'],
        protect: false,
      },
    })
    .output(pong)
    .query(async ({ ctx }) => {
      await ping(ctx.db);
      return { ok: true as const, time: new Date().toISOString() };
    }),
});
