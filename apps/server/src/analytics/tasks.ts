import type { CorrelationsInput } from '@lifexp/contracts';
import { computeCorrelations, computeInsights, computeTrends, type SeriesInput } from './compute';

export type AnalyticsTask =
  | { kind: 'correlations'; inputs: SeriesInput[]; params: CorrelationsInput }
  | { kind: 'trends'; inputs: SeriesInput[] }
  | { kind: 'insights'; inputs: SeriesInput[]; params: { q: number; minN: number; to: string } };

export type TaskResult<T extends AnalyticsTask> = T extends { kind: 'correlations' }
  ? ReturnType<typeof computeCorrelations>
  : T extends { kind: 'trends' }
    ? ReturnType<typeof computeTrends>
    : ReturnType<typeof computeInsights>;

export function runTask(task: AnalyticsTask): unknown {
  switch (task.kind) {
    case 'correlations':
      return computeCorrelations(task.inputs, task.params);
    case 'trends':
      return computeTrends(task.inputs);
    case 'insights':
      return computeInsights(task.inputs, task.params);
  }
}
