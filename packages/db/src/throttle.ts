import { inArray, sql } from 'drizzle-orm';
import type { Executor } from './client';
import { loginThrottle } from './schema';

// Login throttling in the database, so it holds across server instances. Each key (an account or a
// client address) gets some free failures, then a delay that doubles with every further failure.

export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  free: number;
  /** The first delay, in seconds; doubled on each further failure. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** A key whose last failure is older than this starts afresh. */
  windowSeconds: number;
}

export const accountPolicy: ThrottlePolicy = {
  free: 5,
  baseDelaySeconds: 2,
  maxDelaySeconds: 900,
  windowSeconds: 3600,
};
export const addressPolicy: ThrottlePolicy = {
  free: 20,
  baseDelaySeconds: 2,
  maxDelaySeconds: 900,
  windowSeconds: 3600,
};

/** Seconds until the first of these keys unblocks, or 0 when none is blocked. */
export async function throttleDelay(db: Executor, keys: string[], now = new Date()): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await db
    .select({ blockedUntil: loginThrottle.blockedUntil })
    .from(loginThrottle)
    .where(inArray(loginThrottle.key, keys));
  let wait = 0;
  for (const row of rows) {
    if (row.blockedUntil && row.blockedUntil > now) {
      wait = Math.max(wait, Math.ceil((row.blockedUntil.getTime() - now.getTime()) / 1000));
    }
  }
  return wait;
}

/** Counts a failure against a key, atomically, and sets its next unblock time. */
export async function recordFailure(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now = new Date(),
): Promise<void> {
  // Timestamps go into raw SQL as ISO text with a cast: drivers differ on how they bind a Date.
  const stale = sql`${new Date(now.getTime() - policy.windowSeconds * 1000).toISOString()}::timestamptz`;
  const failures = sql`(case when ${loginThrottle.lastFailureAt} < ${stale} then 1 else ${loginThrottle.failures} + 1 end)`;
  const blockedUntil = (count: ReturnType<typeof sql>) =>
    sql`(case when ${count} > ${policy.free}
      then ${now.toISOString()}::timestamptz + make_interval(secs => least(${policy.maxDelaySeconds}::float8,
        ${policy.baseDelaySeconds}::float8 * power(2, least(${count} - ${policy.free} - 1, 30))))
      else null end)`;
  await db
    .insert(loginThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: null })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: { failures, lastFailureAt: now, blockedUntil: blockedUntil(failures) },
    });
}

export async function resetThrottle(db: Executor, key: string): Promise<void> {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [key]));
}
