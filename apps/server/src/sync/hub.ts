import type { Logger } from '@lifexp/config';
import {
  CHANGES_CHANNEL,
  createSessionCache,
  type Database,
  SESSIONS_CHANNEL,
  type SessionCache,
  sessionExists,
  validateSessionToken,
} from '@lifexp/db';

/**
 * A signed-in live connection — a WebSocket, or one HTTP subscription stream (SSE): revoked when its
 * session ends, waking its subscriptions.
 */
export interface LiveConnection {
  userId: string;
  sessionId: string;
  token: string;
  revoked: boolean;
  wakers: Set<() => void>;
  /** Subscriptions running on it (capped per socket). */
  subscriptions: number;
}

/** How the server closes a WebSocket that goes over a limit (RFC 6455 leaves 4000–4999 to us). */
export const CLOSE_CODES = {
  /** No valid session within WS_AUTH_GRACE_MS. */
  authenticationTimeout: 4401,
  /** More messages than WS_MAX_MESSAGES_PER_SECOND (with WS_MESSAGE_BURST) allow. */
  messageRate: 4429,
  /** The account already holds WS_MAX_SOCKETS_PER_ACCOUNT live connections. */
  tooManyForAccount: 4430,
} as const;

/** Sockets whose connection has a valid session: the others are closed after WS_AUTH_GRACE_MS. */
export const authenticatedSockets = new WeakSet<object>();

export interface SyncHub {
  /** Calls `onPoke` whenever the user's change log may have grown (or a missed poke is possible). */
  watch(userId: string, onPoke: () => void): () => void;
  /** Follows a connection's session, so that logging out ends its subscriptions at once. */
  track(connection: LiveConnection): () => void;
  /** Live connections of the user on this instance. */
  connectionsOf(userId: string): number;
  /**
   * One read per (user, cursor, limit) however many subscriptions ask: concurrent and later callers
   * share the result until the next poke for that user, so the cost of a write does not grow with
   * the subscriptions of the account. The result is shared: callers must not change it.
   */
  sharedRead<T>(userId: string, key: string, load: () => Promise<T>): Promise<T>;
  /**
   * Validated sessions of this instance, kept for SESSION_CACHE_MS: a user's entries are forgotten
   * when the sessions NOTIFY names the user, everything when the LISTEN (re)starts.
   */
  sessions: SessionCache;
  close(): Promise<void>;
}

/** Pages kept per user between two pokes (distinct cursors being served at once). */
const PAGES_PER_USER = 32;

/**
 * Fan-out of change pokes to this instance's subscribers: one LISTEN per instance (PostgreSQL NOTIFY,
 * or PGlite's in-process equivalent). A poke carries only {user, seq}; subscribers always re-read
 * the database, so a lost or duplicated poke can only delay, never corrupt, what they send.
 */
export async function startSyncHub(
  database: Database,
  log: Logger,
  options: { sessionRecheckMs: number; sessionCacheMs?: number; sessionCacheEntries?: number },
): Promise<SyncHub> {
  const sessions = createSessionCache({
    ttlMs: options.sessionCacheMs ?? 0,
    maxEntries: options.sessionCacheEntries ?? 0,
  });
  const watchers = new Map<string, Set<() => void>>();
  const connections = new Map<string, Set<LiveConnection>>();
  // Shared reads, per user, valid until the user's next poke.
  const reads = new Map<string, Map<string, Promise<unknown>>>();

  const wake = (userId: string) => {
    // Forget before waking: whoever wakes must read what the poke announced.
    reads.delete(userId);
    for (const notify of watchers.get(userId) ?? []) notify();
  };
  const wakeEveryone = () => {
    reads.clear();
    for (const set of watchers.values()) for (const notify of set) notify();
  };
  const revoke = (connection: LiveConnection) => {
    if (connection.revoked) return;
    connection.revoked = true;
    for (const notify of connection.wakers) notify();
  };

  async function recheck(userId: string) {
    for (const connection of connections.get(userId) ?? []) {
      if (!(await sessionExists(database.db, connection.sessionId))) revoke(connection);
    }
  }
  const recheckSafely = (userId: string) => {
    recheck(userId).catch((error: unknown) => log.error({ err: error }, 'session recheck failed'));
  };

  const unlistenChanges = await database.listen(
    CHANGES_CHANNEL,
    (payload) => {
      try {
        const poke = JSON.parse(payload) as { u?: unknown };
        if (typeof poke.u === 'string') wake(poke.u);
      } catch {
        log.warn({ payload }, 'ignoring a malformed change poke');
      }
    },
    // After a reconnect of the LISTEN connection, pokes may have been missed: everyone re-reads.
    wakeEveryone,
  );
  const unlistenSessions = await database.listen(
    SESSIONS_CHANNEL,
    (userId) => {
      sessions.forgetUser(userId);
      recheckSafely(userId);
    },
    () => {
      sessions.clear();
      for (const userId of connections.keys()) recheckSafely(userId);
    },
  );

  // Long-lived connections re-validate their session now and then: it may expire, and an active one
  // is renewed like any HTTP request would renew it.
  const recheckTimer = setInterval(() => {
    for (const set of connections.values()) {
      for (const connection of set) {
        validateSessionToken(database.db, connection.token)
          .then((valid) => {
            if (!valid) revoke(connection);
          })
          .catch((error: unknown) => log.error({ err: error }, 'session revalidation failed'));
      }
    }
  }, options.sessionRecheckMs);
  recheckTimer.unref();

  function sharedRead<T>(userId: string, key: string, load: () => Promise<T>): Promise<T> {
    let pages = reads.get(userId);
    const cached = pages?.get(key);
    if (cached) return cached as Promise<T>;
    if (!pages) {
      pages = new Map();
      reads.set(userId, pages);
    }
    const owner = pages;
    const promise = load();
    owner.set(key, promise);
    if (owner.size > PAGES_PER_USER) owner.delete(owner.keys().next().value as string);
    // A failed read is not shared: the next caller tries again.
    promise.catch(() => {
      if (owner.get(key) === promise) owner.delete(key);
    });
    return promise;
  }

  return {
    watch: (userId, onPoke) => {
      const stop = addToGroup(watchers, userId, onPoke);
      return () => {
        stop();
        if (!watchers.has(userId)) reads.delete(userId);
      };
    },
    track: (connection) => addToGroup(connections, connection.userId, connection),
    connectionsOf: (userId) => connections.get(userId)?.size ?? 0,
    sharedRead,
    sessions,
    async close() {
      clearInterval(recheckTimer);
      await unlistenChanges();
      await unlistenSessions();
    },
  };
}

/** Adds a member to the key's set; the returned function removes it (and the set once empty). */
function addToGroup<T>(groups: Map<string, Set<T>>, key: string, member: T): () => void {
  const group = groups.get(key) ?? new Set<T>();
  groups.set(key, group);
  group.add(member);
  return () => {
    group.delete(member);
    if (group.size === 0 && groups.get(key) === group) groups.delete(key);
  };
}

/** A level-triggered wake-up: a notify while nobody waits is remembered for the next wait. */
export function createWake() {
  let pending = false;
  let release: (() => void) | undefined;
  return {
    notify() {
      pending = true;
      release?.();
    },
    /** Resolves on a notify, on abort, or after `timeoutMs`, whichever comes first. */
    async wait(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
      if (pending || signal?.aborted) {
        pending = false;
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          release = undefined;
          resolve();
        }
        release = done;
        signal?.addEventListener('abort', done, { once: true });
      });
      pending = false;
    },
  };
}
