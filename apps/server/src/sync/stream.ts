import type { PullInput, SyncEvent } from '@lifexp/contracts';
import { readChangesAt, sessionExists, syncPosition, toChangeEvent } from '@lifexp/db';
import { TRPCError, tracked } from '@trpc/server';
import type { Context } from '../trpc/context';
import { serialiseOnce } from './encoder';
import { createWake, type LiveConnection } from './hub';

// The change stream of one user: paging through the change log, resyncs, backpressure and
// revocation. The tRPC procedures only validate and hand over.

const BATCH = 500;
/** Even without a poke, a subscriber re-reads now and then: a poke lost with a dropped LISTEN is caught up. */
const SAFETY_POLL_MS = 30_000;

type Page =
  | { kind: 'events'; events: ReturnType<typeof toChangeEvent>[] }
  | { kind: 'resync'; seq: number; reason: 'cursor-too-old' | 'cursor-ahead' };

/**
 * The user's changes after `cursor`, or a resync when they cannot be replayed. Gap-free seqs make
 * a pruned range detectable exactly: the first row must be cursor + 1.
 */
async function nextPage(ctx: Context, userId: string, cursor: number, limit: number): Promise<Page> {
  return ctx.deps.hub.sharedRead(userId, `${cursor}:${limit}`, async () => {
    const page = await readPage(ctx, userId, cursor, limit);
    // Every subscriber sends these same events unchanged: each is serialised once for all sockets.
    if (page.kind === 'events') serialiseOnce(page.events);
    return page;
  });
}

async function readPage(ctx: Context, userId: string, cursor: number, limit: number): Promise<Page> {
  // The position and the page in one query, one snapshot.
  const { latest, prunedThrough, changes: rows } = await readChangesAt(ctx.db, userId, cursor, limit);
  if (cursor > latest) return { kind: 'resync', seq: latest, reason: 'cursor-ahead' };
  if (cursor < prunedThrough) return { kind: 'resync', seq: latest, reason: 'cursor-too-old' };
  // Rows up to latest were committed before they were read: if they are missing, retention removed them.
  const first = rows[0];
  if ((first && first.seq !== cursor + 1) || (!first && latest > cursor)) {
    const now = await syncPosition(ctx.db, userId);
    return { kind: 'resync', seq: now.latest, reason: 'cursor-too-old' };
  }
  return { kind: 'events', events: rows.map(toChangeEvent) };
}

/**
 * Waits while the socket's unsent data is over the limit, so a slow consumer holds the server to a
 * bounded buffer; one that never drains is disconnected (it reconnects and resumes from its cursor).
 */
async function drained(
  ctx: Context,
  connection: LiveConnection | null,
  signal: AbortSignal | undefined,
): Promise<void> {
  const socket = ctx.request.socket;
  if (!socket) return;
  const limit = ctx.deps.config.wsSendBufferBytes;
  const giveUp = Date.now() + ctx.deps.config.wsDrainTimeoutMs;
  // A revoked session stops waiting too: the caller ends the stream.
  while (socket.bufferedAmount > limit && !signal?.aborted && !connection?.revoked) {
    if (Date.now() > giveUp) {
      ctx.log.warn({ buffered: socket.bufferedAmount }, 'dropping a subscriber that does not read');
      socket.terminate();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function refuseIfRevoked(connection: LiveConnection | null): void {
  if (connection?.revoked) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'the session has ended' });
}

/**
 * The live connection a subscription runs on, with its limits applied: a WebSocket's (tracked since
 * it connected), or — for a subscription over HTTP (SSE) — one made for this stream and followed by
 * the hub like a socket, so logout, logoutAll, a password change, account deletion and expiry end it
 * exactly as they end a WebSocket subscription. Returns it and a function that lets it go.
 */
function liveConnection(ctx: Context, userId: string): [LiveConnection | null, () => void] {
  const { config, hub } = ctx.deps;
  const socketConnection = ctx.connection;
  if (socketConnection) {
    if (socketConnection.subscriptions >= config.wsMaxSubscriptionsPerSocket) {
      throw new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `too many subscriptions on this socket (at most ${config.wsMaxSubscriptionsPerSocket})`,
      });
    }
    socketConnection.subscriptions += 1;
    return [socketConnection, () => (socketConnection.subscriptions -= 1)];
  }
  const auth = ctx.auth;
  if (!auth) return [null, () => {}];
  if (hub.connectionsOf(userId) >= config.wsMaxSocketsPerAccount) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `too many live connections for this account (at most ${config.wsMaxSocketsPerAccount})`,
    });
  }
  const stream: LiveConnection = {
    userId,
    sessionId: auth.session.id,
    token: auth.token,
    revoked: false,
    wakers: new Set(),
    subscriptions: 1,
  };
  return [stream, hub.track(stream)];
}

/**
 * The signed-in user's changes, live: replayed after `lastEventId` (or from now, announced by a
 * `ready` event), then streamed as they commit. Each event is tracked by its seq, so a reconnecting
 * client resumes where it stopped.
 */
export async function* changeStream(
  ctx: Context,
  userId: string,
  lastEventId: number | null | undefined,
  signal: AbortSignal | undefined,
) {
  const [connection, release] = liveConnection(ctx, userId);
  const wake = createWake();
  // Listen first, then read: a change committed in between is both read and poked, never lost.
  const stopWatching = ctx.deps.hub.watch(userId, wake.notify);
  connection?.wakers.add(wake.notify);
  try {
    // A session that ended between the context and now (an SSE stream is tracked only here).
    if (connection && connection !== ctx.connection && !(await sessionExists(ctx.db, connection.sessionId)))
      connection.revoked = true;
    refuseIfRevoked(connection);
    let cursor: number;
    if (lastEventId == null) {
      cursor = (await syncPosition(ctx.db, userId)).latest;
      yield tracked(String(cursor), { kind: 'ready', seq: cursor } satisfies SyncEvent);
    } else {
      cursor = lastEventId;
    }
    while (!signal?.aborted) {
      refuseIfRevoked(connection);
      const page = await nextPage(ctx, userId, cursor, BATCH);
      if (page.kind === 'resync') {
        cursor = page.seq;
        yield tracked(String(cursor), {
          kind: 'resync',
          seq: page.seq,
          reason: page.reason,
        } satisfies SyncEvent);
        continue;
      }
      for (const event of page.events) {
        await drained(ctx, connection, signal);
        if (signal?.aborted) return;
        // Checked per event, not per page: a logout must not let the rest of a page go out.
        refuseIfRevoked(connection);
        cursor = event.seq;
        yield tracked(String(event.seq), event satisfies SyncEvent);
      }
      if (page.events.length < BATCH) await wake.wait(signal, SAFETY_POLL_MS);
    }
  } finally {
    stopWatching();
    connection?.wakers.delete(wake.notify);
    release();
  }
}

/** One page of the same events over HTTP, for clients without a socket. */
export async function pullChanges(ctx: Context, userId: string, input: PullInput) {
  // Not shared: a pull has no watcher to forget the page when the user writes again.
  const page = await readPage(ctx, userId, input.after, input.limit);
  const { latest } = await syncPosition(ctx.db, userId);
  if (page.kind === 'resync') {
    return { events: [], resync: { seq: page.seq, reason: page.reason }, latest, hasMore: false };
  }
  const last = page.events.at(-1)?.seq ?? input.after;
  return { events: page.events, resync: null, latest, hasMore: last < latest };
}
