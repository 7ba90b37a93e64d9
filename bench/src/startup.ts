// Start-up time to a passing /readyz and idle memory (RSS), the TypeScript sources through tsx against
// the esbuild bundle run by plain node, on both databases. The bundle is built first when missing.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, numberFlag, percentile, round, sleep, withThrowawayDatabase } from './support';

const serverDir = fileURLToPath(new URL('../../apps/server/', import.meta.url));
const bundle = join(serverDir, 'dist/main.mjs');

const variants = {
  'sources (tsx)': { args: ['--import', 'tsx', 'src/main.ts'], cwd: serverDir },
  'bundle (node)': { args: [bundle], cwd: join(serverDir, 'dist') },
} as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Spawns the server, times it to a 200 from /readyz, waits `idleMs`, reads its RSS, stops it. */
async function once(
  variant: (typeof variants)[keyof typeof variants],
  env: Record<string, string>,
  idleMs: number,
): Promise<{ readyMs: number; rssMb: number }> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...variant.args], {
    cwd: variant.cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) break;
      await sleep(10);
    }
    const readyMs = performance.now() - started;
    await sleep(idleMs);
    return { readyMs, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export async function runStartupBench(): Promise<void> {
  const runs = numberFlag('runs', 5, 1, 50);
  const idleMs = numberFlag('idle-ms', 5000, 0, 60_000);
  console.log(machineLine());
  if (!existsSync(bundle)) {
    console.log('building the bundle first…');
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: serverDir, stdio: 'inherit' });
  }
  console.log(
    `${runs} starts each (after one warm-up start that also creates and migrates the database), ` +
      `median and worst; RSS after ${idleMs} ms idle\n`,
  );
  console.log('| database | server | start to /readyz, median (worst) | idle RSS, median (worst) |');
  console.log('| -------- | ------ | -------------------------------- | ------------------------ |');

  const measure = async (database: string, env: Record<string, string>) => {
    for (const [name, variant] of Object.entries(variants)) {
      await once(variant, env, 0);
      const results = [];
      for (let run = 0; run < runs; run++) results.push(await once(variant, env, idleMs));
      const ready = results.map((result) => result.readyMs).sort((a, b) => a - b);
      const rss = results.map((result) => result.rssMb).sort((a, b) => a - b);
      console.log(
        `| ${database} | ${name} | ${round(percentile(ready, 50), 0)} ms (${round(ready.at(-1)!, 0)} ms) | ` +
          `${round(percentile(rss, 50), 0)} MB (${round(rss.at(-1)!, 0)} MB) |`,
      );
    }
  };

  const dataDir = mkdtempSync(join(tmpdir(), 'lifexp-bench-startup-'));
  try {
    await measure('PGlite', { DATA_DIR: join(dataDir, 'data') });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  await withThrowawayDatabase((db) => measure('PostgreSQL', { DATABASE_URL: db.url }));
}
