import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { measure } from '../../scripts/size';
import {
  buildDashboard,
  launchBrowser,
  newContext,
  persistentContext,
  query,
  type RunningApp,
  screenshot,
  startServer,
  watchConsole,
} from './support';

// Notifications in a real Chromium against the real server (production mode, embedded database,
// the scheduler ticking every second): notices made by the server's own scheduler arrive live, are
// read and stay read; settings, webhooks and Web Push on the settings screen.

vi.setConfig({ testTimeout: 240_000, hookTimeout: 420_000 });

const TZ = 'Europe/Berlin';
const PASSWORD = 'a long and careful passphrase';
// Fresh accounts on every run: with TEST_DATABASE_URL the server keeps its PostgreSQL database.
const RUN = Date.now().toString(36);
const email = (name: string) => `${name}.${RUN}@example.com`;

interface Notice {
  id: string;
  kind: string;
  link: string;
  readAt: string | null;
}
interface NoticePage {
  items: Notice[];
  unread: number;
}
interface WebhookRow {
  id: string;
  url: string;
  enabled: boolean;
  consecutiveFailures: number;
}

let app: RunningApp;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
/** Whether the receiver's /fail path answers 500 (else 204: the endpoint has recovered). */
let failing = true;
const consoleErrors: string[] = [];
const contexts: BrowserContext[] = [];

async function open(options: { permissions?: string[]; init?: string } = {}): Promise<Page> {
  const context = await newContext(browser, app.url);
  contexts.push(context);
  if (options.permissions) await context.grantPermissions(options.permissions, { origin: app.url });
  if (options.init) await context.addInitScript(options.init);
  const page = await context.newPage();
  watchConsole(page, consoleErrors);
  return page;
}

async function enter(page: Page, address: string, mode: 'Sign in' | 'Create account') {
  await page.goto('/');
  if (mode === 'Create account')
    await page.getByRole('button', { name: 'Create an account instead' }).click();
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: mode }).click();
  await page.getByRole('heading', { name: 'Today' }).waitFor();
}
const signUp = (page: Page, address: string) => enter(page, address, 'Create account');
const signIn = (page: Page, address: string) => enter(page, address, 'Sign in');

/** A tRPC mutation over HTTP with the context's session cookie (same origin, as the page sends it). */
async function mutate<T>(page: Page, path: string, input?: unknown): Promise<T> {
  const response = await page.request.post(`/trpc/${path}`, {
    headers: { origin: app.url, 'content-type': 'application/json' },
    ...(input === undefined ? {} : { data: input }),
  });
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

/** The local wall-clock time `minutesAgo` minutes ago in the account's zone, as HH:MM. */
function localTime(minutesAgo: number): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(Date.now() - minutesAgo * 60_000));
}

/** The message tied to a field once it is marked invalid (aria-describedby, its error last). */
async function errorBeside(page: Page, field: Locator): Promise<string> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ');
  return (await page.locator(`[id="${ids.at(-1)}"]`).textContent()) ?? '';
}

const unreadBadge = (page: Page) =>
  page.getByRole('navigation', { name: 'Main' }).getByTestId('unread-count');
const notices = (page: Page) => page.getByRole('list', { name: 'Notifications' }).getByTestId('notice');

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(failing && request.url?.startsWith('/fail') ? 500 : 204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const dist = buildDashboard();
  [app, browser] = await Promise.all([
    startServer(dist, {
      NOTIFICATIONS_TICK_SECONDS: '1',
      JOBS_POLL_SECONDS: '1',
      // The test's webhook receiver listens on loopback.
      WEBHOOKS_ALLOW_PRIVATE: 'true',
      // An endpoint is paused after two failures in a row.
      WEBHOOKS_DISABLE_AFTER: '2',
      // PostgreSQL when the suite is given one, else the embedded database.
      ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await app?.stop();
  if (app) rmSync(app.dist, { recursive: true, force: true });
  await new Promise((done) => receiver?.close(done));
});

describe('notifications in the dashboard', () => {
  let ada: Page;
  let bob: Page;

  it('serves the service worker at /sw.js, revalidated (never cached as immutable), and keeps the screens out of the first load', async () => {
    const page = await open();
    const worker = await page.request.get('/sw.js');
    expect(worker.status()).toBe(200);
    expect(worker.headers()['content-type']).toContain('javascript');
    expect(worker.headers()['cache-control']).toBe('no-cache');
    const source = await worker.text();
    expect(source).toContain('notificationclick');
    // A classic script: no module imports to resolve.
    expect(source).not.toMatch(/^\s*import[\s{]/m);

    const size = measure(app.dist);
    console.log(`initial JavaScript: ${(size.initialBytes / 1024).toFixed(1)} KiB gzip`);
    const first = size.initial.map((file) => readFileSync(join(app.dist, file), 'utf8')).join('\n');
    expect(first).not.toContain('Enable push on this device');
    expect(first).not.toContain('Mark all read');
    const lazy = size.lazy.map((chunk) => readFileSync(join(app.dist, chunk.file), 'utf8')).join('\n');
    expect(lazy).toContain('Enable push on this device');
    expect(lazy).toContain('Mark all read');
  });

  it('a notice the scheduler makes shows up live in the open feed, with the unread count', async () => {
    ada = await open();
    bob = await open();
    await signUp(ada, email('ada'));
    await signUp(bob, email('bob'));
    await ada.getByRole('link', { name: 'Notifications' }).click();
    await ada.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await ada.getByText('No notifications yet').waitFor();
    expect(await unreadBadge(ada).count()).toBe(0);
    await expect.poll(() => ada.getByTestId('connection').textContent()).toBe('Live');

    // Three reminders due now (nothing is logged today), set as the settings screen would.
    await mutate(ada, 'users.updatePreferences', {
      preferences: {
        notifications: { reminders: [0, 1, 2].map((ago) => ({ time: localTime(ago) })) },
      },
    });
    await mutate(bob, 'users.updatePreferences', {
      preferences: { notifications: { reminders: [{ time: localTime(0) }] } },
    });

    // No reload: the sync stream brings them.
    await expect.poll(() => notices(ada).count(), { timeout: 60_000 }).toBe(3);
    await expect.poll(() => unreadBadge(ada).textContent(), { timeout: 30_000 }).toBe('3 unread');
    expect(await ada.getByTestId('feed-unread').textContent()).toBe('3 unread');
    expect(
      await notices(ada).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-read'))),
    ).toEqual(['false', 'false', 'false']);
    await screenshot(ada, 'notifications-live');
  });

  it("another account's notices never appear, and its ids mark nothing read", async () => {
    await bob.goto('/notifications');
    await expect.poll(() => notices(bob).count(), { timeout: 60_000 }).toBe(1);
    const bobIds = await notices(bob).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
    const adaIds = await notices(ada).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
    expect(adaIds).toHaveLength(3);
    for (const id of bobIds) expect(adaIds).not.toContain(id);
    const adaList = await query<NoticePage>(ada, 'notifications.list', { limit: 100 });
    expect(adaList.items.map((item) => item.id).sort()).toEqual([...(adaIds as string[])].sort());

    expect(await mutate(ada, 'notifications.markRead', { ids: bobIds })).toEqual({ updated: 0 });
    expect((await query<NoticePage>(bob, 'notifications.list')).unread).toBe(1);
    expect(await unreadBadge(bob).textContent()).toBe('1 unread');
  });

  it('mark read, following a link and mark all read change the count, and stay after a reload', async () => {
    const page = ada;
    // One notice marked read by its button.
    const first = notices(page).nth(0);
    const firstId = await first.getAttribute('data-id');
    await first.getByRole('button', { name: /^Mark “.*” read$/ }).click();
    await expect.poll(() => unreadBadge(page).textContent()).toBe('2 unread');
    await expect.poll(() => page.locator(`[data-id="${firstId}"]`).getAttribute('data-read')).toBe('true');

    // Following a notice's link reads it and lands on its screen: a reminder opens the day to log.
    const second = notices(page).nth(1);
    const secondId = await second.getAttribute('data-id');
    const link = (await query<NoticePage>(page, 'notifications.list')).items.find(
      (item) => item.id === secondId,
    )!.link;
    expect(link).toMatch(/^\/log\?date=\d{4}-\d{2}-\d{2}$/);
    await second.getByRole('link').click();
    await page.getByRole('heading', { name: /Today/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    expect(new URL(page.url()).searchParams.get('date')).toBe(link.slice('/log?date='.length));
    await expect.poll(() => unreadBadge(page).textContent()).toBe('1 unread');

    await page.reload();
    await expect.poll(() => unreadBadge(page).textContent()).toBe('1 unread');
    await page.getByRole('link', { name: /Notifications/ }).click();
    await expect.poll(() => notices(page).count()).toBe(3);
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => unreadBadge(page).count()).toBe(0);
    expect(await page.getByTestId('feed-unread').textContent()).toBe('All read.');

    await page.reload();
    await expect.poll(() => notices(page).count()).toBe(3);
    expect(
      await notices(page).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-read'))),
    ).toEqual(['true', 'true', 'true']);
    expect(await unreadBadge(page).count()).toBe(0);
    expect((await query<NoticePage>(page, 'notifications.list')).unread).toBe(0);
    // The other account's notice is still unread.
    expect((await query<NoticePage>(bob, 'notifications.list')).unread).toBe(1);
    await screenshot(page, 'notifications-read');
  });

  it('every kind of deep link lands on a screen', async () => {
    const page = ada;
    await page.goto('/log?date=2026-11-30');
    // The day's logging screen, on that day.
    await page.getByRole('heading', { name: new Date('2026-11-30T12:00:00Z').toDateString() }).waitFor();
    expect(new URL(page.url()).search).toBe('?date=2026-11-30');
    await page.goto('/insights/6f1d7b9e-3c1a-4c53-9d65-0d6f7c2a9b10');
    await page.getByRole('heading', { name: 'Insights' }).waitFor();
    await page.getByText('That finding is no longer among the current insights').waitFor();
    await page.goto('/insights?week=2026-11-29');
    await page.getByTestId('week-note').waitFor();
    await page.goto('/settings/notifications');
    await page.getByRole('heading', { name: 'Notification settings' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Not found' }).count()).toBe(0);
  });

  it('notification settings are saved and come back after a reload', async () => {
    const page = ada;
    const sleep = await mutate<{ id: string }>(page, 'metrics.create', {
      name: 'Sleep',
      type: 'duration',
      category: 'sleep',
    });
    await page.goto('/settings');
    await page.getByRole('link', { name: 'Notification settings' }).click();
    const form = page.getByRole('form', { name: 'Notification settings' });
    await form.getByRole('button', { name: 'Add reminder' }).click();
    await form.getByLabel('Reminder 4 time').fill('07:15');
    await form.getByLabel('Reminder 4 days: Saturday').uncheck();
    await form.getByLabel('Reminder 4 days: Sunday').uncheck();
    await form.getByLabel('Reminder 1 days: Wednesday').uncheck();
    await form.getByLabel('Reminder 4 metrics').selectOption({ label: 'Sleep' });
    await form.getByRole('checkbox', { name: /Warn me when a streak/ }).check();
    await form.getByLabel('Streak warning time').fill('20:30');
    await form.getByRole('checkbox', { name: /new finding/ }).check();
    await form.getByRole('checkbox', { name: /summary of my week/ }).check();
    await form.getByLabel('Summary day').selectOption({ label: 'Friday' });
    await form.getByLabel('Summary time').fill('17:00');
    await form.getByRole('checkbox', { name: /Hold notices during quiet hours/ }).check();
    await form.getByLabel('Quiet from').fill('23:00');
    await form.getByLabel('Quiet until').fill('06:30');
    await form.getByRole('checkbox', { name: /^Email to/ }).check();
    await form.getByRole('checkbox', { name: /^Webhooks/ }).uncheck();
    await form.getByRole('button', { name: 'Save notification settings' }).click();
    await form.getByText('Saved.').waitFor();

    const expected = {
      streakAtRisk: { enabled: true, time: '20:30' },
      newInsights: true,
      weeklySummary: { enabled: true, day: 5, time: '17:00' },
      quietHours: { start: '23:00', end: '06:30' },
      channels: { inApp: true, push: true, webhook: false, email: true },
    };
    const stored = (
      await query<{ preferences: { notifications: Record<string, unknown> } }>(page, 'users.profile')
    ).preferences.notifications;
    expect(stored).toMatchObject(expected);
    const reminders = stored.reminders as { time: string; days?: number[] }[];
    expect(reminders).toHaveLength(4);
    expect(reminders[0]?.days).toEqual([0, 1, 2, 4, 5, 6]);
    expect(reminders[3]).toEqual({ time: '07:15', days: [1, 2, 3, 4, 5], metricIds: [sleep.id] });

    await page.reload();
    const again = page.getByRole('form', { name: 'Notification settings' });
    expect(await again.getByLabel('Reminder 4 time').inputValue()).toBe('07:15');
    expect(await again.getByLabel('Reminder 4 days: Sunday').isChecked()).toBe(false);
    expect(await again.getByLabel('Reminder 4 days: Monday').isChecked()).toBe(true);
    expect(await again.getByLabel('Reminder 1 days: Wednesday').isChecked()).toBe(false);
    expect(
      await again
        .getByLabel('Reminder 4 metrics')
        .evaluate((select: HTMLSelectElement) =>
          [...select.selectedOptions].map((option) => option.textContent),
        ),
    ).toEqual(['Sleep']);
    expect(await again.getByLabel('Streak warning time').inputValue()).toBe('20:30');
    expect(await again.getByRole('checkbox', { name: /new finding/ }).isChecked()).toBe(true);
    expect(await again.getByLabel('Summary day').inputValue()).toBe('5');
    expect(await again.getByLabel('Summary time').inputValue()).toBe('17:00');
    expect(await again.getByLabel('Quiet from').inputValue()).toBe('23:00');
    expect(await again.getByLabel('Quiet until').inputValue()).toBe('06:30');
    expect(await again.getByRole('checkbox', { name: /^Email to/ }).isChecked()).toBe(true);
    expect(await again.getByRole('checkbox', { name: /^Webhooks/ }).isChecked()).toBe(false);
    await screenshot(page, 'notification-settings');

    // Removing a reminder.
    await again.getByRole('button', { name: 'Remove reminder 4' }).click();
    await again.getByRole('button', { name: 'Save notification settings' }).click();
    await again.getByText('Saved.').waitFor();
    const after = (
      await query<{ preferences: { notifications: { reminders: unknown[] } } }>(page, 'users.profile')
    ).preferences.notifications;
    expect(after.reminders).toHaveLength(3);
  });

  it('a bad setting shows its error beside the field and changes nothing', async () => {
    const page = ada;
    const before = (await query<{ preferences: unknown }>(page, 'users.profile')).preferences;
    const form = page.getByRole('form', { name: 'Notification settings' });

    // Quiet hours that start when they end.
    await form.getByLabel('Quiet until').fill('23:00');
    await form.getByRole('button', { name: 'Save notification settings' }).click();
    const quietFrom = form.getByLabel('Quiet from');
    expect(await errorBeside(page, quietFrom)).toContain('start and end must differ');
    await form.getByText('Nothing was saved').waitFor();

    // A reminder's time cleared (a time input cannot hold "25:00": empty is what a person can send),
    // and a reminder with no day left.
    await form.getByLabel('Quiet until').fill('06:30');
    await form.getByLabel('Reminder 2 time').fill('');
    for (const day of ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'])
      await form.getByLabel(`Reminder 3 days: ${day}`).uncheck();
    await form.getByRole('button', { name: 'Save notification settings' }).click();
    expect(await errorBeside(page, form.getByLabel('Reminder 2 time'))).toContain('HH:MM');
    await form.getByRole('alert').filter({ hasText: 'give at least one day' }).waitFor();
    expect(await quietFrom.getAttribute('aria-invalid')).toBe('false');
    await screenshot(page, 'notification-settings-errors');

    expect((await query<{ preferences: unknown }>(page, 'users.profile')).preferences).toEqual(before);
    await page.reload();
    expect(await page.getByLabel('Quiet until').inputValue()).toBe('06:30');
    expect(await page.getByLabel('Reminder 2 time').inputValue()).not.toBe('');
  });

  it('a webhook is added with its secret shown once, tested (paused by failures, back on after a success), and deleted', async () => {
    const page = await open({ permissions: ['clipboard-read', 'clipboard-write'] });
    await signUp(page, email('cleo'));
    await page.goto('/settings/notifications');
    const add = page.getByRole('form', { name: 'Add a webhook' });

    // A URL the server refuses: the reason beside the field, nothing created.
    await add.getByLabel('Endpoint URL').fill('ftp://example.com/hook');
    await add.getByRole('button', { name: 'Add webhook' }).click();
    expect(await errorBeside(page, add.getByLabel('Endpoint URL'))).toContain('must be an https or http URL');
    expect(await query<WebhookRow[]>(page, 'webhooks.list')).toEqual([]);

    await add.getByLabel('Endpoint URL').fill(`${receiverUrl}/ok`);
    await add.getByLabel('Description (optional)').fill('my automations');
    await add.getByRole('button', { name: 'Add webhook' }).click();
    const shown = page.getByTestId('webhook-secret');
    await shown.waitFor();
    const secret = (await shown.locator('code').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await shown.getByRole('button', { name: 'Copy secret' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const list = page.getByRole('list', { name: 'Webhook endpoints' });
    await list.getByText(`${receiverUrl}/ok`).waitFor();
    expect(await list.getByTestId('webhook').first().textContent()).toContain('active');
    await screenshot(page, 'webhook-secret');

    // Once only: after a reload the secret is nowhere on the page, nor in the list's answer.
    await page.reload();
    await list.getByText(`${receiverUrl}/ok`).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(JSON.stringify(await query(page, 'webhooks.list'))).not.toContain(secret);

    // A test to a receiver that answers 204, then to one that answers 500.
    const ok = list.getByTestId('webhook').filter({ hasText: '/ok' });
    await ok.getByRole('button', { name: 'Send test' }).click();
    await ok.getByTestId('webhook-test-result').filter({ hasText: 'Test delivered (HTTP 204)' }).waitFor();
    const delivered = received.find((message) => message.path === '/ok');
    expect(delivered?.headers['webhook-signature']).toMatch(/^v1,/);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: 'notification.test' });

    await add.getByLabel('Endpoint URL').fill(`${receiverUrl}/fail`);
    await add.getByRole('button', { name: 'Add webhook' }).click();
    const failed = list.getByTestId('webhook').filter({ hasText: '/fail' });
    await failed.getByRole('button', { name: 'Send test' }).click();
    await failed.getByTestId('webhook-test-result').filter({ hasText: 'Test failed (HTTP 500)' }).waitFor();
    await failed.getByText('1 failure in a row').waitFor();
    expect(await failed.getByText('active', { exact: true }).count()).toBe(1);

    // A second failure in a row pauses it; a successful test turns it back on.
    await failed.getByRole('button', { name: 'Send test' }).click();
    await failed.getByText('2 failures in a row').waitFor();
    await failed.getByText('paused', { exact: true }).waitFor();
    expect(
      (await query<WebhookRow[]>(page, 'webhooks.list')).find((row) => row.url.endsWith('/fail')),
    ).toMatchObject({
      enabled: false,
      consecutiveFailures: 2,
    });
    failing = false;
    await failed.getByRole('button', { name: 'Send test' }).click();
    await failed
      .getByTestId('webhook-test-result')
      .filter({ hasText: 'Test delivered (HTTP 204)' })
      .waitFor();
    await failed.getByText('active', { exact: true }).waitFor();
    expect(await failed.getByText(/failures? in a row/).count()).toBe(0);

    // Delete asks first, then removes it here and on the server.
    await ok.getByRole('button', { name: 'Delete…' }).click();
    await ok.getByRole('button', { name: `Delete ${receiverUrl}/ok` }).click();
    await expect.poll(() => list.getByTestId('webhook').count()).toBe(1);
    const rows = await query<WebhookRow[]>(page, 'webhooks.list');
    expect(rows.map((row) => row.url)).toEqual([`${receiverUrl}/fail`]);
    await page.reload();
    await list.getByText(`${receiverUrl}/fail`).waitFor();
    expect(await list.getByText(`${receiverUrl}/ok`).count()).toBe(0);
  });

  it('push: the worker registers; a browser without push, or without permission, is told so plainly', async () => {
    // No permission granted: asking does not get one.
    const page = await open();
    await signUp(page, email('dan'));
    await page.goto('/settings/notifications');
    const control = page.getByTestId('push-control');
    await control.getByRole('button', { name: 'Enable push on this device' }).click();
    await control
      .getByTestId('push-error')
      .filter({ hasText: /Notifications (are blocked|were not allowed)/ })
      .waitFor();
    // The worker is registered from /sw.js for the whole app.
    const scope = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return { script: registration.active?.scriptURL, scope: registration.scope };
    });
    expect(scope).toEqual({ script: `${app.url}/sw.js`, scope: `${app.url}/` });

    // A browser without the Push API.
    const bare = await open({ init: 'delete window.PushManager;' });
    await signIn(bare, email('dan'));
    await bare.goto('/settings/notifications');
    await bare
      .getByTestId('push-unavailable')
      .filter({ hasText: 'This browser does not support push notifications.' })
      .waitFor();
    expect(await bare.getByRole('button', { name: 'Enable push on this device' }).count()).toBe(0);
    await screenshot(bare, 'push-unsupported');
  });

  it('the worker shows a pushed notice (delivered through DevTools, as a push service would)', async () => {
    const page = await open({ permissions: ['notifications'] });
    await signIn(page, email('ada'));
    await page.goto('/settings/notifications');
    await page.getByRole('button', { name: 'Enable push on this device' }).waitFor();
    expect(await page.evaluate(async () => (await navigator.serviceWorker.ready).scope)).toBe(`${app.url}/`);

    const devtools = await page.context().newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    devtools.on('ServiceWorker.workerRegistrationUpdated', (event) =>
      registrations.push(...event.registrations),
    );
    await devtools.send('ServiceWorker.enable');
    await expect
      .poll(() => registrations.some((r) => r.scopeURL === `${app.url}/` && !r.isDeleted))
      .toBe(true);
    const registration = registrations.find((r) => r.scopeURL === `${app.url}/` && !r.isDeleted)!;

    // The message the server sends for one of this account's notices: its link absolute on the
    // public origin (here another host: the worker keeps only the path, on its own origin).
    const notice = (await query<NoticePage>(page, 'notifications.list')).items[0]!;
    const message = {
      id: notice.id,
      kind: notice.kind,
      title: 'Time for a quick check-in',
      body: 'Nothing is logged yet today.',
      url: `https://lifexp.example.com${notice.link}`,
    };
    await devtools.send('ServiceWorker.deliverPushMessage', {
      origin: app.url,
      registrationId: registration.registrationId,
      data: JSON.stringify(message),
    });
    const shown = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          data: n.data as unknown,
        })),
      );
    await expect.poll(shown).toEqual([
      {
        title: message.title,
        body: message.body,
        tag: notice.id,
        data: { url: `${app.url}${notice.link}`, id: notice.id },
      },
    ]);
    // The same notice pushed again (a retry) replaces its notification instead of adding one.
    await devtools.send('ServiceWorker.deliverPushMessage', {
      origin: app.url,
      registrationId: registration.registrationId,
      data: JSON.stringify({ ...message, body: 'Still nothing logged today.' }),
    });
    await expect
      .poll(async () => (await shown()).map((n) => n.body))
      .toEqual(['Still nothing logged today.']);
  });

  it('push with permission: where the browser gets no subscription, it says so and nothing is half on', async () => {
    // A real profile (incognito refuses push outright) with notifications allowed. Chromium here has
    // no reachable push service, so subscribing fails or never answers: the screen must say which.
    const persistent = await persistentContext(app.url, ['notifications']);
    try {
      const page = await persistent.context.newPage();
      watchConsole(page, consoleErrors);
      await signIn(page, email('dan'));
      await page.goto('/settings/notifications');
      const control = page.getByTestId('push-control');
      const enable = control.getByRole('button', { name: 'Enable push on this device' });
      await enable.click();
      expect(await page.evaluate(() => Notification.permission)).toBe('granted');
      await control
        .getByTestId('push-error')
        .filter({ hasText: /push service did not answer|could not subscribe to push messages/ })
        .waitFor({ timeout: 60_000 });
      expect(await enable.isEnabled()).toBe(true);
      expect(await control.getByText('This device receives push notifications.').count()).toBe(0);
      expect(
        await page.evaluate(async () => {
          const registration = await navigator.serviceWorker.getRegistration('/');
          return (await registration?.pushManager.getSubscription()) ?? null;
        }),
      ).toBeNull();
      await screenshot(page, 'push-no-service');
    } finally {
      await persistent.close();
    }
  });
});

afterAll(() => {
  expect(consoleErrors).toEqual([]);
});
