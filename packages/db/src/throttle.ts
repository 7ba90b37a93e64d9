import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from './client';
import { loginThrottle } from './schema';

// Throttling in the database, so it holds across server instances. Each key (an account and address
// pair, a known device, an address, a registration address…) gets some free attempts, then a delay
// that doubles with every further one. An attempt reserves its slot before the password is checked,
// in one atomic statement, so N parallel attempts count as N; a success gives its slot back.

export interface ThrottlePolicy {
  /** Attempts allowed before any delay. */
  free: number;
  /** The first delay, in seconds; doubled on each further attempt. */
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** A key whose last attempt is older than this starts afresh. */
  windowSeconds: number;
}

/** One account from one address (or one unknown device): the strict bucket an attacker fills. */
export const pairPolicy: ThrottlePolicy = {
  free: 5,
  baseDelaySeconds: 2,
  maxDelaySeconds: 900,
  windowSeconds: 3600,
};
/** A device that signed in to the account before (device cookie): only its own failures count. */
export const devicePolicy: ThrottlePolicy = pairPolicy;
/** One address trying many accounts. */
export const addressPolicy: ThrottlePolicy = {
  free: 20,
  baseDelaySeconds: 2,
  maxDelaySeconds: 900,
  windowSeconds: 3600,
};
/**
 * The soft cap of an account over every address: it holds back distributed guessing from unknown
 * devices, and never applies to a device the owner signed in from before.
 */
export const accountPolicy: ThrottlePolicy = {
  free: 50,
  baseDelaySeconds: 2,
  maxDelaySeconds: 300,
  windowSeconds: 3600,
};
/** Password confirmation by a signed-in session (changePassword, deleteAccount), per user. */
export const confirmPolicy: ThrottlePolicy = pairPolicy;
/**
 * Registrations per address and hour; every registration counts, successful or not. The last allowed
 * one sets the block, so the next is refused.
 */
export function registrationPolicy(perHour: number): ThrottlePolicy {
  return { free: perHour - 1, baseDelaySeconds: 60, maxDelaySeconds: 3600, windowSeconds: 3600 };
}

/** The longest window of any policy: rows idle for longer are expired by maintenance. */
export const THROTTLE_WINDOW_SECONDS = 3600;

export const throttleKeys = {
  pair: (email: string, address: string) => `login:${email} ${address}`,
  device: (email: string, deviceId: string) => `device:${email} ${deviceId}`,
  account: (email: string) => `account:${email}`,
  address: (address: string) => `address:${address}`,
  confirm: (userId: string) => `confirm:${userId}`,
  registration: (address: string) => `register:${address}`,
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

function counted(policy: ThrottlePolicy, now: Date) {
  // Timestamps go into raw SQL as ISO text with a cast: drivers differ on how they bind a Date.
  const stale = sql`${new Date(now.getTime() - policy.windowSeconds * 1000).toISOString()}::timestamptz`;
  const attempts = sql`(case when ${loginThrottle.lastFailureAt} < ${stale} then 1 else ${loginThrottle.failures} + 1 end)`;
  const blockedUntil = (count: ReturnType<typeof sql>) =>
    sql`(case when ${count} > ${policy.free}
      then ${now.toISOString()}::timestamptz + make_interval(secs => least(${policy.maxDelaySeconds}::float8,
        ${policy.baseDelaySeconds}::float8 * power(2, least(${count} - ${policy.free} - 1, 30))))
      else null end)`;
  return { attempts, blockedUntil };
}

/**
 * Takes one attempt from the key, atomically: answers 0 when the attempt may go ahead (and is now
 * counted), or the seconds to wait when the key is blocked (and nothing was counted). The row lock of
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` serialises parallel attempts on one key.
 */
export async function reserveAttempt(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now = new Date(),
): Promise<number> {
  const { attempts, blockedUntil } = counted(policy, now);
  // The first attempt on a key already sets the block when the policy has no free attempt.
  const firstBlock =
    policy.free < 1
      ? new Date(now.getTime() + Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds) * 1000)
      : null;
  const taken = await db
    .insert(loginThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: firstBlock })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: { failures: attempts, lastFailureAt: now, blockedUntil: blockedUntil(attempts) },
      setWhere: or(
        isNull(loginThrottle.blockedUntil),
        sql`${loginThrottle.blockedUntil} <= ${now.toISOString()}::timestamptz`,
      ),
    })
    .returning({ key: loginThrottle.key });
  if (taken.length > 0) return 0;
  return Math.max(1, await throttleDelay(db, [key], now));
}

/**
 * Reserves an attempt on every key, or on none: when one key is blocked, the slots already taken are
 * given back and the wait is returned.
 */
export async function reserveAttempts(
  db: Executor,
  keys: [string, ThrottlePolicy][],
  now = new Date(),
): Promise<number> {
  // A cheap look first: a blocked key costs one read, not a write per key.
  const wait = await throttleDelay(
    db,
    keys.map(([key]) => key),
    now,
  );
  if (wait > 0) return wait;
  const taken: [string, ThrottlePolicy][] = [];
  for (const [key, policy] of keys) {
    const blocked = await reserveAttempt(db, key, policy, now);
    if (blocked > 0) {
      for (const [done, donePolicy] of taken) await releaseAttempt(db, done, donePolicy);
      return blocked;
    }
    taken.push([key, policy]);
  }
  return 0;
}

/** Gives a reserved attempt back (it succeeded): the count drops by one, and the block with it. */
export async function releaseAttempt(db: Executor, key: string, policy: ThrottlePolicy): Promise<void> {
  await db
    .update(loginThrottle)
    .set({
      failures: sql`greatest(${loginThrottle.failures} - 1, 0)`,
      blockedUntil: sql`(case when ${loginThrottle.failures} - 1 > ${policy.free} then ${loginThrottle.blockedUntil} else null end)`,
    })
    .where(eq(loginThrottle.key, key));
}

/** Counts a failure against a key without asking first (kept for tools and tests). */
export async function recordFailure(
  db: Executor,
  key: string,
  policy: ThrottlePolicy,
  now = new Date(),
): Promise<void> {
  const { attempts, blockedUntil } = counted(policy, now);
  await db
    .insert(loginThrottle)
    .values({ key, failures: 1, lastFailureAt: now, blockedUntil: null })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: { failures: attempts, lastFailureAt: now, blockedUntil: blockedUntil(attempts) },
    });
}

export async function resetThrottle(db: Executor, key: string): Promise<void> {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [key]));
}

/** Removes every throttle row that names this account: its email's keys and its user id's. */
export async function forgetAccountThrottle(db: Executor, email: string, userId: string): Promise<number> {
  const removed = await db
    .delete(loginThrottle)
    .where(
      or(
        inArray(loginThrottle.key, [throttleKeys.account(email), throttleKeys.confirm(userId)]),
        sql`starts_with(${loginThrottle.key}, ${`login:${email} `})`,
        sql`starts_with(${loginThrottle.key}, ${`device:${email} `})`,
      ),
    )
    .returning({ key: loginThrottle.key });
  return removed.length;
}

/** Maintenance: rows whose window has passed and that block nothing any more. */
export async function expireThrottle(db: Executor, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - THROTTLE_WINDOW_SECONDS * 1000);
  const removed = await db
    .delete(loginThrottle)
    .where(
      and(
        lt(loginThrottle.lastFailureAt, before),
        or(isNull(loginThrottle.blockedUntil), lt(loginThrottle.blockedUntil, now)),
      ),
    )
    .returning({ key: loginThrottle.key });
  return removed.length;
}
