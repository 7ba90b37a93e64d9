import { router } from './init';
import { analyticsRouter } from './routers/analytics';
import { dataRouter } from './routers/data';
import { entriesRouter } from './routers/entries';
import { metricsRouter } from './routers/metrics';
import { notificationsRouter, pushRouter, webhooksRouter } from './routers/notifications';
import { syncRouter } from './routers/sync';
import { systemRouter } from './routers/system';
import { usersRouter } from './routers/users';

export const appRouter = router({
  system: systemRouter,
  users: usersRouter,
  metrics: metricsRouter,
  entries: entriesRouter,
  sync: syncRouter,
  analytics: analyticsRouter,
  data: dataRouter,
  notifications: notificationsRouter,
  push: pushRouter,
  webhooks: webhooksRouter,
});

export type AppRouter = typeof appRouter;
