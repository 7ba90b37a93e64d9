import { describeEachDriver } from '@lifexp/db/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
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
} from './support';

allowSlowMachines();
afterEach(async () => {
  await closeDevices();
});
// The limit for "promptly": the session hub reacts to the sessions NOTIFY, not to its periodic recheck
// (SESSION_RECHECK_MS is left at its default of five minutes).
const PROMPTLY_MS = 5000;
describeEachDriver('ending a session ends its live subscription', (ctx) => {
  let server;
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
