import type { AppRouter } from '@lifexp/client';
import type { ChangeEvent, SyncEvent } from '@lifexp/contracts';
import type { QueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';

/**
 * Keeps the cache in step with the account's other devices: `sync.changes` over the WebSocket (each
 * event tracked by its seq, so the socket link resumes a reconnect after the last one it received), a
 * change making the affected answers stale, a `resync` (cursor too old) refetching everything.
 * Returns the function that stops it.
 */
export function startLiveSync(trpc: TRPCClient<AppRouter>, queryClient: QueryClient): () => void {
  let pendingKeys = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Changes come in bursts (an import, a replayed queue): one refetch per burst.
  const flush = () => {
    timer = undefined;
    const keys = pendingKeys;
    pendingKeys = new Set();
    for (const key of keys) void queryClient.invalidateQueries({ queryKey: [[key]] });
  };
  const subscription = trpc.sync.changes.subscribe(undefined, {
    onData: (tracked) => {
      const event = tracked.data as SyncEvent;
      if (event.kind === 'resync') {
        void queryClient.invalidateQueries();
        return;
      }
      if (event.kind !== 'change') return;
      for (const key of staleKeysOf(event.entity)) pendingKeys.add(key);
      timer ??= setTimeout(flush, 150);
    },
    onError: () => {
      // The socket link reconnects by itself; what was missed comes with the resumed stream.
    },
  });
  return () => {
    if (timer) clearTimeout(timer);
    subscription.unsubscribe();
  };
}

/** Which cached answers a change of an entity makes stale. */
export function staleKeysOf(entity: ChangeEvent['entity']): string[] {
  switch (entity) {
    case 'metric':
      return ['metrics', 'entries', 'analytics'];
    case 'entry':
      return ['entries', 'analytics'];
    case 'insights':
      return ['analytics'];
    case 'user':
      return ['users'];
    // A notice delivered or read (`notification`), or all of them read (`notifications`).
    case 'notification':
    case 'notifications':
      return ['notifications'];
    default:
      return ['metrics', 'entries', 'analytics', 'users'];
  }
}
