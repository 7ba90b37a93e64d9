import { systemRouter } from './routers/system';
import { usersRouter } from './routers/users';
import { router } from './trpc/init';

export const appRouter = router({
  system: systemRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
