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
    .input(listEntriesInput)
    .output(entryPage)
    .query(({ ctx, input }) => listEntries(ctx.db, ctx.auth.user.id, input)),
  get: protectedProcedure
    .input(getInput)
    .output(entry)
    .query(({ ctx, input }) => getEntry(ctx.db, ctx.auth.user.id, input.id)),
  create: dataProcedure
    .input(createEntryInput)
    .output(entry)
    .mutation(({ ctx, input }) => createEntry(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  /** All or nothing, up to 1,000 entries; invalid items are reported by index. */
  createMany: dataProcedure
    .input(createManyEntriesInput)
    .output(entryList)
    .mutation(({ ctx, input }) => createEntries(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  update: dataProcedure
    .input(updateEntryInput)
    .output(entry)
    .mutation(({ ctx, input }) => updateEntry(ctx.db, ctx.auth.user.id, input, writer(ctx))),
  delete: dataProcedure
    .input(deleteInput)
    .output(deletedEntry)
    .mutation(({ ctx, input }) => deleteEntry(ctx.db, ctx.auth.user.id, input)),
});
