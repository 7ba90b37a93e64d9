import { changesInput, pullInput, pullResult } from '@lifexp/contracts';
import { changeStream, pullChanges } from '../../sync/stream';
import { protectedProcedure, router } from '../init';

export const syncRouter = router({
  /** The signed-in user's changes, live, resumable from `lastEventId`. */
  changes: protectedProcedure
    .input(changesInput)
    .subscription(({ ctx, input, signal }) =>
      changeStream(ctx, ctx.auth.user.id, input?.lastEventId, signal),
    ),

  /** The same events over HTTP, in pages, for clients without a socket. */
  pull: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/sync/changes',
        summary: 'The changes after a seq, in pages (the live stream for clients without a socket)',
        tags: ['sync'],
      },
    })
    .input(pullInput)
    .output(pullResult)
    .query(({ ctx, input }) => pullChanges(ctx, ctx.auth.user.id, input)),
});
