import { analyticsRouter } from './routers/analytics';
import { entriesRouter } from './routers/entries';
import { metricsRouter } from './routers/metrics';
import { syncRouter } from './routers/sync';
import { systemRouter } from './routers/system';
import { usersRouter } from './routers/users';
import { router } from './trpc/init';

export const appRouter = router({
  system: systemRouter,
  users: usersRouter,
  metrics: metricsRouter,
  entries: entriesRouter,
  sync: syncRouter,
  analytics: analyticsRouter,
});

export type AppRouter = typeof appRouter;
