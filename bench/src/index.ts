// `pnpm bench`: every benchmark in turn, or the one named (`pnpm bench api`). Each prints its own
// table of figures and of ratios against a baseline measured in the same process. Benchmarks are
// never part of `pnpm test`.
//
// Each benchmark's modules are loaded only when it runs: the analytics math is measured as the server's
// analytics worker threads run it, with nothing else loaded (the server, Drizzle and the rest loaded
// beside it made the same scans about a third slower in this process).
import { cpus, loadavg } from 'node:os';

const benches: Record<string, () => Promise<void>> = {
  analytics: async () => (await import('./analytics.ts')).runAnalyticsBench(),
  api: async () => (await import('./api.ts')).runApiBench(),
  'api-cpu': async () => (await import('./apicpu.ts')).runApiCpuBench(),
  sync: async () => (await import('./sync.ts')).runSyncBench(),
  insights: async () => (await import('./insights.ts')).runInsightsBench(),
  hostile: async () => (await import('./hostile.ts')).runHostileBench(),
  data: async () => (await import('./data.ts')).runDataBench(),
  calibration: async () => (await import('./calibration.ts')).runCalibrationBench(),
  startup: async () => (await import('./startup.ts')).runStartupBench(),
  notifications: async () => (await import('./notifications.ts')).runNotificationsBench(),
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
