/**
 * Token buckets by key (an account, say): each fills at `perSecond` up to `capacity`, and
 * `take` spends from it. A bucket may go below zero (a cost known only afterwards, such as compute
 * time, is taken once spent), and its key waits until it is above zero again. Only buckets below
 * capacity are held, and full ones are swept out now and then, so memory follows the keys in use.
 */
export interface KeyedBuckets {
  /** What the key may still spend now (negative while in debt). */
  available(key: string): number;
  /** Spends `amount` from the key's bucket. */
  take(key: string, amount: number): void;
  /** Whole seconds until the key's bucket holds at least `needed` again (at least 1). */
  retryAfterSeconds(key: string, needed?: number): number;
  /** Keys held (below capacity). */
  size(): number;
}

const SWEEP_EVERY = 1024;

export function createKeyedBuckets(options: {
  perSecond: number;
  capacity: number;
  now?: () => number;
}): KeyedBuckets {
  const { capacity } = options;
  const perMs = options.perSecond / 1000;
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { level: number; at: number }>();
  let takes = 0;

  const level = (key: string, at: number) => {
    const bucket = buckets.get(key);
    return bucket ? Math.min(capacity, bucket.level + (at - bucket.at) * perMs) : capacity;
  };

  return {
    available: (key) => level(key, now()),
    take(key, amount) {
      const at = now();
      buckets.set(key, { level: level(key, at) - Math.max(0, amount), at });
      if (++takes % SWEEP_EVERY === 0) {
        for (const held of buckets.keys()) if (level(held, at) >= capacity) buckets.delete(held);
      }
    },
    retryAfterSeconds(key, needed = Number.MIN_VALUE) {
      const missing = needed - level(key, now());
      return Math.max(1, Math.ceil(missing / perMs / 1000));
    },
    size: () => buckets.size,
  };
}
