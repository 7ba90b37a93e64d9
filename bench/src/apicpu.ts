// Where a request's CPU goes: Life XP and the bare route (api.ts's) each run as a process of their
// own, with autocannon in this one. For each measured window a server reports the CPU its process used
// (all threads) and a profile of its main thread, grouped by where the time went, per request. This
// is the floor analysis behind `bench api`'s ratios: what the bare route spends is the least a request
// can cost, and the rest of Life XP's is named by package.
//
//   pnpm exec tsx src/apicpu.ts [--duration=8] [--warmup=2] [--connections=64] [--rounds=2]
//
// PostgreSQL's own CPU is not counted: it is the same statement count for the list, and for a create
// `bench api` and the pgbench figures in docs/benchmarks.md give it.
import { type ChildProcess, spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { bareApp, LIST_LIMIT, listen, POOL } from './api.ts';
import {
  createMoodMetric,
  machineLine,
  numberFlag,
  ratio,
  round,
  signUp,
  startLifeXp,
  trpc,
  withThrowawayDatabase,
} from './support.ts';

const DURATION = numberFlag('duration', 8);
const WARMUP = numberFlag('warmup', 2);
const CONNECTIONS = numberFlag('connections', 64);
const ROUNDS = numberFlag('rounds', 2, 1);
const SERVE = process.argv.find((arg) => arg.startsWith('--serve='))?.slice('--serve='.length);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a profile node's own time goes: a package, Node itself, the collector, idle, or our code. */
export function placeOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return 'idle (waiting on I/O)';
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8 (compiling, runtime)';
    return 'Node (HTTP, streams, sockets)';
  }
  if (url.startsWith('node:')) return 'Node (HTTP, streams, sockets)';
  const inModules = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (inModules) {
    const name = inModules[1]!;
    if (name === '@trpc/server') return 'tRPC';
    if (name === 'hono' || name === '@hono/node-server') return 'Hono';
    if (name === 'drizzle-orm') return 'Drizzle';
    if (name === 'postgres') return 'postgres.js';
    if (name === 'zod') return 'zod';
    if (name === 'pino' || name.startsWith('@pinojs/')) return 'logging (pino)';
    return `other packages (${name})`;
  }
  if (url.includes('/bench/src/')) return 'the route itself';
  if (/\/(apps|packages)\/[^/]+\/src\//.test(url)) return 'Life XP code';
  return 'other';
}

/** Self time per place, in ms, over the whole profile. */
function placesOf(profile: Profile): Record<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const places: Record<string, number> = {};
  profile.samples.forEach((id, i) => {
    const place = placeOf(byId.get(id)!.callFrame);
    places[place] = (places[place] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return places;
}

/** The child: one server, profiled between 'start' and 'stop' lines on stdin; answers on stdout. */
async function serve(kind: string): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL!;
  let close: () => Promise<unknown>;
  let url: string;
  if (kind === 'lifexp') {
    const server = await startLifeXp(databaseUrl, POOL);
    ({ url } = server);
    close = () => server.close();
  } else {
    const sql = postgres(databaseUrl, { max: POOL, onnotice: () => {} });
    const bare = await listen(bareApp(sql));
    ({ url } = bare);
    close = async () => {
      await bare.close();
      await sql.end({ timeout: 5 });
    };
  }
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  answer({ url });
  let cpuAtStart = process.cpuUsage();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'start') {
      await session.post('Profiler.start');
      cpuAtStart = process.cpuUsage();
      answer({ started: true });
    } else if (line === 'stop') {
      const cpu = process.cpuUsage(cpuAtStart);
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
      answer({ cpuMs: (cpu.user + cpu.system) / 1000, places: placesOf(profile) });
    } else if (line === 'exit') {
      break;
    }
  }
  session.disconnect();
  await close();
  process.exit(0);
}

interface ChildServer {
  url: string;
  ask(line: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startChild(kind: 'lifexp' | 'bare', databaseUrl: string): Promise<ChildServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), `--serve=${kind}`],
    { env: { ...process.env, BENCH_DATABASE_URL: databaseUrl }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the ${kind} server process ended`);
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  const { url } = (await next()) as { url: string };
  return {
    url,
    ask: async (line) => {
      child.stdin!.write(`${line}\n`);
      return next();
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.write('exit\n');
      await exited;
    },
  };
}

interface Measured {
  reqPerSec: number;
  requests: number;
  cpuMs: number;
  places: Record<string, number>;
}

async function measure(server: ChildServer, target: autocannon.Options): Promise<Measured> {
  await autocannon({ ...target, connections: CONNECTIONS, duration: WARMUP });
  await server.ask('start');
  const result = await autocannon({ ...target, connections: CONNECTIONS, duration: DURATION });
  const { cpuMs, places } = (await server.ask('stop')) as { cpuMs: number; places: Record<string, number> };
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${target.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  }
  return { reqPerSec: result.requests.average, requests: result.requests.total, cpuMs, places };
}

export async function runApiCpuBench(): Promise<void> {
  console.log(machineLine());
  await withThrowawayDatabase(async (database) => {
    const lifeXp = await startChild('lifexp', database.url);
    const bare = await startChild('bare', database.url);
    try {
      const { userId, token } = await signUp(lifeXp.url, 'bench-api-cpu@example.com');
      const metricId = await createMoodMetric(lifeXp.url, token);
      const body = JSON.stringify({ metricId, value: 3, date: '2026-03-01' });
      // A page to list from the first measured request on.
      for (let i = 0; i <= LIST_LIMIT; i++)
        await trpc(lifeXp.url, 'entries.create', JSON.parse(body), { token });
      const listInput = `input=${encodeURIComponent(JSON.stringify({ limit: LIST_LIMIT }))}`;
      const lifeXpHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const bareHeaders = { 'x-user-id': userId, 'content-type': 'application/json' };
      const cases = [
        {
          name: 'entries.create · 1 user',
          lifeXp: { url: `${lifeXp.url}/trpc/entries.create`, method: 'POST', headers: lifeXpHeaders, body },
          bare: { url: `${bare.url}/entries`, method: 'POST', headers: bareHeaders, body },
        },
        {
          name: `entries.list · ${LIST_LIMIT} rows`,
          lifeXp: {
            url: `${lifeXp.url}/trpc/entries.list?${listInput}`,
            method: 'GET',
            headers: lifeXpHeaders,
          },
          bare: { url: `${bare.url}/entries?${listInput}`, method: 'GET', headers: bareHeaders },
        },
      ] as const;
      console.log(
        `${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured, ${ROUNDS} rounds taking ` +
          'turns; each server in its own process, autocannon in this one; CPU is the server process’s ' +
          '(all threads), the places are its main thread’s profile',
      );
      const totals: Record<string, string | number>[] = [];
      for (const c of cases) {
        const runs: Record<'lifeXp' | 'bare', Measured[]> = { lifeXp: [], bare: [] };
        for (let round = 0; round < ROUNDS; round++) {
          runs.lifeXp.push(await measure(lifeXp, c.lifeXp as autocannon.Options));
          runs.bare.push(await measure(bare, c.bare as autocannon.Options));
        }
        // Sums over the rounds: per-request figures weigh every request alike.
        const sum = (list: Measured[]) => ({
          requests: list.reduce((n, m) => n + m.requests, 0),
          reqPerSec: list.reduce((n, m) => n + m.reqPerSec, 0) / list.length,
          cpuMs: list.reduce((n, m) => n + m.cpuMs, 0),
          places: list.reduce<Record<string, number>>((all, m) => {
            for (const [place, ms] of Object.entries(m.places)) all[place] = (all[place] ?? 0) + ms;
            return all;
          }, {}),
        });
        const lx = sum(runs.lifeXp);
        const floor = sum(runs.bare);
        const perRequest = (ms: number, requests: number) => round((ms * 1000) / requests, 0);
        totals.push(
          ...(
            [
              ['Life XP', lx],
              ['bare route', floor],
            ] as const
          ).map(([server, m]) => ({
            case: c.name,
            server,
            'req/s': round(m.reqPerSec, 0),
            'CPU µs / request': perRequest(m.cpuMs, m.requests),
            'main thread µs / request (not idle)': perRequest(
              Object.entries(m.places)
                .filter(([place]) => !place.startsWith('idle'))
                .reduce((n, [, ms]) => n + ms, 0),
              m.requests,
            ),
          })),
        );
        const places = [...new Set([...Object.keys(lx.places), ...Object.keys(floor.places)])]
          .map((place) => ({
            place,
            lifeXp: perRequest(lx.places[place] ?? 0, lx.requests),
            bare: perRequest(floor.places[place] ?? 0, floor.requests),
          }))
          .filter((row) => row.lifeXp >= 5 || row.bare >= 5)
          .sort((a, b) => b.lifeXp - a.lifeXp);
        console.log(`\n${c.name}: the main thread's time per request, µs, by where it went`);
        console.table(
          places.map((row) => ({
            place: row.place,
            'Life XP µs': row.lifeXp,
            'bare µs': row.bare,
            'Life XP − bare µs': row.lifeXp - row.bare,
          })),
        );
      }
      console.table(totals);
      for (const c of cases) {
        const [lx, floor] = totals.filter((row) => row.case === c.name);
        console.log(
          `${c.name}: CPU per request ${ratio(Number(lx!['CPU µs / request']), Number(floor!['CPU µs / request']))} ` +
            `of the bare route's; req/s ${ratio(Number(lx!['req/s']), Number(floor!['req/s']))}`,
        );
      }
      console.log(machineLine());
    } finally {
      await lifeXp.stop();
      await bare.stop();
    }
  });
}

if (SERVE) await serve(SERVE);
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runApiCpuBench();
