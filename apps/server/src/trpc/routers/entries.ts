import {
  createEntryInput,
  createManyEntriesInput,
  deletedEntry,
  deleteInput,
  entry,
  entryList,
  entryPage,
  getInput,
  listEntriesInput,
  updateEntryInput,
} from '@lifexp/contracts';
import { createEntries, createEntry, deleteEntry, getEntry, listEntries, updateEntry } from '@lifexp/db';
import type { Context } from '../context';
import { dataProcedure, protectedProcedure, router } from '../init';

/**
 * The signed-in user's time zone, read with the session on this very HTTP request; a WebSocket
 * connection's copy dates from its connect, so the data layer reads it afresh then.
 */
function writer(ctx: Context & { auth: { user: { timezone: string } } }) {
  return { timezone: ctx.transport === 'http' ? ctx.auth.user.timezone : undefined };
}

export const entriesRouter = router({
  list: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/entries',
        summary: 'A page of entries, newest first',
        tags: ['entries'],
      },
    })
    .input(listEntriesInput)
    .output(entryPage)
    .query(({ ctx, input }) => listEntries(ctx.db, ctx.auth.user.id, input)),
  get: protectedProcedure
    .meta({ openapi: { method: 'GET', path: '/api/entries/{id}', summary: 'One entry', tags: ['entries'] } })
    .input(getInput)
    .output(entry)
    .query(({ ctx, input }) => getEntry(ctx.db, ctx.auth.user.id, input.id)),
  create: dataProcedure
    .meta({
      openapi: { method: 'POST', path: '/api/entries', summary: 'Logs an entry', tags: ['entries'] },
      created: true,
    })
    .input(createEntryInput)
    .output(entry)
    .mutation(({ ctx, input }) => createEntry(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  /** All or nothing, up to 1,000 entries; invalid items are reported by index. */
  createMany: dataProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/entries/batch',
        summary: 'Logs up to 1,000 entries, all or none',
        tags: ['entries'],
      },
      created: true,
    })
    .input(createManyEntriesInput)
    .output(entryList)
    .mutation(({ ctx, input }) => createEntries(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  update: dataProcedure
    .meta({
      openapi: { method: 'PUT', path: '/api/entries/{id}', summary: 'Changes an entry', tags: ['entries'] },
    })
    .input(updateEntryInput)
    .output(entry)
    .mutation(({ ctx, input }) => updateEntry(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  delete: dataProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/api/entries/{id}',
        summary: 'Deletes an entry',
        tags: ['entries'],
      },
    })
    .input(deleteInput)
    .output(deletedEntry)
    .mutation(({ ctx, input }) => deleteEntry(ctx.db, ctx.auth.user.id, input)),
});
