import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addDays, localToday } from '@lifexp/analytics';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { measure } from '../../scripts/size';
import {
  buildDashboard,
  clearScreenshots,
  launchBrowser,
  newContext,
  query,
  type RunningApp,
  screenshot,
  startServer,
  watchConsole,
} from './support';

// The dashboard in a real Chromium against the real server (production mode, embedded database),
// serving a fresh build. The scenarios run in order on one account, as a person would use it.

vi.setConfig({ testTimeout: 240_000, hookTimeout: 420_000 });

const EMAIL = 'ada@example.com';
const PASSWORD = 'a long and careful passphrase';
const TZ = 'Europe/Berlin';

interface EntryRow {
  id: string;
  metricId: string;
  value: number | boolean | string;
  date: string;
  version: number;
}
interface MetricRow {
  id: string;
  name: string;
  type: string;
}

let app: RunningApp;
let browser: Browser;
let context: ContextWithPage;
const consoleErrors: string[] = [];

interface ContextWithPage {
  context: BrowserContext;
  page: Page;
}

async function open(): Promise<ContextWithPage> {
  const context = await newContext(browser, app.url);
  const page = await context.newPage();
  watchConsole(page, consoleErrors);
  return { context, page };
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Today' }).waitFor();
}

async function addMetric(
  page: Page,
  name: string,
  type: string,
  category: string,
  extra?: () => Promise<void>,
) {
  const form = page.getByRole('form', { name: 'New metric' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Type').selectOption(type);
  await form.getByLabel('Category').selectOption(category);
  await extra?.();
  await form.getByRole('button', { name: 'Add metric' }).click();
  await page.getByRole('list', { name: 'Your metrics' }).getByText(name, { exact: true }).waitFor();
}

const today = localToday(TZ);

beforeAll(async () => {
  clearScreenshots();
  const dist = buildDashboard();
  [app, browser] = await Promise.all([startServer(dist), launchBrowser()]);
  context = await open();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (app) rmSync(app.dist, { recursive: true, force: true });
});

describe('the dashboard in Chromium', () => {
  it('serves the app at / with its cache headers, and never in place of the API', async () => {
    const page = context.page;
    const index = await page.request.get('/');
    expect(index.status()).toBe(200);
    expect(index.headers()['cache-control']).toBe('no-cache');
    expect(index.headers()['content-security-policy']).toContain("default-src 'self'");
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await page.request.get(script!);
    expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers()['content-type']).toContain('javascript');
    // A deep link gets the app; a missing asset and an unknown API path do not.
    expect(await (await page.request.get('/history?tag=x')).text()).toBe(html);
    expect((await page.request.get('/assets/missing-0000.js')).status()).toBe(404);
    const api = await page.request.get('/api/nothing-here');
    expect(api.status()).toBe(404);
    expect(api.headers()['content-type']).toContain('application/json');
    expect((await page.request.get('/healthz')).headers()['content-type']).toContain('application/json');
  });

  it('loads at most 250 KiB of gzipped JavaScript first, the charts only with their screen', () => {
    const size = measure(app.dist);
    console.log(
      `initial JavaScript: ${(size.initialBytes / 1024).toFixed(1)} KiB gzip; on demand: ${size.lazy
        .map((chunk) => `${chunk.file} ${(chunk.gzipBytes / 1024).toFixed(1)} KiB`)
        .join(', ')}`,
    );
    expect(size.initial.length).toBeGreaterThan(0);
    expect(size.initialBytes).toBeLessThanOrEqual(250 * 1024);
    const analytics = size.lazy.find((chunk) => chunk.file.includes('Analytics'));
    expect(analytics).toBeDefined();
    // recharts lives in the analytics chunk, not in the first load.
    for (const file of size.initial) {
      expect(readFileSync(join(app.dist, file), 'utf8')).not.toContain('recharts-surface');
    }
    expect(readFileSync(join(app.dist, analytics!.file), 'utf8')).toContain('recharts-surface');
  });

  it('signs up (errors beside their field, time zone from the browser), creates four metrics and logs a week', async () => {
    const { page } = context;
    await page.goto('/');
    await screenshot(page, 'sign-in');
    await page.getByRole('button', { name: 'Create an account instead' }).click();
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    // Each message sits beside its field and is tied to it (aria-describedby).
    const emailField = page.getByLabel('Email');
    await expect.poll(() => emailField.getAttribute('aria-invalid')).toBe('true');
    const emailError = page.locator(`[id="${await emailField.getAttribute('aria-describedby')}"]`);
    expect(await emailError.textContent()).toContain('must be an email address');
    const passwordField = page.getByLabel('Password');
    await expect.poll(() => passwordField.getAttribute('aria-invalid')).toBe('true');
    const passwordError = page.locator(
      `[id="${(await passwordField.getAttribute('aria-describedby'))!.split(' ').at(-1)}"]`,
    );
    expect(await passwordError.textContent()).toContain('at least 8 characters');

    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Today' }).waitFor();
    const profile = await query<{ email: string; timezone: string }>(page, 'users.profile');
    expect(profile).toMatchObject({ email: EMAIL, timezone: TZ });

    await page.getByRole('link', { name: 'Metrics' }).click();
    await addMetric(page, 'Mood', 'rating', 'mood');
    await addMetric(page, 'Sleep', 'duration', 'sleep', async () => {
      await page.getByRole('form', { name: 'New metric' }).getByLabel('Display unit').selectOption('hours');
    });
    await addMetric(page, 'Coffee', 'binary', 'habits');
    await addMetric(page, 'Weight', 'number', 'health', async () => {
      await page.getByRole('form', { name: 'New metric' }).getByLabel('Unit').fill('kg');
    });
    // A metric with a bad range is refused, with the reason shown and nothing created.
    const form = page.getByRole('form', { name: 'New metric' });
    await form.getByLabel('Name').fill('Broken');
    await form.getByLabel('Type').selectOption('rating');
    await form.getByLabel('Minimum').fill('5');
    await form.getByLabel('Maximum').fill('1');
    await form.getByRole('button', { name: 'Add metric' }).click();
    await form.getByRole('alert').filter({ hasText: 'min must be less than max' }).waitFor();
    await screenshot(page, 'metrics');
    const metrics = await query<MetricRow[]>(page, 'metrics.list');
    expect(metrics.map((m) => `${m.name}:${m.type}`)).toEqual([
      'Mood:rating',
      'Sleep:duration',
      'Coffee:binary',
      'Weight:number',
    ]);

    for (let back = 6; back >= 0; back--) {
      const date = addDays(today, -back);
      await page.goto(back === 0 ? '/' : `/?date=${date}`);
      const mood = page.locator('article[data-metric="Mood"]');
      await mood.getByRole('button', { name: `Mood ${1 + ((back * 2) % 5)}` }).click();
      await mood.getByRole('list', { name: 'Mood entries' }).waitFor();
      const sleep = page.locator('article[data-metric="Sleep"]');
      await sleep.getByLabel('Sleep hours').fill(String(6 + (back % 3)));
      await sleep.getByLabel('Sleep minutes').fill('30');
      await sleep.getByLabel('Sleep minutes').press('Enter');
      await sleep.getByRole('list', { name: 'Sleep entries' }).waitFor();
      const coffee = page.locator('article[data-metric="Coffee"]');
      await coffee.getByRole('button', { name: back % 2 ? 'Coffee: yes' : 'Coffee: no' }).click();
      await coffee.getByRole('list', { name: 'Coffee entries' }).waitFor();
      const weight = page.locator('article[data-metric="Weight"]');
      await weight.getByRole('textbox').fill(String(71 - back * 0.2));
      await weight.getByRole('textbox').press('Enter');
      await weight.getByRole('list', { name: 'Weight entries' }).waitFor();
    }
    await screenshot(page, 'today');
    const entries = await query<{ items: EntryRow[] }>(page, 'entries.list', { limit: 500 });
    expect(entries.items).toHaveLength(28);
    const sleepId = metrics.find((m) => m.name === 'Sleep')!.id;
    const sleepToday = entries.items.find((e) => e.metricId === sleepId && e.date === today);
    expect(sleepToday?.value).toBe(6 * 3600 + 30 * 60);

    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('tbody tr[data-entry]').first().waitFor();
    expect(await page.locator('tbody tr[data-entry]').count()).toBe(28);
    await page.getByLabel('Metric').selectOption({ label: 'Weight' });
    await expect.poll(() => page.locator('tbody tr[data-entry]').count()).toBe(7);
    expect(page.url()).toContain('metricId=');
    await screenshot(page, 'history');
  });

  it('renders the charts with the data: daily points, the Theil–Sen line, weekday bars, the heatmap and XP', async () => {
    const { page } = context;
    // Two more months before the week logged by hand (correlations need more than a week), written
    // as another device would: one batch over the API.
    const metrics = await query<MetricRow[]>(page, 'metrics.list');
    const id = (name: string) => metrics.find((m) => m.name === name)!.id;
    const entries = [];
    for (let back = 7; back < 67; back++) {
      const date = addDays(today, -back);
      const sleep = 6 + ((back * 7) % 5) / 2;
      entries.push(
        { metricId: id('Sleep'), value: Math.round(sleep * 3600), date },
        {
          metricId: id('Mood'),
          value: Math.min(5, Math.max(1, Math.round(sleep - 4 + ((back * 3) % 3) - 1))),
          date,
        },
        { metricId: id('Coffee'), value: back % 3 === 0, date },
        { metricId: id('Weight'), value: 72 - back * 0.01, date },
      );
    }
    const seeded = await page.request.post('/trpc/entries.createMany', {
      headers: { origin: app.url, 'content-type': 'application/json' },
      data: { entries },
    });
    expect(seeded.status()).toBe(200);

    await page.goto('/analytics');
    await page.getByRole('heading', { name: 'Mood over time' }).waitFor();
    const points = page.locator('.recharts-scatter-symbol');
    await expect.poll(() => points.count()).toBe(67);
    // The trend line is drawn across the whole range (a flat one is a path without height).
    const trendPath = page.locator('.recharts-line-curve');
    await trendPath.first().waitFor({ state: 'attached' });
    expect((await trendPath.first().getAttribute('d'))?.length).toBeGreaterThan(10);
    await page.getByTestId('trend-summary').waitFor();
    expect(await page.getByTestId('trend-summary').textContent()).toMatch(/per week.*Mann–Kendall p = /);
    await expect.poll(() => page.locator('.recharts-bar-rectangle').count()).toBe(7);
    await page.getByRole('table', { name: 'Correlation heatmap of metric pairs' }).waitFor();
    // Every pair of the four metrics was tested: 6 pairs, each shown twice (above and below the diagonal).
    await expect.poll(() => page.locator('.heatmap td[aria-label*="r = "]').count()).toBe(12);
    const progress = page.getByRole('region', { name: 'Progress' });
    await expect.poll(() => progress.textContent()).toContain('XP');
    expect(await progress.textContent()).toContain('67 days logged');
    await page.getByRole('combobox', { name: 'Metric' }).selectOption({ label: 'Sleep' });
    await page.getByRole('heading', { name: 'Sleep over time' }).waitFor();
    await expect.poll(() => points.count()).toBe(67);
    await page.getByRole('combobox', { name: 'Metric' }).selectOption({ label: 'Mood' });
    await page.getByRole('heading', { name: 'Mood over time' }).waitFor();
    await expect.poll(() => points.count()).toBe(67);
    await screenshot(page, 'analytics');
  });

  it('shows a change made on a second device without a reload', async () => {
    const second = await open();
    try {
      await signIn(second.page, EMAIL, PASSWORD);
      await second.page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
      await context.page.goto('/');
      await context.page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
      const moodList = second.page.getByRole('list', { name: 'Mood entries' });
      const before = await moodList.locator('li').count();
      await context.page
        .locator('article[data-metric="Mood"]')
        .getByRole('button', { name: 'Mood 5' })
        .click();
      await expect.poll(() => moodList.locator('li').count(), { timeout: 30_000 }).toBe(before + 1);
      expect(await moodList.textContent()).toContain('5 / 5');
      await screenshot(second.page, 'second-device-live');

      // An edit based on a version another device has since changed: the other change is shown and
      // the person chooses.
      const { page } = context;
      const moodId = (await query<MetricRow[]>(page, 'metrics.list')).find((m) => m.name === 'Mood')!.id;
      await page.goto(`/history?metricId=${moodId}&from=${today}&to=${today}`);
      const row = page.locator('tbody tr[data-entry]').first();
      const entryId = (await row.getAttribute('data-entry'))!;
      await row.getByRole('button', { name: /^Edit / }).click();
      const stale = await query<EntryRow>(second.page, 'entries.get', { id: entryId });
      const changed = await second.page.request.post('/trpc/entries.update', {
        headers: { origin: app.url, 'content-type': 'application/json' },
        data: { id: entryId, baseVersion: stale.version, value: 1, notes: 'from the phone' },
      });
      expect(changed.status()).toBe(200);
      await row.getByRole('textbox', { name: /^Value of / }).fill('2');
      await row.getByRole('button', { name: /^Save / }).click();
      const conflict = page.locator('tr.conflict');
      await conflict.getByText('Changed on another device.').waitFor();
      expect(await conflict.textContent()).toContain('1 / 5');
      expect(await conflict.textContent()).toContain('from the phone');
      await screenshot(page, 'history-conflict');
      await conflict.getByRole('button', { name: 'Use mine' }).click();
      await expect.poll(() => page.locator('tr.conflict').count()).toBe(0);
      const saved = await query<EntryRow>(page, 'entries.get', { id: entryId });
      expect(saved).toMatchObject({ value: 2, version: stale.version + 2 });
    } finally {
      await second.context.close();
    }
  });

  it('queues a write made offline, shows it pending, and replays it exactly once on reconnect', async () => {
    const { page, context: ctx } = context;
    await page.goto('/');
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    const weightId = (await query<MetricRow[]>(page, 'metrics.list')).find((m) => m.name === 'Weight')!.id;
    const countOf = async (value: number) =>
      (
        await query<{ items: EntryRow[] }>(page, 'entries.list', { metricId: weightId, limit: 500 })
      ).items.filter((e) => e.value === value).length;
    expect(await countOf(68.25)).toBe(0);

    await ctx.setOffline(true);
    await page.getByTestId('connection').filter({ hasText: 'Offline' }).waitFor();
    const weight = page.locator('article[data-metric="Weight"]');
    await weight.getByRole('textbox').fill('68.25');
    await weight.getByRole('textbox').press('Enter');
    await weight.locator('.pending-entry').filter({ hasText: '68.25 kg' }).waitFor();
    await page.getByTestId('pending-count').filter({ hasText: '1 waiting to sync' }).waitFor();
    await screenshot(page, 'offline-pending');

    await ctx.setOffline(false);
    await expect.poll(() => page.getByTestId('pending-count').count(), { timeout: 60_000 }).toBe(0);
    await weight.getByRole('list', { name: 'Weight entries' }).getByText('68.25 kg').waitFor();
    expect(await weight.locator('.pending-entry').count()).toBe(0);
    // Going offline and back again (a second replay trigger) sends nothing more.
    await ctx.setOffline(true);
    await ctx.setOffline(false);
    await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
    expect(await countOf(68.25)).toBe(1);
  });

  it('exports a file that imports back (preview first, then apply), and refuses a broken one', async () => {
    const { page } = context;
    await page.getByRole('link', { name: 'Settings' }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export JSON' }).click(),
    ]);
    const path = await download.path();
    const document = JSON.parse(readFileSync(path, 'utf8')) as {
      format: string;
      entries: unknown[];
      metrics: unknown[];
    };
    expect(document.format).toBe('lifexp');
    expect(document.metrics).toHaveLength(4);
    const before = await query<{ items: EntryRow[] }>(page, 'entries.list', { limit: 500 });
    expect(document.entries).toHaveLength(before.items.length);

    const fileInput = page.getByLabel('Import a file');
    await fileInput.setInputFiles({
      name: 'broken.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format":"nope"}'),
    });
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('alert').filter({ hasText: 'format' }).waitFor();
    expect(await page.getByRole('button', { name: 'Apply import' }).isDisabled()).toBe(true);

    await fileInput.setInputFiles(path);
    await page.getByRole('button', { name: 'Preview import' }).click();
    const report = page.getByTestId('import-report');
    await expect.poll(() => report.textContent()).toContain('Would import');
    expect(await report.textContent()).toContain(
      `entries 0 new, 0 updated, ${before.items.length} unchanged`,
    );
    await page.getByRole('button', { name: 'Apply import' }).click();
    await expect.poll(() => report.textContent()).toContain('Imported');
    const after = await query<{ items: EntryRow[] }>(page, 'entries.list', { limit: 500 });
    expect(after.items.map((e) => `${e.id}@${e.version}`).sort()).toEqual(
      before.items.map((e) => `${e.id}@${e.version}`).sort(),
    );
    await screenshot(page, 'settings');
    await page.getByRole('link', { name: 'Insights' }).click();
    await page.getByRole('heading', { name: 'Insights' }).waitFor();
    await screenshot(page, 'insights');
  });

  it('shows another user none of it, and refuses them the first user’s objects', async () => {
    const ownEntries = await query<{ items: EntryRow[] }>(context.page, 'entries.list', { limit: 1 });
    const other = await open();
    try {
      const { page } = other;
      await page.goto('/');
      await page.getByRole('button', { name: 'Create an account instead' }).click();
      await page.getByLabel('Email').fill('grace@example.com');
      await page.getByLabel('Password').fill('another careful passphrase');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByText('Nothing to log yet.').waitFor();
      await page.getByRole('link', { name: 'History' }).click();
      await page.getByText('No entries match.').waitFor();
      expect(await query<MetricRow[]>(page, 'metrics.list', { includeArchived: true })).toEqual([]);
      await expect(query(page, 'entries.get', { id: ownEntries.items[0]!.id })).rejects.toMatchObject({
        body: { error: { data: { code: 'NOT_FOUND' } } },
      });
      await page.goto('/analytics');
      await page.getByText('Add a metric and log a few days to see charts.').waitFor();
      await screenshot(page, 'other-user-empty');
    } finally {
      await other.context.close();
    }
  });

  it('logged no console errors on any page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
