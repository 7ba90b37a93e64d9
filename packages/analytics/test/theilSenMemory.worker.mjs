// Worker for theilSenMemory.test.ts: runs Theil–Sen on one long series and posts the result. The
// source is TypeScript, loaded through tsx (as the insights worker does).
import { parentPort, workerData } from 'node:worker_threads';

const { tsxApi, source, kind, n } = workerData;
const { tsImport } = await import(tsxApi);
const { theilSenOf } = await tsImport(new URL('theilSen.ts', source).href, import.meta.url);
const { trendReport } = await tsImport(new URL('trend.ts', source).href, import.meta.url);

const x = new Float64Array(n);
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  x[i] = i;
  // 'zero-filled': two recorded days at the ends of a long range, every day between filled with 0.
  if (kind === 'zero-filled' || kind === 'trend') y[i] = i === 0 ? 72.4 : i === n - 1 ? 73.1 : 0;
  else y[i] = 5; // 'all-tied'
}
if (kind === 'trend') {
  // The whole trend report (Theil–Sen, Mann–Kendall, OLS) on the zero-filled series.
  const r = trendReport({ id: 'zero-filled', start: '1900-01-01', values: y });
  parentPort.postMessage({
    slope: r.slopePerDay,
    slopeCI95: r.slopeCI95,
    s: r.mannKendall.s,
    direction: r.direction,
  });
} else {
  const result = theilSenOf(x, y);
  parentPort.postMessage({ slope: result.slope, slopeCI95: result.slopeCI95 });
}
