import type { Preferences, PublicUser } from '@lifexp/contracts';
import { eq, sql } from 'drizzle-orm';
import { mutate } from './changes';
import type { Db, Executor } from './client';
import { DomainError } from './errors';
import { hashPassword, verifyAgainstDummy, verifyPassword } from './passwords';
import { users } from './schema';
import { createSession, endSessions } from './sessions';
import { accountPolicy, addressPolicy, recordFailure, resetThrottle, throttleDelay } from './throttle';

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
    const merged: Record<string, unknown> = { ...current.preferences };
    for (const [key, value] of Object.entries(input.preferences ?? {})) {
      if (value === null) delete merged[key];
      else if (value !== undefined) merged[key] = value;
    }
    const [row] = await tx
      .update(users)
      .set({ preferences: merged, timezone: input.timezone ?? current.timezone, updatedAt: new Date() })
      .where(eq(users.id, userId))
      .returning();
    if (!row) throw new DomainError('NOT_FOUND', 'account not found');
    record({ entity: 'user', entityId: userId, op: 'upsert', data: toPublicUser(row) });
    return row;
  });
  return result;
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
}

export interface SignedIn {
  user: UserRow;
  token: string;
}

async function refuseIfThrottled(db: Executor, keys: string[]): Promise<void> {
  const wait = await throttleDelay(db, keys);
  if (wait > 0) {
    throw new DomainError('TOO_MANY_REQUESTS', `too many failed attempts; try again in ${wait} s`, {
      retryAfterSeconds: wait,
    });
  }
}

const accountKey = (email: string) => `account:${email}`;

/** Creates an account and its first session. */
export async function signUp(
  db: Executor,
  input: { email: string; password: string; timezone?: string | undefined },
  requester: Requester,
): Promise<SignedIn> {
  const user = await registerUser(db, input);
  const { token } = await createSession(db, user.id, requester.userAgent);
  return { user, token };
}

/** Checks the password (throttled per account and per address) and starts a session. */
export async function signIn(
  db: Executor,
  input: { email: string; password: string },
  requester: Requester,
): Promise<SignedIn> {
  const keys = { account: accountKey(input.email), address: `address:${requester.address}` };
  await refuseIfThrottled(db, [keys.account, keys.address]);
  const user = await authenticate(db, input.email, input.password);
  if (!user) {
    await recordFailure(db, keys.account, accountPolicy);
    await recordFailure(db, keys.address, addressPolicy);
    throw new DomainError('UNAUTHORIZED', INVALID_CREDENTIALS);
  }
  await resetThrottle(db, keys.account);
  const { token } = await createSession(db, user.id, requester.userAgent);
  return { user, token };
}

/** Proves the signed-in person knows the password before a sensitive change; throttled like sign-in. */
async function confirmPassword(db: Executor, user: { id: string; email: string }, password: string) {
  const key = accountKey(user.email);
  await refuseIfThrottled(db, [key]);
  if (!(await checkPassword(db, user.id, password))) {
    await recordFailure(db, key, accountPolicy);
    throw new DomainError('FORBIDDEN', 'the password is incorrect');
  }
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

/** Removes the account with all its data and sessions, once the password is confirmed. */
export async function deleteAccount(
  db: Executor,
  user: { id: string; email: string },
  password: string,
): Promise<void> {
  await confirmPassword(db, user, password);
  await deleteUser(db, user.id);
  await endSessions(db, user.id, 'all');
}
