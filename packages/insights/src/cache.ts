/**
 * A bounded LRU map. Analytics answers are keyed by (user, data version, parameters): the data
 * version is the user's latest change seq, so a write makes the next answer a miss — no stale window.
 */
export function createLruCache<V>(capacity: number) {
  const entries = new Map<string, V>();
  return {
    get(key: string): V | undefined {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      // Re-insert: Map keeps insertion order, so the first key is always the least recently used.
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key: string, value: V): void {
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > capacity) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}
