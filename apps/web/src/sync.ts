import type { AppRouter } from '@lifexp/client';
import type { SyncEvent } from '@lifexp/contracts';
import type { QueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import { staleKeysOf } from './api';

export interface LiveSync {
  /** The seq of the last event applied (the resume cursor). */
  lastEventId(): string | null;
  stop(): void;
}

/**
 * Keeps the cache in step with the account's other devices: `sync.changes` over the WebSocket, each
 * event tracked by its seq so that a reconnect resumes after the last one applied (`lastEventId`), a
 * change making the affected answers stale, a `resync` (cursor too old) refetching everything.
 */
export function startLiveSync(
  trpc: TRPCClient<AppRouter>,
  queryClient: QueryClient,
  options: { onEvent?: (event: SyncEvent) => void; onReconnected?: () => void } = {},
): LiveSync {
  let last: string | null = null;
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
    onStarted: () => options.onReconnected?.(),
    onData: (tracked) => {
      const event = tracked.data as SyncEvent;
      last = tracked.id;
      options.onEvent?.(event);
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
  return {
    lastEventId: () => last,
    stop: () => {
      if (timer) clearTimeout(timer);
      subscription.unsubscribe();
    },
  };
}
