import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Hono } from 'hono';
import type { HonoEnv } from './env';

// The built dashboard, served at `/` on the same origin as the API: its session cookie and the
// origin rule need nothing more. The build is a folder (WEB_DIST_DIR); this server never imports it.

/** Paths the dashboard never answers: the API's own, even when nothing there matches. */
const RESERVED = /^\/(api|trpc|socket|healthz|readyz)(\/|$)/;

/** Vite puts content-hashed files under assets/: they never change, so they are cached for a year. */
const HASHED = /^\/assets\//;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The page's rules: scripts, styles and connections from this origin only (WebSocket included),
 * inline style attributes (the charts set them), images from here or data: URLs.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

async function fileAt(path: string): Promise<Buffer | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? await readFile(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the path is one the dashboard must leave to the API (exported for the tests). */
export function reservedPath(path: string): boolean {
  return RESERVED.test(path);
}

/**
 * GET and HEAD of any other path: a file of the build when one matches (hashed assets cached for a
 * year, everything else revalidated), a missing asset 404, and any other path the app's index.html,
 * whose router shows the screen (or its own "not found").
 */
export function webRoutes(distDir: string): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  const root = normalize(distDir + sep);
  app.on(['GET', 'HEAD'], '*', async (c, next) => {
    const path = c.req.path;
    if (reservedPath(path)) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return next();
    }
    const target = normalize(join(root, decoded));
    // No way out of the folder, and no dotfiles.
    const inside = target.startsWith(root) && !decoded.split('/').some((part) => part.startsWith('.'));
    const file = inside && decoded !== '/' ? await fileAt(target) : undefined;
    if (file) {
      const type = TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream';
      c.header('Content-Type', type);
      c.header('Cache-Control', HASHED.test(decoded) ? 'public, max-age=31536000, immutable' : 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (type.startsWith('text/html')) c.header('Content-Security-Policy', DASHBOARD_CSP);
      return c.req.method === 'HEAD' ? c.body(null) : c.body(new Uint8Array(file));
    }
    if (HASHED.test(decoded) || extname(decoded) !== '') return next();
    const index = await fileAt(join(root, 'index.html'));
    if (!index) return next();
    c.header('Content-Type', TYPES['.html']!);
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    return c.req.method === 'HEAD' ? c.body(null) : c.body(new Uint8Array(index));
  });
  return app;
}
