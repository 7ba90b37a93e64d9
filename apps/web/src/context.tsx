import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Api, Outbox, Profile } from './api';

export interface Session {
  api: Api;
  profile: Profile;
  outbox: Outbox;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session: only inside the signed-in shell. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in shell');
  return session;
}

export function useObservable<T>(source: { get(): T; subscribe(listener: () => void): () => void }): T {
  return useSyncExternalStore(source.subscribe, source.get, source.get);
}
