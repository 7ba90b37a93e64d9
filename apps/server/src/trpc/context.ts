import type { Logger } from '@lifexp/config';
import type { Db, SessionRecord } from '@lifexp/db';
import { sessionExists } from '@lifexp/db';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';
import { clearedSessionCookie, requestToken, sessionCookie, type TokenVia } from '../auth/cookies';
import type { AppDeps } from '../deps';
import type { ValidatedToken } from '../http/env';
import { authenticatedSockets, CLOSE_CODES, type LiveConnection } from '../sync/hub';

export interface Auth {
  session: SessionRecord;
  user: { id: string; email: string; timezone: string };
  /** How the token arrived: a cookie needs CSRF checks, a bearer token or connection param does not. */
  via: TokenVia;
  token: string;
}

/** The transport-neutral facts of an incoming request or WebSocket connection. */
export interface RequestInfo {
  headers: { get(name: string): string | null };
  clientAddress: string;
  /** Response headers (HTTP only): where cookies and Retry-After go. */
  resHeaders: Headers | null;
  /** WebSocket clients may send their token in connectionParams. */
  connectionToken?: string | undefined;
  /** The WebSocket itself (WebSocket transport only): for backpressure and connection tracking. */
  socket?: WebSocket | undefined;
  /** How many calls the HTTP request carries (a tRPC batch); 1 on a WebSocket. */
  batchSize?: number | undefined;
  /** The request's token, already validated (HTTP: by the call-rate check), used instead of asking again. */
  validated?: ValidatedToken | undefined;
}

export interface Context {
  deps: AppDeps;
  db: Db;
  requestId: string;
  log: Logger;
  transport: 'http' | 'ws';
  request: RequestInfo;
  auth: Auth | null;
  /** A signed-in WebSocket connection, followed by the sync hub. */
  connection: LiveConnection | null;
}

export async function createContext(
  deps: AppDeps,
  transport: Context['transport'],
  requestId: string,
  request: RequestInfo,
): Promise<Context> {
  const log = deps.log.child({ reqId: requestId });
  const db = deps.database.db;
  const candidate = requestToken(request.headers, request.connectionToken);
  let auth: Auth | null = null;
  if (candidate) {
    const { token, via } = candidate;
    // A recent answer for the same token is reused (see SessionCache): no round trip per request.
    const validated =
      request.validated?.token === token
        ? await request.validated.result
        : await deps.hub.sessions.validate(db, token);
    const host = request.headers.get('host');
    if (validated) {
      const { user } = validated;
      auth = {
        session: validated.session,
        user: { id: user.id, email: user.email, timezone: user.timezone },
        via,
        token,
      };
      // A renewed session gets a fresh cookie, so the browser's expiry moves with the server's.
      if (validated.renewed && via === 'cookie')
        request.resHeaders?.append('Set-Cookie', sessionCookie(token, host));
    } else if (via === 'cookie') {
      request.resHeaders?.append('Set-Cookie', clearedSessionCookie(host));
    }
  }
  let connection: LiveConnection | null = null;
  if (auth && request.socket) {
    const limit = deps.config.wsMaxSocketsPerAccount;
    if (deps.hub.connectionsOf(auth.user.id) >= limit) {
      // After tRPC has answered the error below (it then closes the socket without a code).
      const socket = request.socket;
      setImmediate(() =>
        socket.close(CLOSE_CODES.tooManyForAccount, 'too many connections for this account'),
      );
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `too many live connections for this account (at most ${limit})`,
      });
    }
    authenticatedSockets.add(request.socket);
    const live: LiveConnection = {
      userId: auth.user.id,
      sessionId: auth.session.id,
      token: auth.token,
      revoked: false,
      wakers: new Set(),
      subscriptions: 0,
    };
    const untrack = deps.hub.track(live);
    request.socket.once('close', untrack);
    // A logout between validating the token and tracking the socket would go unheard: look again.
    if (!(await sessionExists(db, live.sessionId))) live.revoked = true;
    connection = live;
  }
  return { deps, db, requestId, log, transport, request, auth, connection };
}
