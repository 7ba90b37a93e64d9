import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = resolve(here, '../..');
const serverMain = resolve(webRoot, '../server/src/main.ts');

/** Screenshots of every screen land here (git-ignored; CI keeps the folder). */
export const screenshotDir = join(webRoot, 'test-screenshots');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningApp {
  url: string;
  dist: string;
  stop(): Promise<void>;
  logs: string[];
}

/** A fresh production build of the dashboard in a temporary folder (what the server will serve). */
export function buildDashboard(): string {
  const dist = mkdtempSync(join(tmpdir(), 'lifexp-web-dist-'));
  execFileSync('pnpm', ['exec', 'vite', 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: webRoot,
    stdio: 'inherit',
    // The test runner's NODE_ENV=test would give React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return dist;
}

/**
 * The real server, as `pnpm start` runs it (production mode, src/main.ts), in a child process on a
 * free port with a fresh embedded database, serving the given build.
 */
export async function startServer(dist: string, env: Record<string, string> = {}): Promise<RunningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifexp-web-data-'));
  const logs: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', serverMain], {
    cwd: resolve(webRoot, '../server'),
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      WEB_DIST_DIR: dist,
      LOG_LEVEL: 'info',
      REGISTRATIONS_PER_ADDRESS: '1000',
      INSIGHTS_DEBOUNCE_SECONDS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join('\n')}`)), 300_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (logs.length > 5000) logs.shift();
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === 'listening' && parsed.url) {
            clearTimeout(timer);
            resolveUrl(parsed.url);
          }
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return {
    url,
    dist,
    logs,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A page that records console errors and uncaught exceptions. Chromium also logs every 4xx answer to
 * a request as "Failed to load resource": an API refusal the page shows to the person (a wrong
 * password, a bad field, the sign-in check of a signed-out visitor) is not an error of the page, and
 * neither is a request cut off on purpose by `setOffline`. Everything else counts.
 */
export function watchConsole(page: Page, errors: string[]): void {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const where = message.location().url ?? '';
    if (/status of 4\d\d/.test(text) && /^\/(trpc|api)\//.test(new URL(where || 'http://x/').pathname))
      return;
    if (/ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED/.test(text)) return;
    errors.push(`${text} (${where})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
}

/**
 * A Chromium with a profile on disk (removed by `close`): Chromium refuses the Push API in the
 * incognito-like contexts `newContext` makes, so push is tried in one of these.
 */
export async function persistentContext(
  baseURL: string,
  permissions: string[] = [],
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'lifexp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    baseURL,
    timezoneId: 'Europe/Berlin',
    viewport: { width: 1280, height: 860 },
    permissions,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({
    baseURL,
    timezoneId: 'Europe/Berlin',
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
}

/** Starts a run's screenshots afresh, so the folder shows this run only. */
export function clearScreenshots(): void {
  rmSync(screenshotDir, { recursive: true, force: true });
}

let shot = 0;
/** Saves a full-page screenshot and prints where it went. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  shot += 1;
  const path = join(screenshotDir, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

/** A tRPC query over HTTP with the context's session cookie. */
export async function query<T>(page: Page, path: string, input?: unknown): Promise<T> {
  const search = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await page.request.get(`/trpc/${path}${search}`);
  const body = (await response.json()) as { result?: { data: T }; error?: { data?: { code?: string } } };
  if (!body.result) throw Object.assign(new Error(`${path}: ${JSON.stringify(body.error)}`), { body });
  return body.result.data;
}
