// Worker for theilSenMemory.test.ts: runs Theil–Sen on one long series and posts the result. The
// source is TypeScript, loaded through tsx (as apps/server/src/analytics/worker.mjs does).
import { parentPort, workerData } from 'node:worker_threads';

const { tsxApi, source, kind, n } = workerData;
const { tsImport } = await import(tsxApi);
const { theilSenOf } = await tsImport(source, import.meta.url);

const x = new Float64Array(n);
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  x[i] = i;
  // 'zero-filled': two recorded days at the ends of a long range, every day between filled with 0.
  if (kind === 'zero-filled') y[i] = i === 0 ? 72.4 : i === n - 1 ? 73.1 : 0;
  else y[i] = 5; // 'all-tied'
}
const result = theilSenOf(x, y);
parentPort.postMessage({ slope: result.slope, slopeCI95: result.slopeCI95 });
