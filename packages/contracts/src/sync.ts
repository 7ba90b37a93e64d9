import { z } from 'zod';

/** One change of a user's data, as the sync stream and sync.pull deliver it. */
export interface ChangeEvent {
  kind: 'change';
  seq: number;
  entity: 'metric' | 'entry' | 'user' | 'insights' | (string & {});
  op: 'upsert' | 'delete';
  id: string;
  /** The whole object for an upsert; null for a delete. */
  data: unknown;
  /** The client-supplied id of the write that caused the change, so a device recognizes its own writes. */
  clientMutationId: string | null;
  at: string;
}

/**
 * The stream cannot replay from the client's cursor (it is older than the retained log, or from
 * another database): reload everything through the list procedures, then continue from `seq`.
 */
export interface ResyncEvent {
  kind: 'resync';
  seq: number;
  reason: 'cursor-too-old' | 'cursor-ahead';
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
