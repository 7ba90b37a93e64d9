import type { Preferences, PublicUser } from '@lifexp/contracts';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { mutate, notifySessionsChanged } from './changes';
import type { Db, Executor } from './client';
import { DomainError } from './errors';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './passwords';
import { metrics, NOTICE_DUE_AT_ONCE, users } from './schema';
import { createSession, endSessions } from './sessions';
import {
  accountPolicy,
  addressPolicy,
  confirmPolicy,
  devicePolicy,
  forgetAccountThrottle,
  pairPolicy,
  registrationPolicy,
  releaseAttempt,
  reserveAttempts,
  resetThrottle,
  type ThrottlePolicy,
  throttleKeys,
} from './throttle';

type UserRow = typeof users.$inferSelect;

/** What a client may see of a user: never the password hash. */
export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    timezone: row.timezone,
    preferences: row.preferences as Preferences,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Creates an account. The email must already be normalized (trimmed, lower-cased). */
export async function registerUser(
  db: Executor,
  input: { email: string; password: string; timezone?: string | undefined },
): Promise<UserRow> {
  const passwordHash = await hashPassword(input.password);
  const [row] = await db
    .insert(users)
    .values({ email: input.email, passwordHash, timezone: input.timezone ?? 'UTC' })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new DomainError('CONFLICT', 'an account with this email already exists');
  return row;
}

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
  return row;
}

export async function getUser(db: Executor, userId: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(eq(users.id, userId));
  if (!row) throw new DomainError('NOT_FOUND', 'account not found');
  return row;
}

/**
 * The user whose email and password match, or null. An unknown email costs the same argon2
 * verification as a known one, so neither the answer nor its timing tells whether it exists.
 */
export async function authenticate(db: Executor, email: string, password: string): Promise<UserRow | null> {
  const user = await findUserByEmail(db, email);
  if (!user) return verifyAgainstDummy(password).then(() => null);
  return (await verifyPassword(user.passwordHash, password)) ? user : null;
}

export async function checkPassword(db: Executor, userId: string, password: string): Promise<boolean> {
  return verifyPassword((await getUser(db, userId)).passwordHash, password);
}

export async function setPassword(db: Executor, userId: string, newPassword: string): Promise<void> {
  const passwordHash = await hashPassword(newPassword);
  await db.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, userId));
}

/** Merges a preferences patch (null removes a key) and/or sets the timezone; other devices hear of it. */
export async function updatePreferences(
  db: Db,
  userId: string,
  input: { timezone?: string | undefined; preferences?: Record<string, unknown> | undefined },
): Promise<UserRow> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const current = await getUser(tx, userId);
    await checkReminderMetrics(tx, userId, input.preferences?.notifications);
    const merged: Record<string, unknown> = { ...current.preferences };
    for (const [key, value] of Object.entries(input.preferences ?? {})) {
      if (value === null) delete merged[key];
      else if (value !== undefined) merged[key] = value;
    }
    const [row] = await tx
      .update(users)
      .set({
        preferences: merged,
        timezone: input.timezone ?? current.timezone,
        // New notification settings or a new zone: the scheduler reads them at its next tick.
        ...(input.timezone !== undefined || input.preferences?.notifications !== undefined
          ? { nextNoticeAt: NOTICE_DUE_AT_ONCE }
          : {}),
        updatedAt: new Date(),
      })
      .where(eq(users.id, userId))
      .returning();
    if (!row) throw new DomainError('NOT_FOUND', 'account not found');
    record({ entity: 'user', entityId: userId, op: 'upsert', data: toPublicUser(row) });
    // Instances that cached the user with a session (time zone, preferences) forget it on commit.
    await notifySessionsChanged(tx, userId);
    return row;
  });
  return result;
}

/** A reminder may name only the user's own live metrics: any other id is NOT_FOUND, as everywhere. */
async function checkReminderMetrics(tx: Executor, userId: string, notifications: unknown): Promise<void> {
  const reminders = (notifications as { reminders?: { metricIds?: string[] }[] } | null | undefined)
    ?.reminders;
  const ids = [...new Set((reminders ?? []).flatMap((reminder) => reminder.metricIds ?? []))];
  if (ids.length === 0) return;
  const found = await tx
    .select({ id: metrics.id })
    .from(metrics)
    .where(and(eq(metrics.userId, userId), inArray(metrics.id, ids), isNull(metrics.deletedAt)));
  const known = new Set(found.map((row) => row.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw new DomainError('NOT_FOUND', 'metric not found', { metricId: missing });
}

/** Removes the user; foreign keys cascade to every row of theirs (sessions, metrics, entries, log…). */
export async function deleteUser(db: Executor, userId: string): Promise<void> {
  await db.delete(users).where(eq(users.id, userId));
}

// ---------------------------------------------------------------------------------------------
// Sign-up, sign-in and the changes that need the password again

const INVALID_CREDENTIALS = 'invalid email or password';

/** Who is asking: the client's address (for throttling) and its user agent (kept with the session). */
export interface Requester {
  address: string;
  userAgent?: string | undefined;
  /**
   * The device id of a valid device cookie issued to this email after an earlier sign-in, if the
   * request carries one (the server checks its signature). Such a device is throttled on its own.
   */
  knownDevice?: string | undefined;
}

export interface SignedIn {
  user: UserRow;
  token: string;
}

function tooMany(wait: number, what = 'too many failed attempts'): DomainError {
  return new DomainError('TOO_MANY_REQUESTS', `${what}; try again in ${wait} s`, {
    retryAfterSeconds: wait,
  });
}

/**
 * Creates an account and its first session. Registrations are counted per address (successful ones
 * too): "this email already exists" tells whether an account exists, so the answers are rationed.
 */
export async function signUp(
  db: Executor,
  input: { email: string; password: string; timezone?: string | undefined },
  requester: Requester,
  limits: { registrationsPerAddress: number } = { registrationsPerAddress: 10 },
): Promise<SignedIn> {
  const wait = await reserveAttempts(db, [
    [throttleKeys.registration(requester.address), registrationPolicy(limits.registrationsPerAddress)],
  ]);
  if (wait > 0) throw tooMany(wait, 'too many registrations from this address');
  const user = await registerUser(db, input);
  const { token } = await createSession(db, user.id, requester.userAgent);
  return { user, token };
}

/** The throttle buckets one sign-in attempt counts against. */
function signInKeys(email: string, requester: Requester): [string, ThrottlePolicy][] {
  // A known device is judged by its own failures only: nobody else's can lock it out.
  if (requester.knownDevice) return [[throttleKeys.device(email, requester.knownDevice), devicePolicy]];
  return [
    [throttleKeys.pair(email, requester.address), pairPolicy],
    [throttleKeys.address(requester.address), addressPolicy],
    [throttleKeys.account(email), accountPolicy],
  ];
}

/**
 * Checks the password and starts a session. The attempt is reserved in every throttle bucket before
 * the password is verified (so parallel attempts all count), and given back when it succeeds.
 */
export async function signIn(
  db: Executor,
  input: { email: string; password: string },
  requester: Requester,
): Promise<SignedIn> {
  const keys = signInKeys(input.email, requester);
  const wait = await reserveAttempts(db, keys);
  if (wait > 0) throw tooMany(wait);
  const user = await authenticate(db, input.email, input.password);
  if (!user) throw new DomainError('UNAUTHORIZED', INVALID_CREDENTIALS);
  for (const [key, policy] of keys) {
    // The account's own buckets start afresh; shared ones (address, the account's soft cap) only
    // get this attempt back, so an attacker's count is not wiped by the owner's success.
    if (key.startsWith('login:') || key.startsWith('device:')) await resetThrottle(db, key);
    else await releaseAttempt(db, key, policy);
  }
  const { token } = await createSession(db, user.id, requester.userAgent);
  return { user, token };
}

/**
 * Proves the signed-in person knows the password before a sensitive change; throttled per user, so
 * only someone holding a session of the account can use up its attempts (a stolen session must not
 * brute-force the password, and strangers' failed logins must not block the owner here).
 */
async function confirmPassword(db: Executor, user: { id: string; email: string }, password: string) {
  const key = throttleKeys.confirm(user.id);
  const wait = await reserveAttempts(db, [[key, confirmPolicy]]);
  if (wait > 0) throw tooMany(wait);
  if (!(await checkPassword(db, user.id, password))) {
    throw new DomainError('FORBIDDEN', 'the password is incorrect');
  }
  await resetThrottle(db, key);
}

/** Changes the password and signs out every other device; returns how many sessions ended. */
export async function changePassword(
  db: Executor,
  signedIn: { user: { id: string; email: string }; sessionId: string },
  input: { currentPassword: string; newPassword: string },
): Promise<number> {
  await confirmPassword(db, signedIn.user, input.currentPassword);
  await setPassword(db, signedIn.user.id, input.newPassword);
  return endSessions(db, signedIn.user.id, { allBut: signedIn.sessionId });
}

/**
 * Removes the account with all its data and sessions, once the password is confirmed, and the
 * throttle rows keyed by its email (a new account with that email starts clean).
 */
export async function deleteAccount(
  db: Executor,
  user: { id: string; email: string },
  password: string,
): Promise<void> {
  await confirmPassword(db, user, password);
  await deleteUser(db, user.id);
  await forgetAccountThrottle(db, user.email, user.id);
  await endSessions(db, user.id, 'all');
}
