import type { Logger } from '@lifexp/config';
import {
  CHANGES_CHANNEL,
  type Database,
  SESSIONS_CHANNEL,
  sessionExists,
  validateSessionToken,
} from '@lifexp/db';

/** A signed-in WebSocket connection: revoked when its session ends, waking its subscriptions. */
export interface LiveConnection {
  userId: string;
  sessionId: string;
  token: string;
  revoked: boolean;
  wakers: Set<() => void>;
}

export interface SyncHub {
  /** Calls `onPoke` whenever the user's change log may have grown (or a missed poke is possible). */
  watch(userId: string, onPoke: () => void): () => void;
  /** Follows a connection's session, so that logging out ends its subscriptions at once. */
  track(connection: LiveConnection): () => void;
  close(): Promise<void>;
}

/**
 * Fan-out of change pokes to this instance's subscribers: one LISTEN per instance (PostgreSQL NOTIFY,
 * or PGlite's in-process equivalent). A poke carries only {user, seq}; subscribers always re-read
 * the database, so a lost or duplicated poke can only delay, never corrupt, what they send.
 */
export async function startSyncHub(
  database: Database,
  log: Logger,
  options: { sessionRecheckMs: number },
): Promise<SyncHub> {
  const watchers = new Map<string, Set<() => void>>();
  const connections = new Map<string, Set<LiveConnection>>();

  const wake = (userId: string) => {
    for (const notify of watchers.get(userId) ?? []) notify();
  };
  const wakeEveryone = () => {
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
  const unlistenSessions = await database.listen(SESSIONS_CHANNEL, recheckSafely, () => {
    for (const userId of connections.keys()) recheckSafely(userId);
  });

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

  return {
    watch: (userId, onPoke) => addToGroup(watchers, userId, onPoke),
    track: (connection) => addToGroup(connections, connection.userId, connection),
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
