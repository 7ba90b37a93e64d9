// `pnpm bench`: every benchmark in turn. Each prints its own table of figures and of ratios
// against a baseline measured in the same process. Benchmarks are never part of `pnpm test`.
import { cpus } from 'node:os';
import { runAnalyticsBench } from './analytics.ts';

const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  analytics: runAnalyticsBench,
};

console.log(
  `Life XP benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
);
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`\n## ${name}`);
  await run();
}
