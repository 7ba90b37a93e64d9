import { Worker } from 'node:worker_threads';
import type { Logger } from '@lifexp/config';
import type { AnalyticsTask, TaskResult } from './tasks';

export interface AnalyticsPool {
  run<T extends AnalyticsTask>(task: T): Promise<TaskResult<T>>;
  /** Tasks waiting for a free worker. */
  queued(): number;
  close(): Promise<void>;
}

interface Pending {
  id: number;
  task: AnalyticsTask;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
  timer: NodeJS.Timeout | null;
}

/**
 * A small pool of worker threads for the statistics, so that a heavy user's scan never blocks the
 * event loop that serves API calls and sync. Workers start on first use; one that crashes or
 * overruns its time limit is replaced and its task fails with an error.
 */
export function createAnalyticsPool(size: number, log: Logger, taskTimeoutMs = 120_000): AnalyticsPool {
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url));
    const slot: Slot = { worker, current: null, timer: null };
    worker.on('message', (message: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const task = slot.current;
      if (!task || task.id !== message.id) return;
      finish(slot);
      if (message.ok) task.resolve(message.result);
      else task.reject(new Error(`analytics task failed: ${message.error}`));
      dispatch();
    });
    worker.on('error', (error) => fail(slot, error));
    worker.on('exit', (code) => {
      if (!closed) fail(slot, new Error(`analytics worker exited with code ${code}`));
    });
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot) {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
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
      log.error({ err: error, task: task.task.kind }, 'analytics worker failed');
      task.reject(error);
    }
    dispatch();
  }

  function dispatch() {
    while (!closed && queue.length > 0) {
      const slot =
        slots.find((candidate) => candidate.current === null) ?? (slots.length < size ? spawn() : undefined);
      if (!slot) return;
      const task = queue.shift()!;
      slot.current = task;
      slot.timer = setTimeout(() => fail(slot, new Error('analytics task timed out')), taskTimeoutMs);
      slot.worker.postMessage({ id: task.id, task: task.task });
    }
  }

  return {
    run<T extends AnalyticsTask>(task: T) {
      if (closed) return Promise.reject(new Error('the analytics pool is closed'));
      return new Promise<TaskResult<T>>((resolve, reject) => {
        queue.push({ id: nextId++, task, resolve: resolve as (value: unknown) => void, reject });
        dispatch();
      });
    },
    queued: () => queue.length,
    async close() {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(new Error('the analytics pool is closed'));
      const running = slots.splice(0);
      // A task still running is cut off with its worker: it fails rather than never settling.
      for (const slot of running) {
        const task = slot.current;
        finish(slot);
        task?.reject(new Error('the analytics pool is closed'));
      }
      await Promise.all(running.map((slot) => slot.worker.terminate()));
    },
  };
}
