import type { HttpBindings } from '@hono/node-server';
import type { ValidatedSession } from '@lifexp/db';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * The Hono environment of every route: Node's request objects, the request id, and the request's
 * session once validated (by the call-rate check), so the procedure's context does not ask again.
 */
export type HonoEnv = {
  Bindings: HttpBindings;
  Variables: { requestId: string; validated?: ValidatedToken };
};

/** A token and its validation, made once per request. */
export interface ValidatedToken {
  token: string;
  result: Promise<ValidatedSession | null>;
}

/**
 * A body-size limit whose refusal also closes the connection: the rest of the body was never read,
 * so the connection cannot carry another request.
 */
export function closingBodyLimit(maxSize: number, refuse: (c: Context<HonoEnv>) => Response) {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      c.header('Connection', 'close');
      return refuse(c as Context<HonoEnv>);
    },
  });
}
