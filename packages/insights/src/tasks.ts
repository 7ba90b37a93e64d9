import { isMainThread, threadId } from 'node:worker_threads';
import type { CorrelationsInput } from '@lifexp/contracts';
import { computeCorrelations, computeInsights, computeTrends, type SeriesInput } from './compute';

export type AnalyticsTask =
  | { kind: 'correlations'; inputs: SeriesInput[]; params: CorrelationsInput }
  | { kind: 'trends'; inputs: SeriesInput[] }
  | { kind: 'insights'; inputs: SeriesInput[]; params: { q: number; minN: number; to: string } }
  /** Diagnostics: which thread runs the tasks; `crash` ends that worker thread without an answer. */
  | { kind: 'probe'; crash?: boolean };

export interface ProbeResult {
  threadId: number;
  isMainThread: boolean;
}

export type TaskResult<T extends AnalyticsTask> = T extends { kind: 'correlations' }
  ? ReturnType<typeof computeCorrelations>
  : T extends { kind: 'trends' }
    ? ReturnType<typeof computeTrends>
    : T extends { kind: 'probe' }
      ? ProbeResult
      : ReturnType<typeof computeInsights>;

export function runTask(task: AnalyticsTask): unknown {
  switch (task.kind) {
    case 'correlations':
      return computeCorrelations(task.inputs, task.params);
    case 'trends':
      return computeTrends(task.inputs);
    case 'insights':
      return computeInsights(task.inputs, task.params);
    case 'probe':
      // In a worker thread, process.exit ends only that thread (the pool must replace it).
      if (task.crash && !isMainThread) process.exit(70);
      return { threadId, isMainThread } satisfies ProbeResult;
  }
}
