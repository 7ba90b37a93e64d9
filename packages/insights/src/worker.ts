import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { LimitError } from './compute';
import { type AnalyticsTask, runTask } from './tasks';

// The statistics yield the CPU to the event loop that serves API calls and sync: on Linux a nice
// value set with pid 0 applies to this thread only. Where that is not allowed, nothing changes.
try {
  setPriority(10);
} catch {
  // not permitted here: run at normal priority
}

// One task at a time per worker; the pool never sends a second before the first is answered.
parentPort?.on('message', (message: { id: number; task: AnalyticsTask }) => {
  try {
    parentPort?.postMessage({ id: message.id, ok: true, result: runTask(message.task) });
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      ok: false,
      // A limit keeps its code across the thread boundary, so the caller gets a clear 4xx.
      error:
        error instanceof LimitError
          ? { domain: { code: error.code, message: error.message } }
          : ((error as Error).message ?? String(error)),
    });
  }
});
