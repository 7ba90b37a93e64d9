import { initTRPC, TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { ZodError, z } from 'zod';

// tRPC validates a zod schema through getParseFn, patched (patches/@trpc__server@11.22.1.patch) to
// parse synchronously first: zod 4 runs its compiled object parser only then. A schema holding an
// async check is parsed asynchronously, as before. These tests fail without the patch.

/** A schema whose parseAsync counts its calls. */
function counted<T extends z.ZodType>(schema: T): { schema: T; asyncCalls: () => number } {
  let calls = 0;
  const original = schema.parseAsync.bind(schema);
  Object.assign(schema, {
    parseAsync: (data: unknown, params?: Parameters<T['parseAsync']>[1]) => {
      calls++;
      return original(data, params);
    },
  });
  return { schema, asyncCalls: () => calls };
}

const t = initTRPC.create();

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('procedure input and output validation', () => {
  it('parses a plain schema synchronously, with the same result and the same errors', async () => {
    const input = counted(z.strictObject({ name: z.string().trim().min(1), n: z.number().int().default(2) }));
    const output = counted(z.object({ greeting: z.string(), n: z.number() }));
    const router = t.router({
      hello: t.procedure
        .input(input.schema)
        .output(output.schema)
        .query(({ input }) => ({ greeting: `hi ${input.name}`, n: input.n, extra: 'stripped' })),
    });
    const caller = t.createCallerFactory(router)({});

    expect(await caller.hello({ name: '  Ada ' })).toEqual({ greeting: 'hi Ada', n: 2 });
    const bad = await errorOf(caller.hello({ name: '', n: 1.5 } as never));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.cause).toBeInstanceOf(ZodError);
    expect((bad.cause as ZodError).issues.map((issue) => issue.path.join('.')).sort()).toEqual(['n', 'name']);
    const unknownKey = await errorOf(caller.hello({ name: 'x', other: 1 } as never));
    expect(unknownKey.code).toBe('BAD_REQUEST');
    expect(input.asyncCalls()).toBe(0);
    expect(output.asyncCalls()).toBe(0);
  });

  it('answers an output the schema refuses with INTERNAL_SERVER_ERROR', async () => {
    const router = t.router({
      broken: t.procedure.output(z.object({ n: z.number() })).query(() => ({ n: 'not a number' }) as never),
    });
    const error = await errorOf(t.createCallerFactory(router)({}).broken());
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe('Output validation failed');
  });

  it('parses a schema with an async check asynchronously', async () => {
    const taken = new Set(['ada']);
    const input = counted(
      z.object({
        name: z.string().refine(async (name) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return !taken.has(name);
        }, 'taken'),
      }),
    );
    const router = t.router({ claim: t.procedure.input(input.schema).mutation(({ input }) => input.name) });
    const caller = t.createCallerFactory(router)({});

    expect(await caller.claim({ name: 'grace' })).toBe('grace');
    const refused = await errorOf(caller.claim({ name: 'ada' }));
    expect(refused.code).toBe('BAD_REQUEST');
    expect((refused.cause as ZodError).issues[0]?.message).toBe('taken');
    expect(input.asyncCalls()).toBe(2);
  });
});
