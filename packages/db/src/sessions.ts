import { createHash, getRandomValues, timingSafeEqual } from 'node:crypto';
import { and, eq, getTableColumns, ne } from 'drizzle-orm';
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

/** The user behind a session, as requests see it: every column but the password hash. */
const { passwordHash: _passwordHash, ...sessionUserColumns } = getTableColumns(users);
export type SessionUser = Omit<typeof users.$inferSelect, 'passwordHash'>;

export interface ValidatedSession {
  session: SessionRecord;
  user: SessionUser;
  /** True when this validation extended the session: the client's cookie should be re-issued. */
  renewed: boolean;
}

/** The id and secret of a well-formed token, or null. */
function splitToken(token: string): { id: string; secret: string } | null {
  if (token.length !== 49) return null;
  const [id, secret] = token.split('.');
  if (!id || !secret || !tokenPart.test(id) || !tokenPart.test(secret)) return null;
  return { id, secret };
}

/** Constant-time comparison of the given secret with a stored SHA-256 (as bytes). */
function secretMatches(secret: string, stored: Buffer): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** The session and user behind a token, or null for a malformed, unknown, wrong or expired token. */
export async function validateSessionToken(
  db: Executor,
  token: string,
  now = new Date(),
): Promise<ValidatedSession | null> {
  const parts = splitToken(token);
  if (!parts) return null;
  const { id, secret } = parts;
  const [row] = await db
    .select({ session: sessions, user: sessionUserColumns })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, id));
  if (!row) return null;
  if (!secretMatches(secret, Buffer.from(row.session.secretHash, 'hex'))) return null;
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

/**
 * A per-process cache of validated sessions in front of validateSessionToken, so a request does not
 * pay a database round trip to learn what the previous one learned a moment ago.
 *
 * - An entry lives `ttlMs` at most, and only while no renewal is due (a due renewal goes to the
 *   database, which writes it).
 * - The secret is checked against the cached SHA-256 in constant time, as against the stored one.
 * - `forgetUser` drops every entry of a user: the server calls it when the sessions NOTIFY names the
 *   user (logout, logout everywhere, password change, account deletion, preferences), and at once
 *   for changes made by this process. `clear` drops everything (after the LISTEN reconnects, when
 *   notifications may have been missed).
 * - A validation that was reading the database while an invalidation arrived is not cached: it may
 *   have read the row just before it was deleted.
 * - At most `maxEntries` entries; the oldest goes first.
 */
export interface SessionCache {
  validate(db: Executor, token: string, now?: Date): Promise<ValidatedSession | null>;
  forgetUser(userId: string): void;
  clear(): void;
  readonly size: number;
}

interface CachedSession {
  secretHash: Buffer;
  session: SessionRecord;
  user: SessionUser;
  cachedAt: number;
}

export function createSessionCache(options: { ttlMs: number; maxEntries: number }): SessionCache {
  const { ttlMs, maxEntries } = options;
  const entries = new Map<string, CachedSession>();
  const byUser = new Map<string, Set<string>>();
  // Bumped by every invalidation: a database read that straddles one is not cached.
  let epoch = 0;

  const drop = (sessionId: string) => {
    const entry = entries.get(sessionId);
    if (!entry) return;
    entries.delete(sessionId);
    const ids = byUser.get(entry.session.userId);
    ids?.delete(sessionId);
    if (ids?.size === 0) byUser.delete(entry.session.userId);
  };

  return {
    async validate(db, token, now = new Date()) {
      if (ttlMs <= 0 || maxEntries <= 0) return validateSessionToken(db, token, now);
      const parts = splitToken(token);
      if (!parts) return null;
      const hit = entries.get(parts.id);
      if (hit) {
        const fresh = now.getTime() - hit.cachedAt < ttlMs;
        const renewalDue =
          now.getTime() - hit.session.lastVerifiedAt.getTime() >= SESSION_RENEWAL_INTERVAL_MS;
        if (fresh && !renewalDue) {
          return secretMatches(parts.secret, hit.secretHash)
            ? { session: hit.session, user: hit.user, renewed: false }
            : null;
        }
        drop(parts.id);
      }
      const startedAt = epoch;
      const validated = await validateSessionToken(db, token, now);
      if (validated && epoch === startedAt) {
        drop(parts.id);
        entries.set(parts.id, {
          secretHash: Buffer.from(hashSecret(parts.secret), 'hex'),
          session: validated.session,
          user: validated.user,
          cachedAt: now.getTime(),
        });
        const ids = byUser.get(validated.user.id) ?? new Set<string>();
        ids.add(parts.id);
        byUser.set(validated.user.id, ids);
        if (entries.size > maxEntries) drop(entries.keys().next().value as string);
      }
      return validated;
    },
    forgetUser(userId) {
      epoch += 1;
      for (const id of byUser.get(userId) ?? []) entries.delete(id);
      byUser.delete(userId);
    },
    clear() {
      epoch += 1;
      entries.clear();
      byUser.clear();
    },
    get size() {
      return entries.size;
    },
  };
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
