import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@lifexp/config';
import { describe, expect, it } from 'vitest';
import { reservedPath } from '../src/http/web';
import { describeServer, errorOf, send, signUp } from './support';

// The dashboard's build served at `/` (WEB_DIST_DIR), beside the API and never in its place; and
// analytics.series, the daily values its charts draw.

const dist = mkdtempSync(join(tmpdir(), 'lifexp-dist-'));
const INDEX =
  '<!doctype html><title>Life XP</title><script type="module" src="/assets/index-abc123.js"></script>';
writeFileSync(join(dist, 'index.html'), INDEX);
mkdirSync(join(dist, 'assets'));
writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
mkdirSync(join(dist, '.vite'));
writeFileSync(join(dist, '.vite', 'manifest.json'), '{}');
writeFileSync(join(tmpdir(), 'lifexp-secret.txt'), 'outside the build');

describe('WEB_DIST_DIR', () => {
  it('is taken when it holds a build, refused with one line when it does not, and off with none', () => {
    expect(loadConfig({ WEB_DIST_DIR: dist }).webDistDir).toBe(dist);
    expect(() => loadConfig({ WEB_DIST_DIR: join(dist, 'assets') })).toThrow(ConfigError);
    expect(() => loadConfig({ WEB_DIST_DIR: join(dist, 'assets') })).toThrow(
      /WEB_DIST_DIR has no index.html/,
    );
    expect(loadConfig({ WEB_DIST_DIR: 'none' }).webDistDir).toBeUndefined();
  });

  it('keeps the API paths to the API', () => {
    for (const path of [
      '/api',
      '/api/x',
      '/trpc',
      '/trpc/users.profile',
      '/socket',
      '/healthz',
      '/readyz/',
    ]) {
      expect(reservedPath(path), path).toBe(true);
    }
    for (const path of ['/', '/history', '/apis', '/trpcx', '/assets/a.js', '/healthz-page']) {
      expect(reservedPath(path), path).toBe(false);
    }
  });
});

describeServer(
  'the dashboard at /',
  (ctx) => {
    const get = (path: string, init?: RequestInit) => send(`${ctx().url}${path}`, init);

    it('serves index.html at / and for any unknown page, revalidated, with the page rules', async () => {
      for (const path of ['/', '/history', '/analytics?metricId=x', '/deep/link/here']) {
        const response = await get(path);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(response.headers.get('cache-control')).toBe('no-cache');
        expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(await response.text()).toBe(INDEX);
      }
      const head = await get('/history', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    });

    it('serves hashed assets for a year, other files revalidated, and a missing asset as 404', async () => {
      const asset = await get('/assets/index-abc123.js');
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await asset.text()).toBe('console.log("app")');
      const icon = await get('/favicon.svg');
      expect(icon.headers.get('cache-control')).toBe('no-cache');
      expect(icon.headers.get('content-type')).toBe('image/svg+xml');
      const missing = await get('/assets/index-000000.js');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/json');
      expect((await get('/robots.txt')).status).toBe(404);
    });

    it('never leaves the build folder and never shows its dotfiles', async () => {
      for (const path of [
        '/../lifexp-secret.txt',
        '/%2e%2e/lifexp-secret.txt',
        '/assets/%2e%2e/%2e%2e/lifexp-secret.txt',
        '/.vite/manifest.json',
        '/%E0%A4%A',
      ]) {
        const response = await get(path);
        const text = await response.text();
        expect(text, path).not.toContain('outside the build');
        expect(text, path).not.toBe('{}');
      }
    });

    it('never answers an API path with the app, and only GET and HEAD at all', async () => {
      for (const path of ['/api/unknown', '/trpc/nothing.here', '/socket', '/healthz/x']) {
        const response = await get(path);
        expect(response.status, path).toBe(404);
        expect(await response.text(), path).not.toBe(INDEX);
      }
      expect((await get('/healthz')).headers.get('content-type')).toContain('application/json');
      expect(await (await get('/readyz')).json()).toEqual({ status: 'ready' });
      const post = await get('/history', { method: 'POST', body: 'x' });
      expect(post.status).toBe(404);
    });

    it('gives a metric’s daily values as the statistics see them, to its owner only', async () => {
      const owner = await signUp(ctx().url);
      const stranger = await signUp(ctx().url);
      const sleep = await owner.client.metrics.create.mutate({
        name: 'Sleep',
        type: 'duration',
        category: 'sleep',
        config: { displayUnit: 'hours', aggregation: 'sum', missing: 'unknown' },
      });
      await owner.client.entries.createMany.mutate({
        entries: [
          { metricId: sleep.id, value: 3600, date: '2026-01-01' },
          { metricId: sleep.id, value: 1800, date: '2026-01-01' },
          { metricId: sleep.id, value: 7200, date: '2026-01-03' },
        ],
      });
      const series = await owner.client.analytics.series.query({ metricId: sleep.id, to: '2026-01-04' });
      expect(series).toEqual({
        metric: { id: sleep.id, name: 'Sleep', type: 'duration' },
        start: '2026-01-01',
        to: '2026-01-04',
        values: [5400, null, 7200, null],
      });
      const window = await owner.client.analytics.series.query({
        metricId: sleep.id,
        from: '2026-01-02',
        to: '2026-01-03',
      });
      expect(window.values).toEqual([7200]);
      expect(window.start).toBe('2026-01-03');
      const empty = await owner.client.metrics.create.mutate({
        name: 'Mood',
        type: 'rating',
        category: 'mood',
      });
      expect(await owner.client.analytics.series.query({ metricId: empty.id })).toMatchObject({
        start: null,
        values: [],
      });
      expect((await errorOf(stranger.client.analytics.series.query({ metricId: sleep.id }))).code).toBe(
        'NOT_FOUND',
      );
      expect(
        (
          await errorOf(
            owner.client.analytics.series.query({ metricId: sleep.id, from: '2026-02-01', to: '2026-01-01' }),
          )
        ).code,
      ).toBe('BAD_REQUEST');
      expect(
        (
          await errorOf(
            owner.client.analytics.series.query({ metricId: 'not-a-uuid' } as { metricId: string }),
          )
        ).code,
      ).toBe('BAD_REQUEST');
    });
  },
  { WEB_DIST_DIR: dist },
);
