import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { type Api, codeOf, createOutbox, useTRPC } from './api';
import { SessionContext, useObservable } from './context';
import { AuthScreen } from './screens/Auth';
import { startLiveSync } from './sync';

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside the app');
  return api;
}

const NAV = [
  { to: '/', label: 'Today' },
  { to: '/metrics', label: 'Metrics' },
  { to: '/history', label: 'History' },
  { to: '/analytics', label: 'Analytics' },
  { to: '/insights', label: 'Insights' },
  { to: '/notifications', label: 'Notifications' },
  { to: '/settings', label: 'Settings' },
] as const;

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}

/** The signed-in frame: navigation, connection state, live sync and the offline outbox. */
export function Shell({ children }: { children: ReactNode }) {
  const api = useApi();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const profile = useQuery(trpc.users.profile.queryOptions());
  const online = useOnline();
  const socket = useObservable(api.socket);
  const userId = profile.data?.id;
  const outbox = useMemo(() => (userId ? createOutbox(api.trpc, userId) : null), [api.trpc, userId]);
  const pending = useObservable(outbox?.pending ?? emptyPending);

  useEffect(() => {
    if (!userId) return;
    return startLiveSync(api.trpc, queryClient);
  }, [api.trpc, queryClient, userId]);

  // Queued writes go out when the network returns (and on start, for a queue left by a closed tab).
  useEffect(() => {
    if (!outbox || !online) return;
    let cancelled = false;
    const flush = async () => {
      const outcome = await outbox.replay();
      if (!cancelled && outcome.sent + outcome.refused.length > 0) {
        void queryClient.invalidateQueries({ queryKey: [['entries']] });
      }
    };
    void flush();
    const timer = setInterval(flush, 15_000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [outbox, online, queryClient]);

  useEffect(() => {
    const theme = profile.data?.preferences.theme;
    if (theme && theme !== 'system') document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
  }, [profile.data?.preferences.theme]);

  if (profile.isPending) {
    return (
      <div className="splash" aria-busy="true">
        Loading…
      </div>
    );
  }
  if (profile.isError || !outbox) {
    if (codeOf(profile.error) === 'UNAUTHORIZED' || !profile.error) return <AuthScreen />;
    return (
      <div className="splash" role="alert">
        <p>The server cannot be reached: {profile.error.message}</p>
        <button type="button" onClick={() => profile.refetch()}>
          Try again
        </button>
      </div>
    );
  }

  const status = !online ? 'Offline' : socket === 'open' ? 'Live' : 'Connecting';
  return (
    <SessionContext.Provider value={{ api, profile: profile.data, outbox }}>
      <div className="layout">
        <header className="topbar">
          <Link to="/" className="brand" aria-label="Life XP, Today">
            <span className="logo" aria-hidden="true">
              ◆
            </span>
            Life XP
          </Link>
          <nav aria-label="Main">
            <ul>
              {NAV.map((item) => (
                <li key={item.to}>
                  <Link to={item.to} activeProps={{ 'aria-current': 'page', className: 'active' }}>
                    {item.label}
                    {item.to === '/notifications' && <UnreadBadge />}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="status">
            {pending.length > 0 && (
              <span className="pill pending" data-testid="pending-count">
                {pending.length} waiting to sync
              </span>
            )}
            <output className={`pill ${status.toLowerCase()}`} aria-live="polite" data-testid="connection">
              {status}
            </output>
          </div>
        </header>
        <main id="main">{children}</main>
      </div>
    </SessionContext.Provider>
  );
}

/**
 * The count of unread notices beside "Notifications": kept current by the sync stream (a notice
 * delivered or read makes it stale), so a new one shows without a reload.
 */
function UnreadBadge() {
  const trpc = useTRPC();
  const list = useQuery(trpc.notifications.list.queryOptions({ limit: 1 }));
  const unread = list.data?.unread ?? 0;
  return (
    <span aria-live="polite">
      {unread > 0 && (
        <span className="pill count" data-testid="unread-count">
          {unread > 99 ? '99+' : unread}
          <span className="sr-only"> unread</span>
        </span>
      )}
    </span>
  );
}

const EMPTY: never[] = [];
const emptyPending = {
  get: () => EMPTY,
  subscribe: () => () => {},
};
