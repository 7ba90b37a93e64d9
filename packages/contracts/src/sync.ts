import { z } from 'zod';

/** One change of a user's data, as the sync stream and sync.pull deliver it. */
export const changeEvent = z
  .object({
    kind: z.literal('change'),
    seq: z.number().int(),
    /** metric, entry, user, insights or import (a large import: reload). */
    entity: z.string() as z.ZodType<'metric' | 'entry' | 'user' | 'insights' | (string & {})>,
    op: z.enum(['upsert', 'delete']),
    id: z.string(),
    /** The whole object for an upsert; null for a delete. */
    data: z.unknown(),
    /** The client-supplied id of the write that caused the change, so a device recognizes its own writes. */
    clientMutationId: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'ChangeEvent' });
export type ChangeEvent = z.infer<typeof changeEvent>;

const resyncReason = z.enum(['cursor-too-old', 'cursor-ahead']);

/**
 * The stream cannot replay from the client's cursor (it is older than the retained log, or from
 * another database): reload everything through the list procedures, then continue from `seq`.
 */
export interface ResyncEvent {
  kind: 'resync';
  seq: number;
  reason: z.infer<typeof resyncReason>;
}

/** The first event of a stream started without a cursor: changes after `seq` will follow. */
export interface ReadyEvent {
  kind: 'ready';
  seq: number;
}

export type SyncEvent = ChangeEvent | ResyncEvent | ReadyEvent;

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A seq as a string (tRPC's tracked() ids are strings): a whole number from 0 up. */
export const seqCursor = z
  .string()
  .max(20)
  .regex(/^\d+$/, { error: 'must be a whole number of 0 or more' })
  .transform(Number)
  .refine((value) => value <= MAX_SEQ, { error: 'is out of range' });

export const changesInput = z
  .strictObject({
    /** The seq of the last event the client applied; tRPC's wsLink fills it in on reconnect. */
    lastEventId: seqCursor.nullish(),
  })
  .optional();

export const pullInput = z.strictObject({
  after: z.number().int().min(0).max(MAX_SEQ),
  limit: z.number().int().min(1).max(1000).default(500),
});
export type PullInput = z.infer<typeof pullInput>;

/** One page of `sync.pull`: the events after `after`, or the resync to do instead. */
export const pullResult = z
  .object({
    events: z.array(changeEvent),
    resync: z.object({ seq: z.number().int(), reason: resyncReason }).nullable(),
    /** The newest seq of the user's log. */
    latest: z.number().int(),
    /** More events follow: pull again with `after` set to the last event's seq. */
    hasMore: z.boolean(),
  })
  .meta({ id: 'SyncPage' });
