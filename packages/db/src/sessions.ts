import { createHash, getRandomValues, timingSafeEqual } from 'node:crypto';
import { and, eq, ne } from 'drizzle-orm';
import { notifySessionsChanged } from './changes';
import type { Executor } from './client';
import { sessions, users } from './schema';

// Sessions after the current Lucia guide: a token `<id>.<secret>`, only SHA-256(secret) stored,
// constant-time comparison, inactivity expiry with rate-limited renewal.

export const SESSION_INACTIVITY_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_RENEWAL_INTERVAL_MS = 60 * 60 * 1000;

const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const tokenPart = /^[a-km-z2-9]{24}$/;

/** 24 characters of a 32-letter alphabet: 120 bits of entropy. */
function randomString(): string {
  const bytes = getRandomValues(new Uint8Array(24));
  let out = '';
  for (const byte of bytes) out += alphabet[byte >> 3];
  return out;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastVerifiedAt: Date;
}

export async function createSession(
  db: Executor,
  userId: string,
  userAgent?: string,
): Promise<{ token: string; session: SessionRecord }> {
  const id = randomString();
  const secret = randomString();
  const now = new Date();
  await db.insert(sessions).values({
    id,
    userId,
    secretHash: hashSecret(secret),
    userAgent: userAgent?.slice(0, 256) ?? null,
    createdAt: now,
    lastVerifiedAt: now,
  });
  return { token: `${id}.${secret}`, session: { id, userId, createdAt: now, lastVerifiedAt: now } };
}

export interface ValidatedSession {
  session: SessionRecord;
  user: typeof users.$inferSelect;
  /** True when this validation extended the session: the client's cookie should be re-issued. */
  renewed: boolean;
}

/** The session and user behind a token, or null for a malformed, unknown, wrong or expired token. */
export async function validateSessionToken(
  db: Executor,
  token: string,
  now = new Date(),
): Promise<ValidatedSession | null> {
  if (token.length !== 49) return null;
  const [id, secret] = token.split('.');
  if (!id || !secret || !tokenPart.test(id) || !tokenPart.test(secret)) return null;
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, id));
  if (!row) return null;
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(row.session.secretHash, 'hex');
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null;
  const idle = now.getTime() - row.session.lastVerifiedAt.getTime();
  if (idle >= SESSION_INACTIVITY_MS) {
    await db.delete(sessions).where(eq(sessions.id, id));
    return null;
  }
  const { secretHash: _secretHash, userAgent: _userAgent, ...session } = row.session;
  // Renew at most once an hour: one write per session per hour, not per request.
  if (idle >= SESSION_RENEWAL_INTERVAL_MS) {
    await db.update(sessions).set({ lastVerifiedAt: now }).where(eq(sessions.id, id));
    return { session: { ...session, lastVerifiedAt: now }, user: row.user, renewed: true };
  }
  return { session, user: row.user, renewed: false };
}

export async function invalidateSession(db: Executor, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of the user except `keepSessionId`; returns how many ended. */
export async function invalidateOtherSessions(
  db: Executor,
  userId: string,
  keepSessionId: string | null,
): Promise<number> {
  const condition = keepSessionId
    ? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))
    : eq(sessions.userId, userId);
  const ended = await db.delete(sessions).where(condition).returning({ id: sessions.id });
  return ended.length;
}

/** Whether the session still exists (it may have been logged out elsewhere). */
export async function sessionExists(db: Executor, sessionId: string): Promise<boolean> {
  const [row] = await db.select({ id: sessions.id }).from(sessions).where(eq(sessions.id, sessionId));
  return row !== undefined;
}

/**
 * Ends sessions of the user: one (`{ only }`), all but one (`{ allBut }`), or all of them; then tells
 * every server instance, so live connections on those sessions close. Returns how many ended.
 */
export async function endSessions(
  db: Executor,
  userId: string,
  which: { only: string } | { allBut: string } | 'all',
): Promise<number> {
  let ended: number;
  if (which !== 'all' && 'only' in which) {
    await invalidateSession(db, which.only);
    ended = 1;
  } else {
    ended = await invalidateOtherSessions(db, userId, which === 'all' ? null : which.allBut);
  }
  await notifySessionsChanged(db, userId);
  return ended;
}
