import { id, localDate } from '@lifexp/contracts';
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  lazyRouteComponent,
  Outlet,
  redirect,
} from '@tanstack/react-router';
import { z } from 'zod';
import { History } from './screens/History';
import { Insights } from './screens/Insights';
import { Metrics } from './screens/Metrics';
import { Settings } from './screens/Settings';
import { Today } from './screens/Today';
import { Shell } from './shell';

// Search parameters are part of the URL a person can bookmark or edit: each is checked, and one
// that does not fit is dropped rather than breaking the screen.
const day = localDate.optional().catch(undefined);
const uuid = id.optional().catch(undefined);

export const historySearch = z.object({
  from: day,
  to: day,
  metricId: uuid,
  tag: z.string().min(1).max(64).optional().catch(undefined),
});
export type HistorySearch = z.infer<typeof historySearch>;

export const analyticsSearch = z.object({ metricId: uuid });
export const todaySearch = z.object({ date: day });
/** `/insights?week=…`: the weekly summary's link, the last day of the week it looked at. */
export const insightsSearch = z.object({ week: day });

const rootRoute = createRootRoute({
  component: () => (
    <Shell>
      <Outlet />
    </Shell>
  ),
  notFoundComponent: () => (
    <section className="card">
      <h1>Not found</h1>
      <p>
        There is no page here. <Link to="/">Go to Today</Link>
      </p>
    </section>
  ),
});

const todayRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  validateSearch: todaySearch,
  component: Today,
});
const metricsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/metrics', component: Metrics });
const historyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/history',
  validateSearch: historySearch,
  component: History,
});
// The charts (recharts and the statistics) load only when this screen is opened.
const analyticsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/analytics',
  validateSearch: analyticsSearch,
  component: lazyRouteComponent(() => import('./screens/Analytics'), 'Analytics'),
});
const insightsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/insights',
  validateSearch: insightsSearch,
  component: Insights,
});
// A notice about one finding links to it: the insights screen with that finding brought forward.
const insightRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/insights/$insightId',
  component: Insights,
});
// Reminders and streak notices link to `/log?date=…`: the day's logging screen, Today.
const logRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/log',
  validateSearch: todaySearch,
  beforeLoad: ({ search }) => {
    throw redirect({ to: '/', search: { date: search.date }, replace: true });
  },
});
const settingsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/settings',
  component: Settings,
});
// The notification screens load when opened, like the charts.
const notificationSettingsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/settings/notifications',
  component: lazyRouteComponent(() => import('./screens/NotificationSettings'), 'NotificationSettings'),
});
const notificationsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/notifications',
  component: lazyRouteComponent(() => import('./screens/Notifications'), 'Notifications'),
});

export const routeTree = rootRoute.addChildren([
  todayRoute,
  metricsRoute,
  historyRoute,
  analyticsRoute,
  insightsRoute,
  insightRoute,
  logRoute,
  settingsRoute,
  notificationSettingsRoute,
  notificationsRoute,
]);

export const router = createRouter({ routeTree, defaultPreload: 'intent', scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
