// Theil–Sen on long, heavily tied series in bounded memory. Each run is in a Worker with a 64 MB heap,
// and this thread watches the process's resident memory, since the typed arrays an O(n²) slope buffer
// would use live outside the heap: either limit ends the worker and fails the test, not the runner.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

/** tsx's ESM API (a dev dependency of this package), for the worker to load the TypeScript source. */
function tsxApi(): string {
  // The require condition resolves dist/esm/api/index.cjs; its ESM sibling is what a worker imports.
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(path.join(path.dirname(cjs), 'index.mjs')).href;
}

const RSS_GROWTH_LIMIT_MB = 400;

function runInWorker(
  kind: 'zero-filled' | 'all-tied' | 'trend',
  n: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(here, 'theilSenMemory.worker.mjs'), {
      workerData: {
        tsxApi: tsxApi(),
        source: pathToFileURL(path.join(here, '../src/')).href,
        kind,
        n,
      },
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    const baseline = process.memoryUsage().rss;
    const watch = setInterval(() => {
      const grown = (process.memoryUsage().rss - baseline) / 2 ** 20;
      if (grown > RSS_GROWTH_LIMIT_MB) {
        clearInterval(watch);
        void worker.terminate();
        reject(new Error(`resident memory grew by ${Math.round(grown)} MB`));
      }
    }, 20);
    worker.once('message', (m) => {
      clearInterval(watch);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearInterval(watch);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearInterval(watch);
      reject(new Error(`worker exited with code ${code}`));
    });
  });
}

describe('Theil–Sen memory stays O(n) on 40,000-point tied series', () => {
  it('a zero-filled series with two non-zero values', async () => {
    const r = await runInWorker('zero-filled', 40_000);
    expect(r).toEqual({ slope: 0, slopeCI95: [0, 0] });
  });

  it('an all-tied series', async () => {
    const r = await runInWorker('all-tied', 40_000);
    expect(r).toEqual({ slope: 0, slopeCI95: [0, 0] });
  });

  it('the whole trend report on the zero-filled series', async () => {
    // Mann–Kendall S: the n − 2 pairs falling from 72.4 on day 0 and the n − 2 rising to 73.1 on the
    // last day cancel, leaving the pair (72.4, 73.1): S = 1.
    const r = await runInWorker('trend', 40_000);
    expect(r).toEqual({ slope: 0, slopeCI95: [0, 0], s: 1, direction: 'flat' });
  });
});
