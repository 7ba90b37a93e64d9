import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateTypes } from '@lifexp/openapi-types';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect, it } from 'vitest';
import { apiRoutes } from '../src/http/api';
import { restRoutes } from '../src/http/rest';
import { describeServer } from './support';

// The OpenAPI document against the server: valid 3.1, the same routes both ways, a generated client
// that type-checks and works, and documentation pages that load nothing from elsewhere.

const here = dirname(fileURLToPath(import.meta.url));
const generated = join(here, '.generated');
const tsc = join(here, '..', 'node_modules', '.bin', 'tsc');

type Document = {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

async function documentOf(url: string): Promise<Document> {
  const response = await fetch(`${url}/api/openapi.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

/** `GET /api/metrics/{id}` for each operation of the document. */
function documentRoutes(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

const CLIENT = `import createClient from 'openapi-fetch';
import type { paths } from './api';

export async function roundTrip(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  const email = \`generated-\${Date.now()}-\${Math.random().toString(36).slice(2)}@example.test\`;
  const registered = await client.POST('/api/users/register', {
    body: { email, password: 'correct horse battery' },
  });
  if (!registered.data) throw new Error(JSON.stringify(registered.error));
  const headers = { Authorization: \`Bearer \${registered.data.token}\` };
  const metric = await client.POST('/api/metrics', {
    headers,
    body: { name: 'Mood', type: 'rating', category: 'mood' },
  });
  if (!metric.data) throw new Error(JSON.stringify(metric.error));
  const metricId: string = metric.data.id;
  const logged = await client.POST('/api/entries', {
    headers,
    body: { metricId, value: 4, date: '2026-11-25', tags: ['work'] },
  });
  if (!logged.data) throw new Error(JSON.stringify(logged.error));
  const listed = await client.GET('/api/entries', { headers, params: { query: { metricId, limit: 10 } } });
  const updated = await client.PUT('/api/entries/{id}', {
    headers,
    params: { path: { id: logged.data.id }, header: { 'If-Match': \`"\${logged.data.version}"\` } },
    body: { value: 5 },
  });
  const stale = await client.PUT('/api/entries/{id}', {
    headers,
    params: { path: { id: logged.data.id }, header: { 'If-Match': '"1"' } },
    body: { value: 1 },
  });
  const removed = await client.DELETE('/api/entries/{id}', { headers, params: { path: { id: logged.data.id } } });
  const correlations = await client.GET('/api/analytics/correlations', { headers, params: { query: { all: true } } });
  const findings: number = correlations.data?.findings.length ?? -1;
  return {
    created: metric.response.status,
    listed: listed.data?.items.map((item) => item.value),
    updatedVersion: updated.data?.version,
    staleStatus: stale.response.status,
    staleCode: stale.error?.code,
    removed: removed.data?.id === logged.data.id,
    findings,
  };
}
`;

const WRONG = `import createClient from 'openapi-fetch';
import type { paths } from './api';

export async function wrong() {
  const client = createClient<paths>({ baseUrl: 'http://127.0.0.1' });
  await client.POST('/api/metrics', { body: { name: 42, type: 'mood-ring', category: 'mood' } });
  const page = await client.GET('/api/entries');
  return page.data?.items[0]?.notAField;
}
`;

async function typecheck(file: string): Promise<{ ok: boolean; output: string }> {
  const project = join(generated, `tsconfig.${file}.json`);
  const compilerOptions = {
    noEmit: true,
    strict: true,
    target: 'es2022',
    module: 'preserve',
    skipLibCheck: true,
  };
  await writeFile(project, JSON.stringify({ compilerOptions, files: [file] }));
  try {
    await promisify(execFile)(tsc, ['-p', project], { cwd: generated });
    return { ok: true, output: '' };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describeServer(
  'the OpenAPI document',
  (ctx) => {
    it('is a valid OpenAPI 3.1 document with summaries, examples, bearer security and named components', async () => {
      const document = await documentOf(ctx().url);
      const validator = new Validator();
      const result = await validator.validate(document as unknown as Record<string, unknown>);
      expect(result.errors).toBeUndefined();
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
      for (const [route, operation] of documentRoutes(document).map(
        (route) =>
          [route, document.paths[route.split(' ')[1]!]![route.split(' ')[0]!.toLowerCase()]!] as const,
      )) {
        expect(operation.summary, route).toMatch(/\w/);
      }
      expect(document.components.securitySchemes.bearerAuth).toEqual({
        type: 'http',
        scheme: 'bearer',
        description: expect.any(String),
      });
      expect(Object.keys(document.components.schemas)).toEqual(
        expect.arrayContaining([
          'Metric',
          'Entry',
          'EntryPage',
          'User',
          'Session',
          'Correlations',
          'Progress',
          'Error',
        ]),
      );
      expect(Object.keys(document.components.schemas).filter((name) => name.startsWith('__'))).toEqual([]);
      const text = JSON.stringify(document);
      expect(text).toContain('"example"');
      const post = document.paths['/api/entries']!.post as unknown as {
        responses: Record<string, { headers?: Record<string, unknown> }>;
        requestBody: { content: { 'application/json': { example: unknown } } };
      };
      expect(Object.keys(post.responses)).toContain('201');
      expect(post.responses['201']!.headers).toHaveProperty('ETag');
      expect(post.requestBody.content['application/json'].example).toMatchObject({ value: 4 });
      const put = document.paths['/api/entries/{id}']!.put as unknown as {
        parameters: { name: string; in: string }[];
        responses: Record<string, { $ref?: string }>;
      };
      expect(put.parameters.map((parameter) => `${parameter.in}:${parameter.name}`)).toContain(
        'header:If-Match',
      );
      expect(put.responses['409']).toEqual({ $ref: '#/components/responses/Conflict' });
    });

    it('lists exactly the routes the server answers under /api, both ways', async () => {
      const { url, server } = ctx();
      const document = await documentOf(url);
      const plain = apiRoutes(server.deps)
        .routes.filter((route) => route.method !== 'ALL')
        .map((route) => `${route.method} ${route.path}`);
      // A route with middlewares is listed once per handler: once is enough.
      const served = [...new Set(plain), ...restRoutes.map((route) => `${route.method} ${route.path}`)];
      expect(documentRoutes(document).sort()).toEqual(served.sort());
      // And each route of the document is answered by the server (not "no route", not 405).
      for (const route of documentRoutes(document)) {
        const [method, path] = route.split(' ') as [string, string];
        const response = await fetch(
          `${url}${path.replace('{id}', '00000000-0000-4000-8000-000000000000')}`,
          {
            method,
            ...(method === 'GET' || method === 'DELETE'
              ? {}
              : { headers: { 'content-type': 'application/json' }, body: '{}' }),
          },
        );
        const text = await response.text();
        const body = (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {}) as {
          message?: string;
        };
        expect({ route, status: response.status }).not.toEqual({ route, status: 405 });
        expect(String(body.message ?? ''), route).not.toMatch(/^no route/);
      }
      const unknown = (await (await fetch(`${url}/api/not-a-route`)).json()) as { message: string };
      expect(unknown.message).toMatch(/^no route/);
    });

    it('gives a client generated by openapi-typescript that type-checks and runs the round trip', async () => {
      const { url } = ctx();
      const document = await documentOf(url);
      await rm(generated, { recursive: true, force: true });
      await mkdir(generated, { recursive: true });
      await writeFile(join(generated, 'api.ts'), await generateTypes(document));
      await writeFile(join(generated, 'client.ts'), CLIENT);
      await writeFile(join(generated, 'wrong.ts'), WRONG);
      const good = await typecheck('client.ts');
      expect(good.output).toBe('');
      expect(good.ok).toBe(true);
      // The types are real: a wrong body, an unknown enum value and an unknown field are all refused.
      const bad = await typecheck('wrong.ts');
      expect(bad.ok).toBe(false);
      expect(bad.output).toMatch(/wrong\.ts\(6,/);
      expect(bad.output).toMatch(/notAField/);
      const { roundTrip } = (await import(join(generated, 'client.ts'))) as {
        roundTrip: (baseUrl: string) => Promise<Record<string, unknown>>;
      };
      expect(await roundTrip(url)).toEqual({
        created: 201,
        listed: [4],
        updatedVersion: 2,
        staleStatus: 409,
        staleCode: 'CONFLICT',
        removed: true,
        findings: 0,
      });
    });

    it('serves interactive documentation that loads nothing from another origin', async () => {
      const { url } = ctx();
      const page = await fetch(`${url}/api/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      const references = [...html.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((match) => match[1]);
      expect(references).toContain('/api/docs/standalone.js');
      expect(references.filter((reference) => /^(https?:)?\/\//.test(reference!))).toEqual([]);
      expect(html).toContain('/api/openapi.json');
      expect(html).not.toMatch(/cdn\.jsdelivr|fonts\.scalar|googleapis/);
      const script = await fetch(`${url}/api/docs/standalone.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toContain('javascript');
      expect((await script.text()).length).toBeGreaterThan(100_000);
    });
  },
  {},
  { listen: true },
);
