import { Worker } from 'node:worker_threads';
import type { Logger } from '@lifexp/config';
import { DomainError } from '@lifexp/db';
import type { AnalyticsTask, TaskResult } from './tasks';

export interface PoolOptions {
  /** Worker threads. */
  size: number;
  /** A task that runs longer is cut off: its worker is terminated and replaced. */
  taskTimeoutMs: number;
  /** Heap limit of each worker (resourceLimits.maxOldGenerationSizeMb): a blow-up ends that worker only. */
  workerMemoryMb: number;
  /** Tasks waiting for a worker, all accounts together; beyond, TOO_MANY_REQUESTS. */
  queueMax: number;
}

export interface AnalyticsPool {
  /**
   * Runs the task for the account; one task per account runs at a time, accounts take turns. With
   * `transfer`, the series' arrays move to the worker instead of being copied: the caller hands them
   * over and must not read them afterwards.
   */
  run<T extends AnalyticsTask>(task: T, account?: string, options?: RunOptions): Promise<TaskResult<T>>;
  /** Tasks waiting for a free worker. */
  queued(): number;
  /** Workers started since the pool was created (a cut-off or crashed worker is replaced). */
  started(): number;
  close(): Promise<void>;
}

export interface RunOptions {
  transfer?: boolean;
  /** Told how long the task held its worker (ms), however it ended. */
  spent?: (ms: number) => void;
}

interface Pending {
  id: number;
  account: string;
  task: AnalyticsTask;
  transfer: ArrayBuffer[];
  spent: ((ms: number) => void) | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
  /** When the current task was handed to the worker (performance.now()). */
  startedAt: number;
  timer: NodeJS.Timeout | null;
}

/** Seconds a refused caller is asked to wait before it asks again. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * A small pool of worker threads for the statistics, so that a heavy user's scan never blocks the
 * event loop that serves API calls and sync.
 *
 * Scheduling is fair between accounts: each account has its own queue, at most one of its tasks runs
 * at a time, and free workers take the accounts in turn (round robin), so an account that queues
 * many tasks delays another account's task by at most one task's time budget per worker. The queue
 * is bounded; a task beyond it is refused with TOO_MANY_REQUESTS.
 *
 * Workers start on first use and run with a heap limit; one that crashes, runs out of memory or
 * overruns its time budget is terminated and replaced, and its task fails with a clear error.
 */
export function createAnalyticsPool(options: PoolOptions, log: Logger): AnalyticsPool {
  const slots: Slot[] = [];
  /** Waiting tasks per account, in order of arrival. */
  const queues = new Map<string, Pending[]>();
  const running = new Set<string>();
  /** When each account with work waiting or running was last served (a counter, not a time). */
  const lastServed = new Map<string, number>();
  let serveCount = 0;
  let waiting = 0;
  let nextId = 1;
  let started = 0;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      resourceLimits: {
        maxOldGenerationSizeMb: options.workerMemoryMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.min(64, Math.floor(options.workerMemoryMb / 8))),
      },
    });
    started += 1;
    const slot: Slot = { worker, current: null, startedAt: 0, timer: null };
    worker.on('message', (message: { id: number; ok: boolean; result?: unknown; error?: unknown }) => {
      const task = slot.current;
      if (!task || task.id !== message.id) return;
      finish(slot);
      if (message.ok) task.resolve(message.result);
      else task.reject(taskError(message.error));
      dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) =>
      fail(
        slot,
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new DomainError(
              'BAD_REQUEST',
              `the analysis needed more than its ${options.workerMemoryMb} MB of memory; ask for fewer metrics or a shorter range`,
            )
          : error,
      ),
    );
    worker.on('exit', (code) => {
      if (!closed) fail(slot, new Error(`analytics worker exited with code ${code}`));
    });
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (slot.current) {
      const { account, spent } = slot.current;
      spent?.(performance.now() - slot.startedAt);
      running.delete(account);
      // Forgotten once idle, so the map holds only accounts with work.
      if (!queues.has(account)) lastServed.delete(account);
    }
    slot.current = null;
  }

  function fail(slot: Slot, error: Error) {
    const index = slots.indexOf(slot);
    if (index === -1) return;
    slots.splice(index, 1);
    const task = slot.current;
    finish(slot);
    void slot.worker.terminate();
    if (task) {
      log.error({ err: error, task: task.task.kind, account: task.account }, 'analytics worker failed');
      task.reject(error);
    }
    dispatch();
  }

  /**
   * The next task: from the account with nothing running that was served longest ago (one never
   * served, or idle since, ranks first; ties go by arrival). An account that keeps asking therefore
   * goes behind every other waiting account after each of its tasks.
   */
  function next(): Pending | undefined {
    let chosen: string | undefined;
    let rank = Number.POSITIVE_INFINITY;
    for (const account of queues.keys()) {
      if (running.has(account)) continue;
      const served = lastServed.get(account) ?? -1;
      if (served < rank) {
        chosen = account;
        rank = served;
      }
    }
    if (chosen === undefined) return undefined;
    const queue = queues.get(chosen)!;
    const task = queue.shift()!;
    if (queue.length === 0) queues.delete(chosen);
    lastServed.set(chosen, serveCount++);
    waiting -= 1;
    return task;
  }

  function dispatch() {
    while (!closed && waiting > 0) {
      const slot =
        slots.find((candidate) => candidate.current === null) ??
        (slots.length < options.size ? spawn() : undefined);
      if (!slot) return;
      const task = next();
      if (!task) return;
      slot.current = task;
      slot.startedAt = performance.now();
      running.add(task.account);
      slot.timer = setTimeout(
        () =>
          fail(
            slot,
            new DomainError(
              'BAD_REQUEST',
              `the analysis ran over its ${options.taskTimeoutMs / 1000} s time budget; ask for fewer metrics or a shorter range`,
            ),
          ),
        options.taskTimeoutMs,
      );
      slot.worker.postMessage({ id: task.id, task: task.task }, task.transfer);
    }
  }

  return {
    run<T extends AnalyticsTask>(task: T, account = 'anonymous', runOptions: RunOptions = {}) {
      if (closed) return Promise.reject(new Error('the analytics pool is closed'));
      if (waiting >= options.queueMax) {
        return Promise.reject(
          new DomainError('TOO_MANY_REQUESTS', 'analytics is busy; try again shortly', {
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          }),
        );
      }
      return new Promise<TaskResult<T>>((resolve, reject) => {
        const queue = queues.get(account) ?? [];
        queue.push({
          id: nextId++,
          account,
          task,
          transfer: runOptions.transfer ? transferable(task) : [],
          spent: runOptions.spent,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        queues.set(account, queue);
        waiting += 1;
        dispatch();
      });
    },
    queued: () => waiting,
    started: () => started,
    async close() {
      closed = true;
      for (const queue of queues.values()) {
        for (const pending of queue) pending.reject(new Error('the analytics pool is closed'));
      }
      queues.clear();
      waiting = 0;
      const live = slots.splice(0);
      // A task still running is cut off with its worker: it fails rather than never settling.
      for (const slot of live) {
        const task = slot.current;
        finish(slot);
        task?.reject(new Error('the analytics pool is closed'));
      }
      await Promise.all(live.map((slot) => slot.worker.terminate()));
    },
  };
}

/**
 * The buffers a task's series can move to the worker with: each one once, and only a buffer that
 * holds that one array (a view into a larger or shared buffer is copied as usual).
 */
function transferable(task: AnalyticsTask): ArrayBuffer[] {
  if (!('inputs' in task)) return [];
  const buffers = new Set<ArrayBuffer>();
  for (const { values } of task.inputs) {
    const { buffer } = values;
    if (buffer instanceof ArrayBuffer && values.byteOffset === 0 && values.byteLength === buffer.byteLength) {
      buffers.add(buffer);
    }
  }
  return [...buffers];
}

/** A worker's error: a DomainError thrown by the task keeps its code (e.g. an answer too large). */
function taskError(error: unknown): Error {
  const described = error as { domain?: { code: DomainError['code']; message: string } } | string;
  if (typeof described === 'object' && described?.domain) {
    return new DomainError(described.domain.code, described.domain.message);
  }
  return new Error(`analytics task failed: ${typeof described === 'string' ? described : 'unknown error'}`);
}
