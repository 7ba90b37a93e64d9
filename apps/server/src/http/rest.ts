import { TRPCError } from '@trpc/server';
import type { Context as HonoContext } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { forEachOpenApiProcedure, getPathRegExp, normalizePath, type OpenApiMethod } from 'trpc-to-openapi';
import type { z } from 'zod';
import type { ApiMeta } from '../trpc/init';
import { appRouter } from '../trpc/router';
import { errorResponse, type PlainEnv } from './plain';

// The REST form of the tRPC procedures: each procedure's `openapi` meta names its method and path
// under /api, and a request runs the procedure itself (through a server-side caller, so the same
// middlewares — session, CSRF, throttles, limits — and the same data layer answer it). This file only
// turns HTTP into a procedure's input and its answer back into HTTP: query coercion, path parameters,
// If-Match, ETag, 201.

/** One REST route: a procedure's method and path, and what the dispatcher needs to know of its input. */
export interface RestRoute {
  method: OpenApiMethod;
  /** `/api/metrics/{id}` (OpenAPI's notation). */
  path: string;
  /** The procedure's path in the router: `metrics.update`. */
  procedure: string;
  pattern: RegExp;
  /** The procedure takes input. */
  hasInput: boolean;
  /** The fields of the procedure's input object (for query coercion), or null if it is not an object. */
  shape: Record<string, z.ZodType> | null;
  /** A successful call answers 201 Created. */
  created: boolean;
  /** A create whose new object has a GET route (`path/{id}`): the 201 names it in Location. */
  locates: boolean;
  /** A write on a versioned object: `baseVersion` may come as If-Match, or be left out. */
  conditional: boolean;
}

type ZodInternals = { _zod: { def: Record<string, unknown> & { type: string } } };

function defOf(schema: unknown): ZodInternals['_zod']['def'] {
  return (schema as ZodInternals)._zod.def;
}

/** A schema without the wrappers that do not change what a value looks like. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type))
      current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
}

function objectShape(schema: unknown): Record<string, z.ZodType> | null {
  if (!schema) return null;
  const inner = unwrap(schema);
  const def = defOf(inner);
  return def.type === 'object' ? (def.shape as Record<string, z.ZodType>) : null;
}

/** What a query parameter's strings become: a number, a boolean or text, one or a list. */
function queryKind(schema: unknown): {
  scalar: 'number' | 'boolean' | 'string';
  list: 'never' | 'always' | 'maybe';
} {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'array') return { scalar: queryKind(def.element).scalar, list: 'always' };
  if (def.type === 'union') {
    const options = def.options as unknown[];
    const single = options.find((option) => defOf(unwrap(option)).type !== 'array') ?? options[0];
    const hasList = options.some((option) => defOf(unwrap(option)).type === 'array');
    return { scalar: queryKind(single).scalar, list: hasList ? 'maybe' : 'never' };
  }
  if (def.type === 'number') return { scalar: 'number', list: 'never' };
  if (def.type === 'boolean') return { scalar: 'boolean', list: 'never' };
  return { scalar: 'string', list: 'never' };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A query string as the field's type; what does not convert stays text, for the schema to refuse by name. */
function convert(value: string, scalar: 'number' | 'boolean' | 'string'): unknown {
  if (scalar === 'number' && NUMBER.test(value)) return Number(value);
  if (scalar === 'boolean') {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
  }
  return value;
}

/**
 * A procedure's input from the query string: numbers and booleans converted by the input's schema,
 * a repeated parameter (`tag=a&tag=b`) a list, an empty one (`from=`) left out.
 */
export function queryInput(shape: RestRoute['shape'], params: URLSearchParams): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key).filter((value) => value !== '');
    if (values.length === 0) continue;
    const field = shape?.[key];
    if (!field) {
      input[key] = values.length === 1 ? values[0] : values;
      continue;
    }
    const { scalar, list } = queryKind(field);
    const converted = values.map((value) => convert(value, scalar));
    input[key] = list === 'always' || converted.length > 1 ? converted : converted[0];
  }
  return input;
}

function collectRoutes(): RestRoute[] {
  const routes: RestRoute[] = [];
  forEachOpenApiProcedure<ApiMeta>(appRouter._def.procedures, ({ path, type, procedure, meta }) => {
    if (type === 'subscription') return;
    const routePath = normalizePath(meta.openapi.path);
    const input = (procedure._def as { inputs: unknown[] }).inputs[0];
    const shape = objectShape(input);
    routes.push({
      method: meta.openapi.method,
      path: routePath,
      procedure: path,
      pattern: getPathRegExp(routePath),
      hasInput: input !== undefined,
      shape,
      created: meta.created === true,
      locates: false,
      conditional: shape !== null && 'baseVersion' in shape && routePath.includes('{id}'),
    });
  });
  for (const route of routes) {
    route.locates =
      route.created && routes.some((other) => other.method === 'GET' && other.path === `${route.path}/{id}`);
  }
  return routes;
}

/** Every REST route of the procedures. */
export const restRoutes: RestRoute[] = collectRoutes();

/** The route for a method and path, or the methods the path does answer (for 405). */
function findRoute(
  method: string,
  path: string,
): { route?: RestRoute; params?: Record<string, string>; allow: string[] } {
  const allow: string[] = [];
  for (const route of restRoutes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method === method) return { route, params: { ...match.groups }, allow };
    allow.push(route.method);
  }
  return { allow };
}

/** `If-Match: "3"` (or `W/"3"`) → 3; `*` or no header → undefined; anything else is refused. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'If-Match: must be the ETag of the object, such as "3", or *',
    });
  }
  return Number(match[1]);
}

async function bodyInput(c: HonoContext<PlainEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new TRPCError({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'send the body as JSON, with Content-Type: application/json',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TRPCError({ code: 'PARSE_ERROR', message: 'the body is not valid JSON' });
  }
}

type Callable = (input: unknown) => Promise<unknown>;

function callerFor(c: HonoContext<PlainEnv>, procedure: string): Callable {
  const caller = appRouter.createCaller(c.get('ctx')) as unknown as Record<string, Record<string, Callable>>;
  const [namespace, name] = procedure.split('.') as [string, string];
  const group = caller[namespace]!;
  return (input) => group[name]!(input);
}

const isConflict = (error: unknown) => error instanceof TRPCError && error.code === 'CONFLICT';

/**
 * A write with neither If-Match nor baseVersion applies to the object as it is: it is read and
 * written on its current version, read again if another write lands in between.
 */
async function unconditionally(c: HonoContext<PlainEnv>, route: RestRoute, input: Record<string, unknown>) {
  const read = callerFor(c, `${route.procedure.split('.')[0]}.get`);
  const write = callerFor(c, route.procedure);
  for (let attempt = 1; ; attempt++) {
    const current = (await read({ id: input.id })) as { version: number };
    try {
      return await write({ ...input, baseVersion: current.version });
    } catch (error) {
      if (!isConflict(error) || attempt >= 3) throw error;
    }
  }
}

function etagOf(data: unknown): string | undefined {
  const object = data as { id?: unknown; version?: unknown } | null;
  return object && typeof object.id === 'string' && typeof object.version === 'number'
    ? `"${object.version}"`
    : undefined;
}

/** Answers a request under /api with the procedure its method and path name. */
export async function dispatch(c: HonoContext<PlainEnv>): Promise<Response> {
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  const { route, params, allow } = findRoute(method, c.req.path);
  if (!route) {
    if (allow.length > 0) {
      c.header('Allow', allow.join(', '));
      return errorResponse(c, 'METHOD_NOT_SUPPORTED', `${c.req.method} is not allowed here`, { allow });
    }
    return errorResponse(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  }
  let input: unknown;
  if (route.method === 'GET' || route.method === 'DELETE') {
    input = route.hasInput ? queryInput(route.shape, new URL(c.req.url).searchParams) : undefined;
  } else {
    input = route.hasInput ? await bodyInput(c) : undefined;
  }
  if (params && Object.keys(params).length > 0) {
    const body = input ?? {};
    if (typeof body !== 'object' || Array.isArray(body) || body === null) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'input: the body must be a JSON object' });
    }
    for (const [key, value] of Object.entries(params)) {
      const given = (body as Record<string, unknown>)[key];
      if (given !== undefined && given !== value) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: `${key}: differs from the ${key} in the path` });
      }
    }
    input = { ...body, ...params };
  }
  let data: unknown;
  if (route.conditional) {
    const fields = input as Record<string, unknown>;
    const tag = ifMatchVersion(c.req.header('if-match'));
    if (tag !== undefined) {
      if (fields.baseVersion !== undefined && fields.baseVersion !== tag) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'baseVersion: differs from If-Match' });
      }
      fields.baseVersion = tag;
    }
    data =
      fields.baseVersion === undefined
        ? await unconditionally(c, route, fields)
        : await callerFor(c, route.procedure)(fields);
  } else {
    data = await callerFor(c, route.procedure)(input);
  }
  const etag = etagOf(data);
  if (etag) {
    c.header('ETag', etag);
    if (route.method === 'GET' && c.req.header('if-none-match') === etag) return c.body(null, 304);
  }
  if (route.locates && etag) c.header('Location', `${route.path}/${(data as { id: string }).id}`);
  c.header('Cache-Control', 'no-store');
  return c.json(data as object, (route.created ? 201 : 200) as ContentfulStatusCode);
}
