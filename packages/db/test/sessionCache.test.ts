import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Db } from '../src/client';
import { sessions, users } from '../src/schema';
import {
  createSession,
  createSessionCache,
  SESSION_INACTIVITY_MS,
  SESSION_RENEWAL_INTERVAL_MS,
  validateSessionToken,
} from '../src/sessions';
import { describeEachDriver } from '../src/testing';

async function newUser(db: Db): Promise<string> {
  const id = randomUUID();
  await db.insert(users).values({ id, email: `${id}@example.test`, passwordHash: 'secret-hash' });
  return id;
}

/** Removes the session row behind the cache's back: only the database can tell it is gone. */
async function deleteRow(db: Db, sessionId: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sessionId));
}

const minute = 60_000;

describeEachDriver('session cache', (ctx) => {
  it('answers a repeated validation from memory until the user is forgotten', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token, session } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 10 * minute, maxEntries: 100 });

    const first = await cache.validate(db, token);
    expect(first).toMatchObject({
      session: { id: session.id, userId },
      user: { id: userId },
      renewed: false,
    });
    // The password hash never travels with the session.
    expect(first?.user).not.toHaveProperty('passwordHash');
    expect(cache.size).toBe(1);

    await deleteRow(db, session.id);
    // Still cached: this answer did not come from the database (which no longer has the row).
    expect((await cache.validate(db, token))?.session.id).toBe(session.id);
    expect(await validateSessionToken(db, token)).toBeNull();

    cache.forgetUser(userId);
    expect(cache.size).toBe(0);
    expect(await cache.validate(db, token)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('refuses a wrong secret for a cached session id, and malformed tokens, without caching them', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 10 * minute, maxEntries: 100 });
    expect(await cache.validate(db, token)).not.toBeNull();

    const [id, secret] = token.split('.') as [string, string];
    const wrongSecret = `${id}.${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`;
    expect(await cache.validate(db, wrongSecret)).toBeNull();
    for (const bad of [
      '',
      'x'.repeat(49),
      `${id}.${secret}x`,
      `${id}:${secret}`,
      `${id.toUpperCase()}.${secret}`,
    ])
      expect(await cache.validate(db, bad)).toBeNull();
    // The right token still works and nothing else was stored.
    expect(await cache.validate(db, token)).not.toBeNull();
    expect(cache.size).toBe(1);
  });

  it('asks the database again once an entry is older than its time to live', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token, session } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 1_000, maxEntries: 100 });
    const t0 = new Date();
    expect(await cache.validate(db, token, t0)).not.toBeNull();
    await deleteRow(db, session.id);
    expect(await cache.validate(db, token, new Date(t0.getTime() + 999))).not.toBeNull();
    expect(await cache.validate(db, token, new Date(t0.getTime() + 1_000))).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('goes to the database when a renewal is due, which renews the session (and refuses an expired one)', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token, session } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 10 * SESSION_INACTIVITY_MS, maxEntries: 100 });
    const created = session.lastVerifiedAt.getTime();
    expect((await cache.validate(db, token, new Date(created + 1_000)))?.renewed).toBe(false);

    const later = new Date(created + SESSION_RENEWAL_INTERVAL_MS + 1_000);
    const renewed = await cache.validate(db, token, later);
    expect(renewed?.renewed).toBe(true);
    const [row] = await db.select().from(sessions).where(eq(sessions.id, session.id));
    expect(row?.lastVerifiedAt.getTime()).toBe(later.getTime());
    // The renewed answer is cached in turn.
    expect((await cache.validate(db, token, new Date(later.getTime() + 1_000)))?.renewed).toBe(false);

    // Long idle: the database deletes the session, whatever the cache held.
    const idle = new Date(later.getTime() + SESSION_INACTIVITY_MS);
    expect(await cache.validate(db, token, idle)).toBeNull();
    expect(await db.select().from(sessions).where(eq(sessions.id, session.id))).toEqual([]);
  });

  it('does not cache a validation that was reading while the user was forgotten', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token, session } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 10 * minute, maxEntries: 100 });
    const pending = cache.validate(db, token);
    // The logout lands while the read is in flight.
    cache.forgetUser(userId);
    expect(await pending).not.toBeNull();
    expect(cache.size).toBe(0);
    await deleteRow(db, session.id);
    expect(await cache.validate(db, token)).toBeNull();
  });

  it('forgets only the named user, clears everything on request, and holds at most maxEntries', async () => {
    const { db } = ctx();
    const alice = await newUser(db);
    const bob = await newUser(db);
    const cache = createSessionCache({ ttlMs: 10 * minute, maxEntries: 3 });
    const aliceTokens = [(await createSession(db, alice)).token, (await createSession(db, alice)).token];
    const bobToken = (await createSession(db, bob)).token;
    for (const token of [...aliceTokens, bobToken]) expect(await cache.validate(db, token)).not.toBeNull();
    expect(cache.size).toBe(3);

    cache.forgetUser(alice);
    expect(cache.size).toBe(1);
    expect((await cache.validate(db, bobToken))?.user.id).toBe(bob);

    const more = await Promise.all([1, 2, 3, 4].map(async () => (await createSession(db, bob)).token));
    for (const token of more) expect(await cache.validate(db, token)).not.toBeNull();
    expect(cache.size).toBe(3);

    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('with a time to live of 0 it always asks the database', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const { token, session } = await createSession(db, userId);
    const cache = createSessionCache({ ttlMs: 0, maxEntries: 100 });
    expect(await cache.validate(db, token)).not.toBeNull();
    expect(cache.size).toBe(0);
    await deleteRow(db, session.id);
    expect(await cache.validate(db, token)).toBeNull();
  });
});
