// The insights domain: daily series in, findings with plain sentences out, computed in worker threads,
// cached per data version, and stored as the user's insight set.
export {
  computeCorrelations,
  computeInsights,
  computeTrends,
  type MetricMeta,
  type SeriesInput,
  strengthOf,
  TENTATIVE_BELOW,
} from './compute';
export { createPacer, type Pacer, type PacerClock } from './pacer';
export {
  type AnalyticsService,
  type AnalyticsSettings,
  createAnalyticsService,
  toSeriesInput,
} from './service';
