import { apiError, entry, exportDocument, exportedDocument, importReport, metric } from '@lifexp/contracts';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { SESSION_COOKIE } from '../auth/cookies';
import { appRouter } from '../trpc/router';
import { type RestRoute, restRoutes } from './rest';

// The OpenAPI 3.1 document of everything under /api: the procedures' REST routes as trpc-to-openapi
// describes them from their input and output schemas, the plain routes, and what the generator does
// not know — 201, ETag and If-Match, the one error body, the request examples.

const VERSION = '1.0.0';

const errorResponses = {
  BadRequest: 'The input was refused: `details.issues` lists each field with its path.',
  Unauthorized: 'Not signed in: send `Authorization: Bearer <token>` or the session cookie.',
  Forbidden: 'Refused: a cookie-authenticated write from an origin not in ALLOWED_ORIGINS.',
  NotFound: 'No such object for this user (another user’s object answers the same).',
  Conflict: 'The object has changed since the version given: `details.current` is the object as it is now.',
  PayloadTooLarge: 'The body exceeds its limit (MAX_BODY_BYTES; IMPORT_MAX_BYTES for an import).',
  TooManyRequests: 'A rate or concurrency limit: retry after `Retry-After` seconds.',
  InternalError: 'An unexpected failure; the `requestId` finds it in the server log.',
} as const;
type ErrorResponse = keyof typeof errorResponses;

const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

const ref = (name: ErrorResponse) => ({ $ref: `#/components/responses/${name}` });

/** Request examples of the writes a newcomer tries first. */
const requestExamples: Record<string, unknown> = {
  'users.register': {
    email: 'ada@example.com',
    password: 'correct horse battery',
    timezone: 'Europe/Berlin',
  },
  'users.login': { email: 'ada@example.com', password: 'correct horse battery' },
  'users.updatePreferences': { timezone: 'Europe/Berlin', preferences: { theme: 'dark', weekStartsOn: 1 } },
  'metrics.create': { name: 'Mood', type: 'rating', category: 'mood', config: { min: 1, max: 5 } },
  'metrics.update': { name: 'Mood (evening)', isActive: true },
  'entries.create': {
    metricId: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10',
    value: 4,
    date: '2026-11-25',
    time: '21:30',
    tags: ['work'],
  },
  'entries.createMany': {
    entries: [
      { metricId: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10', value: 4, date: '2026-11-24' },
      { metricId: '0b5c8f5e-2c1d-4f7a-9a51-3c0e2f6d9a10', value: 3, date: '2026-11-25' },
    ],
  },
  'entries.update': { value: 5, notes: 'after a long walk' },
};

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  {
    _def: {
      inputs: z.ZodType[];
      output?: z.ZodType;
      meta?: { openapi?: { summary?: string; tags?: string[] } };
    };
  }
>;

/**
 * Operations of procedures whose input is not one JSON object (a union: metrics.create), which the
 * generator cannot describe: written here from the same schemas.
 */
function describedHere(route: RestRoute): boolean {
  return route.hasInput && route.shape === null;
}

function unionInputOperations(): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of restRoutes) {
    const def = procedures[route.procedure]!._def;
    const input = def.inputs[0];
    if (!input || !describedHere(route)) continue;
    const operation: ZodOpenApiOperationObject = {
      operationId: route.procedure.replace(/\./g, '-'),
      summary: def.meta?.openapi?.summary,
      tags: def.meta?.openapi?.tags,
      security: SECURITY,
      requestBody: { required: true, content: { 'application/json': { schema: input } } },
      responses: {
        200: { description: 'Successful response', content: { 'application/json': { schema: def.output! } } },
      },
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return paths;
}

const exportQuery = z.object({
  format: z.enum(['json', 'csv']).optional().meta({ description: 'json (default) or csv' }),
  from: z.string().optional().meta({ description: 'first day, YYYY-MM-DD' }),
  to: z.string().optional().meta({ description: 'last day, YYYY-MM-DD' }),
  metricIds: z.string().optional().meta({ description: 'comma-separated metric ids (all when left out)' }),
});

/** The plain routes: files in and out, and the documentation itself. */
function plainOperations(): ZodOpenApiPathsObject {
  const security = SECURITY;
  return {
    '/api/analytics/export': {
      get: {
        operationId: 'analytics-export',
        summary: 'All of the user’s data as a streamed file (JSON document or CSV), any size',
        tags: ['data'],
        security,
        requestParams: { query: exportQuery },
        responses: {
          200: {
            description: 'The file, streamed (Content-Disposition: attachment)',
            content: {
              'application/json': { schema: exportedDocument },
              'text/csv': {
                schema: z
                  .string()
                  .meta({ description: 'date,time,metric,category,type,value,unit,notes,tags' }),
              },
            },
          },
        },
      },
    },
    '/api/data/import': {
      post: {
        operationId: 'data-import',
        summary: 'Imports an export document or CSV file: checked whole, written atomically',
        description:
          'The body is the file itself: an export document (application/json) or CSV (text/csv). Up to IMPORT_MAX_BYTES. Re-importing an export changes nothing.',
        tags: ['data'],
        security,
        requestParams: {
          query: z.object({
            dryRun: z
              .enum(['true', 'false'])
              .optional()
              .meta({ description: 'report what would happen, write nothing' }),
            onConflict: z
              .enum(['skip', 'overwrite'])
              .optional()
              .meta({ description: 'an entry that exists with other content' }),
          }),
        },
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: exportDocument },
            'text/csv': { schema: z.string() },
          },
        },
        responses: {
          200: {
            description: 'What was (or, with dryRun, would be) done',
            content: { 'application/json': { schema: importReport } },
          },
        },
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['documentation'],
        responses: {
          200: {
            description: 'OpenAPI 3.1',
            content: { 'application/json': { schema: z.looseObject({ openapi: z.string() }) } },
          },
        },
      },
    },
    '/api/docs': {
      get: {
        operationId: 'docs',
        summary: 'Interactive documentation of this API (works offline)',
        tags: ['documentation'],
        responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: z.string() } } } },
      },
    },
    '/api/docs/standalone.js': {
      get: {
        operationId: 'docs-script',
        summary: 'The script of the documentation page, served from this origin',
        tags: ['documentation'],
        responses: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } },
        },
      },
    },
  };
}

type Json = Record<string, unknown>;
type Operation = Json & {
  responses: Record<string, Json>;
  parameters?: Json[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  security?: unknown[];
};

const VERSIONED = new Set<unknown>([metric, entry]);

/** What trpc-to-openapi cannot say, said: statuses, headers, preconditions, the error body, examples. */
function complete(document: OpenAPIObject): OpenAPIObject {
  const paths = document.paths as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const route: RestRoute | undefined = restRoutes.find(
        (candidate) => candidate.path === path && candidate.method.toLowerCase() === method,
      );
      const success = operation.responses['200']!;
      const errors = new Set<ErrorResponse>(['InternalError']);
      for (const status of Object.keys(operation.responses))
        if (status !== '200') delete operation.responses[status];
      if (operation.security) errors.add('Unauthorized');
      if (route) {
        const def = procedures[route.procedure]!._def;
        const hasInput = def.inputs.length > 0;
        const writes = route.method !== 'GET';
        if (hasInput) errors.add('BadRequest');
        if (writes) errors.add('Forbidden');
        if (
          path.includes('{id}') ||
          route.procedure === 'entries.create' ||
          route.procedure === 'entries.createMany'
        )
          errors.add('NotFound');
        if (route.conditional || route.created) errors.add('Conflict');
        if (writes && route.method !== 'DELETE') errors.add('PayloadTooLarge');
        if (route.procedure.startsWith('analytics.') || route.procedure.startsWith('users.'))
          errors.add('TooManyRequests');
        if (VERSIONED.has(def.output)) {
          success.headers = {
            ETag: {
              description: 'The object’s version, for If-Match and If-None-Match',
              schema: { type: 'string' },
              example: '"3"',
            },
          };
        }
        if (route.created) {
          success.description = 'Created';
          operation.responses['201'] = success;
          delete operation.responses['200'];
        }
        if (route.conditional) {
          operation.parameters = [
            ...(operation.parameters ?? []).map((parameter) =>
              parameter.name === 'baseVersion' ? { ...parameter, required: false } : parameter,
            ),
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description:
                'The ETag the change is based on (or send baseVersion); a stale one is 409 with the current object. Without either, the write applies to the current version.',
              schema: { type: 'string', example: '"3"' },
            },
          ];
          const body = operation.requestBody?.content['application/json']?.schema;
          if (body && Array.isArray(body.required))
            body.required = (body.required as string[]).filter((name) => name !== 'baseVersion');
        }
        const example = requestExamples[route.procedure];
        const media = operation.requestBody?.content['application/json'];
        if (example && media) media.example = example;
      } else if (path === '/api/data/import') {
        for (const name of ['BadRequest', 'Forbidden', 'PayloadTooLarge'] as const) errors.add(name);
      } else if (path === '/api/analytics/export') {
        errors.add('BadRequest');
      }
      for (const name of errors) {
        const status = {
          BadRequest: 400,
          Unauthorized: 401,
          Forbidden: 403,
          NotFound: 404,
          Conflict: 409,
          PayloadTooLarge: 413,
          TooManyRequests: 429,
          InternalError: 500,
        }[name];
        operation.responses[String(status)] = ref(name);
      }
    }
  }
  const components = document.components as Json & { schemas: Record<string, unknown> };
  for (const name of Object.keys(components.schemas))
    if (name.startsWith('error.')) delete components.schemas[name];
  // Any JSON value, bounded by the server: said in words, as a self-referencing schema would give
  // generated clients a type that refers to itself (which TypeScript refuses).
  const json = components.schemas.JsonValue as { description?: string } | undefined;
  if (json) components.schemas.JsonValue = { description: json.description };
  components.responses = Object.fromEntries(
    Object.entries(errorResponses).map(([name, description]) => [
      name,
      {
        description,
        ...(name === 'TooManyRequests'
          ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } }
          : {}),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
  return document;
}

let cached: OpenAPIObject | undefined;

/** The OpenAPI 3.1 document of /api (built once). */
export function openApiDocument(): OpenAPIObject {
  cached ??= complete(
    generateOpenApiDocument(appRouter, {
      title: 'Life XP API',
      version: VERSION,
      description:
        'The REST form of the Life XP procedures. Sign up or log in for a token, then send `Authorization: Bearer <token>`. Errors have one body: `{code, message, details?, requestId}`. Versioned objects carry an ETag; PUT and DELETE accept If-Match. Limits: docs/configuration.md.',
      baseUrl: '/',
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The token of users/register or users/login',
        },
        cookieAuth: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'The session cookie (browsers)',
        },
      },
      tags: ['users', 'metrics', 'entries', 'analytics', 'sync', 'data', 'system', 'documentation'],
      // Procedures whose input is not one object are described by unionInputOperations.
      filter: ({ metadata }) =>
        !restRoutes.some(
          (route) =>
            route.path === metadata.openapi.path &&
            route.method === metadata.openapi.method &&
            describedHere(route),
        ),
      paths: { ...plainOperations(), ...unionInputOperations() },
      defs: { Error: apiError },
    }),
  );
  return cached;
}
