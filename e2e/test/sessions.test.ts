import {
  createPostgresDatabase,
  describeEachDriver,
  dropPostgresDatabase,
  testDrivers,
} from '@lifexp/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allowSlowMachines,
  changesArrived,
  closeDevices,
  createEntries,
  createMetric,
  device,
  errorArrived,
  PASSWORD,
  ready,
  signIn,
  signUp,
  startTestServer,
  subscribe,
  type TestServer,
  waitFor,
} from './support';

allowSlowMachines();

afterEach(async () => {
  await closeDevices();
});

// The limit for "promptly": the session hub reacts to the sessions NOTIFY, not to its periodic recheck
// (SESSION_RECHECK_MS is left at its default of five minutes).
const PROMPTLY_MS = 5_000;

describeEachDriver('ending a session ends its live subscription', (ctx) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({}, ctx().database);
  });
  afterAll(async () => {
    await server?.server.close();
  });

  it('logout over HTTP with the token ends the subscription with UNAUTHORIZED', async () => {
    const account = await signUp(server.url);
    const token = await signIn(server.url, account.email);
    const b = device(server.url, token);
    const stream = subscribe(b);
    await ready(stream);
    // The subscription is live before the logout.
    const metricId = await createMetric(device(server.url, account.token));
    await changesArrived(stream, 1);

    await b.trpc.users.logout.mutate();
    const error = await errorArrived(stream, PROMPTLY_MS);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(stream.errors).toHaveLength(1);

    // Nothing more reaches the ended session, and a new subscription with its token is refused.
    await createEntries(device(server.url, account.token), metricId, 2);
    const again = subscribe(b);
    expect((await errorArrived(again)).code).toBe('UNAUTHORIZED');
    expect(stream.changes()).toHaveLength(1);
    expect(again.events).toEqual([]);
  });

  it('deleteAccount ends the subscriptions of every device of the account', async () => {
    const account = await signUp(server.url);
    const other = await signIn(server.url, account.email);
    const own = subscribe(device(server.url, account.token));
    const elsewhere = subscribe(device(server.url, other));
    await ready(own);
    await ready(elsewhere);

    await device(server.url, account.token).trpc.users.deleteAccount.mutate({ password: PASSWORD });
    expect((await errorArrived(own, PROMPTLY_MS)).code).toBe('UNAUTHORIZED');
    expect((await errorArrived(elsewhere, PROMPTLY_MS)).code).toBe('UNAUTHORIZED');
  });

  it('logoutAll from another device ends this device’s subscription but not the caller’s', async () => {
    const account = await signUp(server.url);
    const bToken = await signIn(server.url, account.email);
    const callerToken = await signIn(server.url, account.email);
    const b = subscribe(device(server.url, bToken));
    const caller = device(server.url, callerToken);
    const callerStream = subscribe(caller);
    await ready(b);
    await ready(callerStream);

    const result = await caller.trpc.users.logoutAll.mutate();
    expect(result.endedSessions).toBe(2);
    expect((await errorArrived(b, PROMPTLY_MS)).code).toBe('UNAUTHORIZED');

    // The caller's session, and its subscription, carry on.
    const metricId = await createMetric(caller);
    const [change] = await changesArrived(callerStream, 1);
    expect(change).toMatchObject({ id: metricId });
    expect(callerStream.errors).toEqual([]);
    expect(b.changes()).toEqual([]);
  });

  it('changePassword ends the other devices’ subscriptions', async () => {
    const account = await signUp(server.url);
    const bToken = await signIn(server.url, account.email);
    const b = subscribe(device(server.url, bToken));
    await ready(b);
    const caller = device(server.url, account.token);
    await caller.trpc.users.changePassword.mutate({
      currentPassword: PASSWORD,
      newPassword: 'another correct horse battery',
    });
    expect((await errorArrived(b, PROMPTLY_MS)).code).toBe('UNAUTHORIZED');
  });
});

/** A calendar date in the zone, and the day after it (YYYY-MM-DD). */
function dayAfterToday(timeZone: string): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Whether the token is still accepted for a signed-in call on that instance. */
async function accepted(url: string, token: string): Promise<boolean> {
  try {
    await device(url, token).trpc.users.profile.query();
    return true;
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === 'UNAUTHORIZED') return false;
    throw error;
  }
}

// Each instance keeps validated sessions in memory (SESSION_CACHE_MS, a minute here, so that only
// the invalidation can explain a refusal within PROMPTLY_MS). Ending a session on one instance must
// reach the other's cache through the sessions NOTIFY: PostgreSQL only, PGlite is one process.
if (testDrivers.includes('postgres')) {
  describe('cached sessions across two instances on one PostgreSQL database', () => {
    let databaseUrl: string;
    let first: TestServer;
    let second: TestServer;
    beforeAll(async () => {
      databaseUrl = await createPostgresDatabase();
      const env = { DATABASE_URL: databaseUrl, SESSION_CACHE_MS: '60000' };
      first = await startTestServer(env);
      second = await startTestServer(env);
    });
    afterAll(async () => {
      await first?.server.close();
      await second?.server.close();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    });

    it('a logout on one instance is refused at once there and promptly on the other', async () => {
      const account = await signUp(first.url);
      const token = await signIn(first.url, account.email);
      expect(await accepted(second.url, token)).toBe(true);
      expect(await accepted(first.url, token)).toBe(true);

      await device(first.url, token).trpc.users.logout.mutate();
      expect(await accepted(first.url, token)).toBe(false);
      await waitFor(async () => !(await accepted(second.url, token)), { timeoutMs: PROMPTLY_MS });
      // The account's other session is untouched on both.
      expect(await accepted(first.url, account.token)).toBe(true);
      expect(await accepted(second.url, account.token)).toBe(true);
    });

    it('logoutAll and changePassword end the other sessions cached on the other instance, not the caller’s', async () => {
      const account = await signUp(first.url);
      const others = [await signIn(first.url, account.email), await signIn(second.url, account.email)];
      for (const token of others) expect(await accepted(second.url, token)).toBe(true);
      await device(first.url, account.token).trpc.users.logoutAll.mutate();
      for (const token of others)
        await waitFor(async () => !(await accepted(second.url, token)), { timeoutMs: PROMPTLY_MS });
      expect(await accepted(second.url, account.token)).toBe(true);

      const another = await signIn(first.url, account.email);
      expect(await accepted(first.url, another)).toBe(true);
      await device(second.url, account.token).trpc.users.changePassword.mutate({
        currentPassword: PASSWORD,
        newPassword: 'another correct horse battery',
      });
      await waitFor(async () => !(await accepted(first.url, another)), { timeoutMs: PROMPTLY_MS });
      expect(await accepted(first.url, account.token)).toBe(true);
    });

    it('a deleted account’s token is refused on both instances', async () => {
      const account = await signUp(first.url);
      const token = await signIn(second.url, account.email);
      expect(await accepted(second.url, token)).toBe(true);
      expect(await accepted(second.url, account.token)).toBe(true);
      await device(first.url, account.token).trpc.users.deleteAccount.mutate({ password: PASSWORD });
      expect(await accepted(first.url, account.token)).toBe(false);
      for (const each of [token, account.token])
        await waitFor(async () => !(await accepted(second.url, each)), { timeoutMs: PROMPTLY_MS });
    });

    it('a time zone changed through one instance is used by the other for the next write', async () => {
      const account = await signUp(first.url);
      const owner = device(first.url, account.token);
      const metricId = await createMetric(owner);
      // Pago Pago (UTC−11) and Kiritimati (UTC+14) are always at least one calendar day apart.
      await owner.trpc.users.updatePreferences.mutate({ timezone: 'Pacific/Pago_Pago' });
      const onSecond = device(second.url, account.token);
      const lateDate = dayAfterToday('Pacific/Kiritimati');
      // Cached on the second instance with the western zone: that date is too far ahead there.
      await waitFor(
        async () => {
          try {
            await onSecond.trpc.entries.create.mutate({ metricId, value: 3, date: lateDate });
            return false;
          } catch (error) {
            return (error as { data?: { code?: string } }).data?.code === 'BAD_REQUEST';
          }
        },
        { timeoutMs: PROMPTLY_MS },
      );
      await owner.trpc.users.updatePreferences.mutate({ timezone: 'Pacific/Kiritimati' });
      const created = await waitFor(
        async () => onSecond.trpc.entries.create.mutate({ metricId, value: 3, date: lateDate }),
        { timeoutMs: PROMPTLY_MS },
      );
      expect(created.date).toBe(lateDate);
    });
  });
}
