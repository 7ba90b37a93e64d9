/**
 * A bounded LRU map. Analytics answers are keyed by (user, data version, parameters): the data
 * version is the user's latest change seq, so a write makes the next answer a miss — no stale window.
 *
 * The bound is in entries and in bytes (each value's size as given by `sizeOf`, for answers their
 * JSON): the least recently used entries go until both hold, and a value larger than `maxEntryBytes`
 * (or than the whole byte bound) is never stored. With `ownerOf` and `maxOwnerBytes`, each owner
 * (an account) holds at most that many bytes: its own least recently used entries go first, so one
 * account asking endless fresh questions cannot push everyone else's answers out or fill the heap.
 */
export function createLruCache<V>(options: {
  capacity: number;
  maxBytes: number;
  maxEntryBytes?: number;
  sizeOf: (value: V) => number;
  ownerOf?: (key: string) => string;
  maxOwnerBytes?: number;
}) {
  const entries = new Map<string, { value: V; bytes: number; owner: string }>();
  /** Each owner's keys, least recently used first, and their bytes. */
  const owners = new Map<string, { keys: Set<string>; bytes: number }>();
  let bytes = 0;
  const ownerOf = options.ownerOf ?? (() => '');
  const ownerLimit = options.maxOwnerBytes ?? Number.POSITIVE_INFINITY;
  const largest = Math.min(options.maxBytes, options.maxEntryBytes ?? Number.POSITIVE_INFINITY, ownerLimit);

  function remove(key: string): void {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
    const owned = owners.get(entry.owner)!;
    owned.keys.delete(key);
    owned.bytes -= entry.bytes;
    if (owned.keys.size === 0) owners.delete(entry.owner);
  }

  return {
    get(key: string): V | undefined {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      // Re-insert: Map keeps insertion order, so the first key is always the least recently used.
      entries.delete(key);
      entries.set(key, entry);
      const owned = owners.get(entry.owner)!;
      owned.keys.delete(key);
      owned.keys.add(key);
      return entry.value;
    },
    /** Stores the value unless it is too large to keep; says whether it did. */
    set(key: string, value: V): boolean {
      remove(key);
      const size = options.sizeOf(value);
      if (options.capacity <= 0 || size > largest) return false;
      const owner = ownerOf(key);
      entries.set(key, { value, bytes: size, owner });
      bytes += size;
      const owned = owners.get(owner) ?? { keys: new Set<string>(), bytes: 0 };
      owned.keys.add(key);
      owned.bytes += size;
      owners.set(owner, owned);
      while (owned.bytes > ownerLimit) remove(owned.keys.values().next().value!);
      while (entries.size > options.capacity || bytes > options.maxBytes)
        remove(entries.keys().next().value!);
      return true;
    },
    /** Drops every entry whose key starts with the prefix (e.g. all of one user's answers). */
    deletePrefix(prefix: string): number {
      let removed = 0;
      for (const key of [...entries.keys()]) {
        if (key.startsWith(prefix)) {
          remove(key);
          removed += 1;
        }
      }
      return removed;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
    /** Bytes held for one owner. */
    bytesOf(owner: string): number {
      return owners.get(owner)?.bytes ?? 0;
    },
  };
}
