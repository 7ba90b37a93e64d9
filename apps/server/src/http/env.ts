import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** The Hono environment of every route: Node's request objects and the request id. */
export type HonoEnv = { Bindings: HttpBindings; Variables: { requestId: string } };

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
