import { parentPort } from 'node:worker_threads';
import { type AnalyticsTask, runTask } from './tasks';

// One task at a time per worker; the pool never sends a second before the first is answered.
parentPort?.on('message', (message: { id: number; task: AnalyticsTask }) => {
  try {
    parentPort?.postMessage({ id: message.id, ok: true, result: runTask(message.task) });
  } catch (error) {
    parentPort?.postMessage({ id: message.id, ok: false, error: (error as Error).message ?? String(error) });
  }
});
