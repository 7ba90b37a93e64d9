// `pnpm bench`: every benchmark in turn, or the one named (`pnpm bench api`). Each prints its own
// table of figures and of ratios against a baseline measured in the same process. Benchmarks are
// never part of `pnpm test`.
import { cpus, loadavg } from 'node:os';
import { runAnalyticsBench } from './analytics.ts';
import { runApiBench } from './api.ts';
import { runDataBench } from './data.ts';
import { runInsightsBench } from './insights.ts';
import { runSyncBench } from './sync.ts';

const benches: Record<string, () => Promise<void>> = {
  analytics: runAnalyticsBench,
  api: runApiBench,
  sync: runSyncBench,
  insights: runInsightsBench,
  data: runDataBench,
};

const only = process.argv.slice(2).find((arg) => !arg.startsWith('--'));
if (only && !benches[only]) {
  console.error(`unknown benchmark "${only}"; choose one of ${Object.keys(benches).join(', ')}`);
  process.exit(1);
}
console.log(
  `Life XP benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`\n## ${name}`);
  await run();
}
