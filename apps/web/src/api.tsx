import { type AppRouter, createLifeXPClient } from '@lifexp/client';
import type { CreateEntryInput } from '@lifexp/contracts';
import { QueryClient, useMutation, useQueryClient } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { isRetryLater } from './lib/format';
import {
  createReplayer,
  indexedDbQueue,
  memoryQueue,
  type QueuedWrite,
  type ReplayOutcome,
  type WriteQueue,
} from './lib/offline';

export type Outputs = inferRouterOutputs<AppRouter>;
export type Profile = Outputs['users']['profile'];

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Saves the account's preferences; the profile (and so every screen reading it) is refetched after. */
export function useSavePreferences() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.users.updatePreferences.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() }),
    }),
  );
}

/** A tiny observable value for React's useSyncExternalStore. */
export function observable<T>(initial: T) {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next: T) {
      if (Object.is(next, value)) return;
      value = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

export type SocketState = 'connecting' | 'open' | 'closed';

/**
 * Everything the dashboard talks to: the typed client (cookie session, same origin; subscriptions
 * over one WebSocket, the rest over batched HTTP), the query cache and the socket's state.
 */
export function createApi(origin = window.location.origin) {
  const socket = observable<SocketState>('connecting');
  const { trpc, close } = createLifeXPClient({
    url: origin,
    onSocketState: (state) => socket.set(state === 'open' ? 'open' : 'closed'),
  });
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        // Auth and input errors do not get better by asking again.
        retry: (count, error) =>
          count < 2 && !['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST'].includes(codeOf(error)),
      },
    },
  });
  return { trpc, close, queryClient, socket };
}
export type Api = ReturnType<typeof createApi>;

export function codeOf(error: unknown): string {
  return ((error as { data?: { code?: string } } | null)?.data?.code ?? '') as string;
}

/** Writes that wait for the network, per account, and their replay. */
export function createOutbox(trpc: TRPCClient<AppRouter>, account: string) {
  const queue: WriteQueue = typeof indexedDB === 'undefined' ? memoryQueue() : indexedDbQueue(account);
  const pending = observable<QueuedWrite[]>([]);
  const refresh = () =>
    queue.list().then(
      (writes) => pending.set(writes),
      () => pending.set([]),
    );
  queue.subscribe(() => void refresh());
  void refresh();
  const replay = createReplayer(queue, (write) => trpc.entries.create.mutate(write.input), isRetryLater);
  return {
    pending,
    replay: (): Promise<ReplayOutcome> => replay(),
    /**
     * Logs an entry now, or queues it when the network is away or the server asks for a pause. The id
     * is made here, so the queued write and any retry of it are one entry on the server.
     */
    async createEntry(input: CreateEntryInput): Promise<'sent' | 'queued'> {
      const id = input.id ?? crypto.randomUUID();
      const write: QueuedWrite = {
        id,
        kind: 'entries.create',
        input: { ...input, id, clientMutationId: input.clientMutationId ?? id },
        queuedAt: Date.now(),
      };
      if (navigator.onLine !== false) {
        try {
          await trpc.entries.create.mutate(write.input);
          return 'sent';
        } catch (error) {
          if (!isRetryLater(error)) throw error;
        }
      }
      await queue.add(write);
      return 'queued';
    },
  };
}
export type Outbox = ReturnType<typeof createOutbox>;
