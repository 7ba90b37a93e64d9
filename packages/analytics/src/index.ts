// @lifexp/analytics: the pure-math package behind every insight. No I/O, no runtime dependencies.

export {
  autocorrelations,
  effectiveSampleSize,
  effectiveSampleSizeAcf,
  kpssStatistic,
  lag1Autocorrelation,
  localMeanSquares,
  longestRunAtBound,
  varianceConcentration,
} from './autocorrelation';
export type { BinaryInput, PointBiserialResult, WelchResult } from './binary';
export { pointBiserial, welchTTest } from './binary';
export { addDays, dateFromDayNumber, dayNumber, daysBetween, isoWeekday, localToday } from './dates';
export type { DetrendMethod, ResidualOptions, SeriesTrend } from './detrend';
export { residualValues } from './detrend';
export {
  chiSquareSf,
  correlationPValue,
  normalCdf,
  normalQuantile,
  normalSf,
  normalTwoSided,
  studentTSf,
  studentTTwoSided,
} from './distributions';
export { benjaminiHochberg } from './fdr';
export { fisherInterval } from './fisher';
export type { KendallResult } from './kendall';
export { kendall } from './kendall';
export type { KruskalWallisResult } from './kruskal';
export { kruskalWallis } from './kruskal';
export type { MannKendallResult } from './mannKendall';
export { mannKendall } from './mannKendall';
export type { PearsonResult } from './pearson';
export { pearson } from './pearson';
export { prng, seededRandom } from './random';
export { averageRanks } from './ranks';
export type { LinearRegressionResult } from './regression';
export { linearRegression } from './regression';
export type {
  ScanFinding,
  ScanMethod,
  ScanOptions,
  ScanResult,
  ScanSeries,
  SkippedPair,
  SkippedSeries,
} from './scan';
export { correlationScan } from './scan';
export { dot } from './scanSeries';
export type { AlignedSeries, DailySeries } from './series';
export { alignSeries } from './series';
export type { SpearmanResult } from './spearman';
export { spearman } from './spearman';
export { betaIncReg, betaIncRegUpper, gammaIncReg, gammaIncRegUpper, logBeta, logGamma } from './special';
export type { Streak, StreakOptions, StreakReport } from './streaks';
export { streaks } from './streaks';
export { mean, median, sampleVariance } from './summary';
export type { TheilSenResult } from './theilSen';
export { theilSen } from './theilSen';
export type { TrendOptions, TrendReport } from './trend';
export { trendReport } from './trend';
export type { Interval, NotComputable, NotComputableReason, NumericInput, Result } from './types';
export type { WeekdayPattern, WeekdayStats } from './weekday';
export { WEEKDAY_NAMES, weekdayPattern } from './weekday';
