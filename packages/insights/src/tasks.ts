import { isMainThread, threadId } from 'node:worker_threads';
import {
  type CorrelationParams,
  computeInsights,
  computeTrends,
  correlationPage,
  LimitError,
  type RankedCorrelations,
  rankCorrelations,
  type SeriesInput,
} from './compute';

export type AnalyticsTask =
  | {
      kind: 'correlations';
      inputs: SeriesInput[];
      params: CorrelationParams;
      /** The answer's JSON may not be larger than this (a page too large is refused). */
      maxAnswerBytes?: number;
      /** The ranked findings come back too, for the pages that follow, when there are at most this many. */
      keepRankedUpTo?: number;
    }
  | { kind: 'trends'; inputs: SeriesInput[]; maxAnswerBytes?: number }
  | { kind: 'insights'; inputs: SeriesInput[]; params: { q: number; minN: number; to: string } }
  /** Diagnostics: which thread runs the tasks; `crash` ends that worker thread without an answer. */
  | {
      kind: 'probe';
      crash?: boolean;
      /** Busy for this long (a slow task, for scheduling tests). */
      spinMs?: number;
      /** Holds this many MB on the heap (a blow-up, for the memory limit). */
      allocateMb?: number;
      /** Echoed back. */
      tag?: string;
    };

export interface ProbeResult {
  threadId: number;
  isMainThread: boolean;
  tag?: string;
}

export type TaskResult<T extends AnalyticsTask> = T extends { kind: 'correlations' }
  ? ReturnType<typeof correlationPage> & { ranked?: RankedCorrelations }
  : T extends { kind: 'trends' }
    ? ReturnType<typeof computeTrends>
    : T extends { kind: 'probe' }
      ? ProbeResult
      : ReturnType<typeof computeInsights>;

export function runTask(task: AnalyticsTask): unknown {
  switch (task.kind) {
    case 'correlations': {
      const ranked = rankCorrelations(task.inputs, task.params);
      const page = limitAnswer(correlationPage(task.inputs, ranked, task.params), task.maxAnswerBytes);
      return ranked.kept.length <= (task.keepRankedUpTo ?? -1) ? { ...page, ranked } : page;
    }
    case 'trends':
      return limitAnswer(computeTrends(task.inputs), task.maxAnswerBytes);
    case 'insights':
      return computeInsights(task.inputs, task.params);
    case 'probe':
      // In a worker thread, process.exit ends only that thread (the pool must replace it).
      if (task.crash && !isMainThread) process.exit(70);
      if (task.spinMs) {
        const until = Date.now() + task.spinMs;
        while (Date.now() < until) {
          // busy, as a long scan is
        }
      }
      if (task.allocateMb) {
        const held: number[][] = [];
        // Small arrays on the V8 heap (not off-heap buffers), as a blow-up of findings would be.
        for (let mb = 0; mb < task.allocateMb; mb++) held.push(new Array(131_072).fill(mb + 0.5));
        if (held.length < 0) return held;
      }
      return { threadId, isMainThread, ...(task.tag ? { tag: task.tag } : {}) } satisfies ProbeResult;
  }
}

/** An answer whose JSON is larger than the limit is refused, never sent or cached. */
export function limitAnswer<T>(answer: T, maxBytes: number | undefined): T {
  if (maxBytes === undefined) return answer;
  const bytes = Buffer.byteLength(JSON.stringify(answer));
  if (bytes > maxBytes) {
    throw new LimitError(
      `the answer would be ${bytes} bytes, over the ${maxBytes}-byte limit; ask for a smaller page (limit)`,
    );
  }
  return answer;
}
