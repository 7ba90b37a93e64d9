import { initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import type { Context } from './context';

const t = initTRPC.context<Context>().create({
  // Stack traces are added back below only outside production.
  isDev: false,
  errorFormatter({ shape, error, ctx }) {
    const production = ctx?.deps.config.env !== 'development' && ctx?.deps.config.env !== 'test';
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    const zodIssues = error.cause instanceof ZodError ? z.treeifyError(error.cause) : null;
    return {
      ...shape,
      // An unexpected error's message may carry internals (SQL, paths): production answers generically.
      message: internal && production ? 'Internal server error' : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        requestId: ctx?.requestId,
        zodError: zodIssues,
        ...(production ? {} : { stack: error.stack }),
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;
