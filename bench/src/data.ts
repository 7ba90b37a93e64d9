// Benchmark of import and export on PostgreSQL: importStream, importDocument, exportJson and exportCsv over N entries
// (entries per second and peak RSS), beside PostgreSQL's own COPY of the same rows in the same run as
// the ceiling. Flags: --entries N (default 200,000; the issue's figure is --entries 1000000).
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { localToday } from '@lifexp/analytics';
import { checkEntryValue, parseMetricConfig, type TypedMetric } from '@lifexp/contracts';
import {
  createDb,
  createDemoDocument,
  type Database,
  exportCsv,
  exportJson,
  importDocument,
  importStream,
  registerUser,
  schema,
} from '@lifexp/db';
import postgres from 'postgres';
import { machineLine, numberFlag, withThrowawayDatabase } from './support.ts';

const NOISE_METRICS = 53; // 60 metrics: about 52 entries per day of history
const COPY_CHUNK_ROWS = 5_000;
const COPY_COLUMNS = 'id, user_id, metric_id, value, numeric_value, date, time, notes, tags';

// ---------------------------------------------------------------------------------------------
// Small helpers (copied, not shared: each bench file stands alone)

/** A full garbage collection between phases, so that each starts from settled memory (when available). */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // not available: phases start from whatever memory the last one left
  }
  return () => {};
})();

/**
 * The process's peak RSS, sampled every 50 ms by a worker thread: RSS is per process, and a thread
 * of its own keeps sampling while the main thread is busy with synchronous work.
 */
function startRssSampler() {
  const peak = new Int32Array(new SharedArrayBuffer(4)); // KiB
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const peak = new Int32Array(workerData);
     setInterval(() => {
       const kib = Math.round(process.memoryUsage.rss() / 1024);
       if (kib > Atomics.load(peak, 0)) Atomics.store(peak, 0, kib);
     }, 50);`,
    { eval: true, workerData: peak.buffer },
  );
  worker.unref();
  return {
    /** Starts a phase: returns a function giving the phase's peak RSS above its start, in MiB. */
    phase(): () => number {
      const startKib = Math.round(process.memoryUsage.rss() / 1024);
      Atomics.store(peak, 0, startKib);
      return () => {
        const nowKib = Math.round(process.memoryUsage.rss() / 1024);
        return (Math.max(Atomics.load(peak, 0), nowKib) - startKib) / 1024;
      };
    },
    stop: () => worker.terminate(),
  };
}

// ---------------------------------------------------------------------------------------------

type Document = ReturnType<typeof createDemoDocument>;

/** A demo document (60 metrics with planted effects and noise) cut to exactly `count` entries. */
function documentOf(count: number, end: string): Document {
  let days = Math.ceil(count / 48) + 10;
  for (let attempt = 0; attempt < 5; attempt++) {
    const document = createDemoDocument({ days, end, noiseMetrics: NOISE_METRICS, seed: 42 });
    if (document.entries.length >= count) {
      document.entries.length = count;
      return document;
    }
    days = Math.ceil(days * 1.25);
  }
  throw new Error(`could not generate ${count} entries`);
}

/** The document as JSON text, made lazily in chunks of 1,000 entries (as a file would be read). */
function* documentText(document: Document): Generator<string> {
  const { entries, ...head } = document;
  const headText = JSON.stringify(head);
  yield `${headText.slice(0, -1)},"entries":[`;
  for (let start = 0; start < entries.length; start += 1_000)
    yield (start ? ',' : '') +
      entries
        .slice(start, start + 1_000)
        .map((e) => JSON.stringify(e))
        .join(',');
  yield ']}';
}

/** A COPY text-format field: backslash, tab, newline and carriage return escaped. */
function copyField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** A PostgreSQL text[] literal. */
function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** The document's entries as COPY text rows for `userId`, fresh ids, metric ids mapped; in chunks. */
function* copyRows(
  document: Document,
  userId: string,
  metricIds: Map<string, string>,
  typed: Map<string, TypedMetric>,
): Generator<string> {
  let chunk = '';
  let rows = 0;
  for (const entry of document.entries) {
    const check = checkEntryValue(typed.get(entry.metricId)!, entry.value);
    const numeric = check.ok ? check.numericValue : null;
    chunk +=
      `${randomUUID()}\t${userId}\t${metricIds.get(entry.metricId)}\t${copyField(JSON.stringify(entry.value))}\t` +
      `${numeric === null ? '\\N' : String(numeric)}\t${entry.date}\t${entry.time ?? '\\N'}\t` +
      `${entry.notes === undefined ? '\\N' : copyField(entry.notes)}\t${copyField(arrayLiteral(entry.tags ?? []))}\n`;
    rows += 1;
    if (rows === COPY_CHUNK_ROWS) {
      yield chunk;
      chunk = '';
      rows = 0;
    }
  }
  if (chunk) yield chunk;
}

interface Phase {
  phase: string;
  entries: number;
  seconds: number;
  peakRssMiB: number;
  startRssMiB: number;
  bytes?: number;
}

type Measure = (phase: string, entries: number, work: () => Promise<number | undefined>) => Promise<void>;

/** importDocument of the document, then COPY of the same rows (fresh ids) into a second account. */
async function importPhases(
  database: Database,
  sql: postgres.Sql,
  measure: Measure,
  count: number,
  today: string,
  ownerId: string,
  secondId: string,
  ceilingId: string,
  record: (phase: Phase) => void,
): Promise<void> {
  const started = performance.now();
  const document = documentOf(count, today);
  const first = document.entries[0]!.date;
  console.log(
    `${count} entries over ${document.metrics.length} metrics, ${first} to ${today}; ` +
      `generated in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  // -- import: the app's path, then COPY of the same rows (fresh ids) into a second account
  // The upload route's and the command line's path: the document's text, read from a file as it
  // streams, in a fresh child process (this one holds the document, which would hide the import's
  // own memory behind the heap's headroom).
  const file = join(tmpdir(), `lifexp-bench-${randomUUID()}.json`);
  const out = createWriteStream(file);
  for (const chunk of documentText(document))
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  out.end();
  await finished(out);
  try {
    const result = await jobInChild({ url: database.url!, userId: ownerId, kind: 'import', count, file });
    record({ phase: 'import: importStream (JSON file, streamed)', entries: count, ...result });
    console.log(`  import: importStream: ${result.seconds.toFixed(1)} s (in a child process)`);
  } finally {
    await rm(file, { force: true });
  }
  // tRPC's path: the document already parsed (with ids of its own: ids another account holds take the
  // slower path of derived ids, which is not what is measured here).
  const fresh = new Map<string, string>(document.metrics.map((metric) => [metric.id, randomUUID()]));
  const copy = {
    ...document,
    metrics: document.metrics.map((metric) => ({ ...metric, id: fresh.get(metric.id)! })),
    entries: document.entries.map((entry) => ({
      ...entry,
      id: randomUUID(),
      metricId: fresh.get(entry.metricId)!,
    })),
  };
  await measure('import: importDocument (parsed document)', count, async () => {
    const report = await importDocument(database.db, secondId, copy);
    if (report.entries.created !== count)
      throw new Error(`importDocument created ${report.entries.created} of ${count} entries`);
    return undefined;
  });
  const typed = new Map<string, TypedMetric>();
  const metricIds = new Map<string, string>();
  for (const metric of document.metrics) {
    const parsed = parseMetricConfig(metric.type as TypedMetric['type'], metric.config);
    if (!parsed.success) throw new Error(`metric ${metric.name}: ${parsed.error.message}`);
    typed.set(metric.id, { type: metric.type, config: parsed.data } as TypedMetric);
    metricIds.set(metric.id, randomUUID());
  }
  await database.db.insert(schema.metrics).values(
    document.metrics.map((metric) => ({
      id: metricIds.get(metric.id)!,
      userId: ceilingId,
      name: metric.name,
      type: metric.type as TypedMetric['type'],
      category: metric.category,
      config: typed.get(metric.id)!.config as Record<string, unknown>,
    })),
  );
  await measure('import ceiling: COPY entries FROM STDIN', count, async () => {
    const writable = await sql.unsafe(`copy entries (${COPY_COLUMNS}) from stdin`).writable();
    await pipeline(Readable.from(copyRows(document, ceilingId, metricIds, typed)), writable);
    const [row] = await sql<
      { n: number }[]
    >`select count(*)::int as n from entries where user_id = ${ceilingId}`;
    if (row?.n !== count) throw new Error(`COPY wrote ${row?.n} of ${count} entries`);
    return undefined;
  });
}

type ExportKind = 'json' | 'csv' | 'copy' | 'import';
interface ExportJob {
  url: string;
  userId: string;
  kind: ExportKind;
  count: number;
  /** The document to import (kind `import`). */
  file?: string;
}
type ExportResult = Pick<Phase, 'seconds' | 'peakRssMiB' | 'startRssMiB' | 'bytes'>;
const CHILD_ENV = 'LIFEXP_BENCH_EXPORT_JOB';
const CHILD_TIMEOUT_MS = 20 * 60_000;

/** One export of the user's entries to a null sink (or the import of a file); returns the bytes. */
async function exportOnce(database: Database, sql: postgres.Sql, job: ExportJob): Promise<number> {
  let bytes = 0;
  let lines = 0;
  if (job.kind === 'import') {
    const report = await importStream(database.db, job.userId, createReadStream(job.file!), 'json');
    if (report.entries.created !== job.count)
      throw new Error(`importStream created ${report.entries.created} of ${job.count} entries`);
    return (await stat(job.file!)).size;
  }
  if (job.kind === 'json') {
    for await (const chunk of exportJson(database.db, job.userId, { format: 'json' }))
      bytes += Buffer.byteLength(chunk);
    return bytes;
  }
  if (job.kind === 'csv') {
    for await (const chunk of exportCsv(database.db, job.userId, { format: 'csv' })) {
      bytes += Buffer.byteLength(chunk);
      for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) lines += 1;
    }
    if (lines !== job.count + 1) throw new Error(`exportCsv wrote ${lines - 1} of ${job.count} rows`);
    return bytes;
  }
  // COPY takes no parameters; the id is a uuid this run created.
  if (!/^[0-9a-f-]{36}$/.test(job.userId)) throw new Error('unexpected user id');
  const readable = await sql
    .unsafe(
      `copy (select id, metric_id, value, numeric_value, date, time, notes, tags from entries ` +
        `where user_id = '${job.userId}' and deleted_at is null order by date, id) to stdout`,
    )
    .readable();
  for await (const chunk of readable as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  if (lines !== job.count) throw new Error(`COPY TO wrote ${lines} of ${job.count} rows`);
  return bytes;
}

/** The child's side: connect, run one export while sampling RSS, report to the parent. */
async function exportChild(job: ExportJob): Promise<void> {
  const database = await createDb({ databaseUrl: job.url, poolMax: 2, migrate: false });
  const sql = postgres(job.url, { max: 1, onnotice: () => {} });
  const sampler = startRssSampler();
  try {
    collectGarbage();
    const startRssMiB = process.memoryUsage.rss() / 1024 / 1024;
    const peak = sampler.phase();
    const started = performance.now();
    const bytes = await exportOnce(database, sql, job);
    const result: ExportResult = {
      seconds: (performance.now() - started) / 1000,
      peakRssMiB: peak(),
      startRssMiB,
      bytes,
    };
    await new Promise<void>((resolve, reject) =>
      process.send!(result, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  } finally {
    await sampler.stop();
    await sql.end({ timeout: 5 });
    await database.close();
  }
}

/** Runs one export in a fresh Node process (same loader flags, so TypeScript runs as here). */
function jobInChild(job: ExportJob): Promise<ExportResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [CHILD_ENV]: JSON.stringify(job) },
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ExportResult | undefined;
    const timer = setTimeout(() => child.kill(), CHILD_TIMEOUT_MS);
    child.on('message', (message) => {
      result = message as ExportResult;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result && code === 0) resolve(result);
      else reject(new Error(`the ${job.kind} export child ended with ${signal ?? `code ${code}`}`));
    });
  });
}

export async function runDataBench(): Promise<void> {
  const count = numberFlag('entries', 200_000, 1_000, 5_000_000);
  console.log(`data — start: ${machineLine()}`);

  await withThrowawayDatabase(async ({ url }) => {
    const database = await createDb({ databaseUrl: url, poolMax: 10 });
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    const sampler = startRssSampler();
    try {
      const { db } = database;
      const today = localToday('UTC');
      const phases: Phase[] = [];
      const measure = async (
        phase: string,
        entries: number,
        work: () => Promise<number | undefined>,
      ): Promise<void> => {
        collectGarbage();
        const startRssMiB = process.memoryUsage.rss() / 1024 / 1024;
        const peak = sampler.phase();
        const started = performance.now();
        const bytes = await work();
        const seconds = (performance.now() - started) / 1000;
        phases.push({
          phase,
          entries,
          seconds,
          peakRssMiB: peak(),
          startRssMiB,
          ...(bytes === undefined ? {} : { bytes }),
        });
        console.log(`  ${phase}: ${seconds.toFixed(1)} s`);
      };

      const owner = await registerUser(db, { email: 'owner@bench.invalid', password: 'bench-password-1' });
      const second = await registerUser(db, { email: 'second@bench.invalid', password: 'bench-password-1' });
      const ceiling = await registerUser(db, { email: 'copy@bench.invalid', password: 'bench-password-1' });
      // In a function of its own, so that the document is garbage once it returns.
      await importPhases(database, sql, measure, count, today, owner.id, second.id, ceiling.id, (p) =>
        phases.push(p),
      );

      // -- export: the app's streams to a null sink, then COPY of the same rows out. Each in a fresh
      // child process: this one keeps the memory the import freed, which would hide any growth.
      await sql`vacuum analyze entries`;
      const exports: [string, ExportKind][] = [
        ['export: exportJson (null sink)', 'json'],
        ['export: exportCsv (null sink)', 'csv'],
        ['export ceiling: COPY (select …) TO STDOUT', 'copy'],
      ];
      for (const [phase, kind] of exports) {
        const result = await jobInChild({ url, userId: owner.id, kind, count });
        phases.push({ phase, entries: count, ...result });
        console.log(`  ${phase}: ${result.seconds.toFixed(1)} s (in a child process)`);
      }

      const rate = (p: Phase) => p.entries / p.seconds;
      const ceilingOf = (p: Phase) =>
        phases.find((c) =>
          c.phase.startsWith(p.phase.startsWith('import') ? 'import ceiling' : 'export ceiling'),
        )!;
      console.log(
        `${count} entries on PostgreSQL (throwaway database). Peak RSS above the phase's start, sampled ` +
          'every 50 ms by a thread of its own; importDocument and COPY FROM run in this process (the ' +
          'document is already in memory), the streamed import (from a file) and each export in a fresh ' +
          'child process. The COPY phases are the baseline; "output MiB" is the file read for the import.',
      );
      console.table(
        phases.map((p) => ({
          phase: p.phase,
          'entries/s': Math.round(rate(p)),
          seconds: Math.round(p.seconds * 10) / 10,
          'RSS at start MiB': Math.round(p.startRssMiB),
          'peak RSS Δ MiB': Math.round(p.peakRssMiB),
          'output MiB': p.bytes === undefined ? '' : Math.round((p.bytes / 1024 / 1024) * 10) / 10,
          '÷ COPY': `${(rate(p) / rate(ceilingOf(p))).toFixed(2)}×`,
        })),
      );
    } finally {
      await sampler.stop();
      await sql.end({ timeout: 5 });
      await database.close();
    }
  });
  console.log(`data — end: ${machineLine()}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const job = process.env[CHILD_ENV];
  if (job) await exportChild(JSON.parse(job) as ExportJob);
  else await runDataBench();
}
