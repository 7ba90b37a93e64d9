import { z } from 'zod';

/** One change of a user's data, as change_log stores it and the sync stream delivers it. */
export const changeEvent = z.object({
  seq: z.number().int().positive(),
  entity: z.string(),
  op: z.enum(['upsert', 'delete']),
  id: z.string(),
  /** The whole object for an upsert; null for a delete. */
  data: z.unknown().nullable(),
  /** The client-supplied id of the write that caused the change. */
  clientMutationId: z.string().nullable(),
  at: z.string(),
});
export type ChangeEvent = z.infer<typeof changeEvent>;
