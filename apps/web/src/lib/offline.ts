import type { CreateEntryInput } from '@lifexp/contracts';

// Writes made while offline wait in IndexedDB, in the order they were made, each with the id its
// object will have (generated here), so replaying one twice still creates it once on the server.

export interface QueuedWrite {
  /** The entry's own id (client-generated), also the write's key in the queue. */
  id: string;
  kind: 'entries.create';
  input: CreateEntryInput & { id: string };
  queuedAt: number;
}

/** The longest queue kept: beyond it a write is refused rather than memory and storage growing. */
export const MAX_QUEUED_WRITES = 5_000;

export interface WriteQueue {
  add(write: QueuedWrite): Promise<void>;
  list(): Promise<QueuedWrite[]>;
  remove(id: string): Promise<void>;
  /** Called after every change of the queue. */
  subscribe(listener: () => void): () => void;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The queue in IndexedDB (database `lifexp-offline`, one store per signed-in account). */
export function indexedDbQueue(account: string): WriteQueue {
  const store = `writes:${account}`;
  const listeners = new Set<() => void>();
  let opened: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const first = indexedDB.open('lifexp-offline');
      first.onerror = () => reject(first.error);
      first.onsuccess = () => {
        const db = first.result;
        if (db.objectStoreNames.contains(store)) return resolve(db);
        // A new account's store needs a version change.
        const version = db.version + 1;
        db.close();
        const upgrade = indexedDB.open('lifexp-offline', version);
        upgrade.onupgradeneeded = () => upgrade.result.createObjectStore(store, { keyPath: 'id' });
        upgrade.onerror = () => reject(upgrade.error);
        upgrade.onsuccess = () => resolve(upgrade.result);
      };
    });
    return opened;
  };
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const tx = async (mode: IDBTransactionMode) => (await open()).transaction(store, mode).objectStore(store);
  return {
    async add(write) {
      const objects = await tx('readwrite');
      const count = await request(objects.count());
      if (count >= MAX_QUEUED_WRITES) throw new Error(`at most ${MAX_QUEUED_WRITES} writes wait offline`);
      await request(objects.put(write));
      notify();
    },
    async list() {
      const all = (await request((await tx('readonly')).getAll())) as QueuedWrite[];
      return all.sort((a, b) => a.queuedAt - b.queuedAt);
    },
    async remove(id) {
      await request((await tx('readwrite')).delete(id));
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A queue in memory (tests, and browsers without IndexedDB). */
export function memoryQueue(): WriteQueue {
  const writes = new Map<string, QueuedWrite>();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  return {
    async add(write) {
      if (writes.size >= MAX_QUEUED_WRITES)
        throw new Error(`at most ${MAX_QUEUED_WRITES} writes wait offline`);
      writes.set(write.id, write);
      notify();
    },
    async list() {
      return [...writes.values()].sort((a, b) => a.queuedAt - b.queuedAt);
    },
    async remove(id) {
      writes.delete(id);
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface ReplayOutcome {
  sent: number;
  /** Writes the server refused (bad value, archived metric): dropped, with the reason. */
  refused: { write: QueuedWrite; message: string }[];
  /** The connection failed again, or the server asked for a pause: the rest waits for the next attempt. */
  interrupted: boolean;
}

/**
 * Sends the queued writes in order, one at a time; each leaves the queue only once the server has
 * answered. A write the server refuses is dropped (retrying cannot help); a network failure or a
 * request to slow down (TOO_MANY_REQUESTS) stops the replay with the rest kept. One replay at a time per queue: a second call joins the first.
 */
export function createReplayer(
  queue: WriteQueue,
  send: (write: QueuedWrite) => Promise<unknown>,
  isRetryLater: (error: unknown) => boolean,
): () => Promise<ReplayOutcome> {
  let running: Promise<ReplayOutcome> | undefined;
  const run = async (): Promise<ReplayOutcome> => {
    const outcome: ReplayOutcome = { sent: 0, refused: [], interrupted: false };
    for (const write of await queue.list()) {
      try {
        await send(write);
        outcome.sent += 1;
      } catch (error) {
        if (isRetryLater(error)) {
          outcome.interrupted = true;
          return outcome;
        }
        outcome.refused.push({ write, message: (error as Error).message });
      }
      await queue.remove(write.id);
    }
    return outcome;
  };
  return () => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
}
