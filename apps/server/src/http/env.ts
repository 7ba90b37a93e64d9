import type { HttpBindings } from '@hono/node-server';
import type { ValidatedSession } from '@lifexp/db';
import type { Context, Next } from 'hono';
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
 *
 * A body of known length is judged by its Content-Length alone: Node's parser reads exactly that many
 * bytes (and a request with neither that nor Transfer-Encoding has no body), so the body is left to
 * the route to read as it likes. Hono's limit asks for the body as a web stream first, which makes
 * @hono/node-server build a whole web Request for every POST (about a tenth of a create's time). A
 * chunked body is counted as it is read, by Hono's limit.
 */
export function closingBodyLimit(maxSize: number, refuse: (c: Context<HonoEnv>) => Response) {
  const onError = (c: Context) => {
    c.header('Connection', 'close');
    return refuse(c as Context<HonoEnv>);
  };
  const counted = bodyLimit({ maxSize, onError });
  return async (c: Context<HonoEnv>, next: Next): Promise<Response | undefined> => {
    const headers = c.env.incoming.headers;
    if (headers['transfer-encoding'] !== undefined) return (await counted(c, next)) ?? undefined;
    if (Number(headers['content-length'] ?? 0) > maxSize) return onError(c);
    await next();
    return undefined;
  };
}
