import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Scalar } from '@scalar/hono-api-reference';
import type { AppDeps } from '../deps';
import { fileRoutes } from './files';
import { openApiDocument } from './openapi';
import { plainRoutes } from './plain';
import { dispatch } from './rest';

const OPENAPI_DOCUMENT = '/api/openapi.json';
const DOCS_PAGE = '/api/docs';
const DOCS_SCRIPT = '/api/docs/standalone.js';

/** The routes under /api that take no session: the API's description and its page. */
export const SESSIONLESS_API_PATHS: readonly string[] = [OPENAPI_DOCUMENT, DOCS_PAGE, DOCS_SCRIPT];

let script: Promise<string> | undefined;

/**
 * Scalar's browser bundle, from our own dependencies: the docs page loads nothing from elsewhere.
 * The server bundle carries a copy beside itself (LIFEXP_BUNDLED, see scripts/build.mjs).
 */
function docsScript(): Promise<string> {
  script ??= readFile(
    (globalThis as { LIFEXP_BUNDLED?: boolean }).LIFEXP_BUNDLED
      ? fileURLToPath(new URL('./scalar-standalone.js', import.meta.url))
      : join(
          dirname(fileURLToPath(import.meta.resolve('@scalar/api-reference'))),
          'browser',
          'standalone.js',
        ),
    'utf8',
  );
  return script;
}

/**
 * Everything under /api, on one pipeline (session, CSRF, error body: see plain.ts): the streamed
 * export and the import upload, the OpenAPI document and its interactive page, and the REST form of
 * every procedure.
 */
export function apiRoutes(deps: AppDeps) {
  const app = plainRoutes(deps);
  fileRoutes(app, deps);
  app.get(OPENAPI_DOCUMENT, (c) => c.json(openApiDocument()));
  app.get(
    DOCS_PAGE,
    Scalar({ url: OPENAPI_DOCUMENT, cdn: DOCS_SCRIPT, withDefaultFonts: false, pageTitle: 'Life XP API' }),
  );
  app.get(DOCS_SCRIPT, async (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(await docsScript());
  });
  app.all('/api/*', dispatch);
  return app;
}
