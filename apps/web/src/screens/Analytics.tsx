import { dateFromDayNumber, dayNumber, streaks, theilSen, weekdayPattern } from '@lifexp/analytics';
import type { CorrelationFinding, DailySeriesResult, Metric } from '@lifexp/contracts';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Line,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useTRPC } from '../api';
import { formatP, inDisplayUnit, signed, unitOf } from '../lib/format';
import { Empty, ErrorNote } from '../ui';

/** Stored seconds of a duration metric in its display unit; other values as they are. */
function scaleOf(metric: Metric | undefined): (value: number) => number {
  if (metric?.type !== 'duration') return (value) => value;
  const unit = metric.config.displayUnit;
  return (value) => inDisplayUnit(value, unit);
}

/** Points of the chart, and the Theil–Sen line through them (in the shown unit). */
export function chartData(series: DailySeriesResult, scale: (value: number) => number) {
  if (!series.start) return { points: [], line: null };
  const first = dayNumber(series.start);
  const values = series.values.map((value) => (value === null ? null : scale(value)));
  const fit = theilSen(
    values.map((_, day) => day),
    values,
  );
  const line = fit.ok ? { slopePerDay: fit.slope, intercept: fit.intercept } : null;
  return {
    points: values.map((value, day) => ({
      day,
      date: dateFromDayNumber(first + day),
      value,
      trend: line ? line.intercept + line.slopePerDay * day : null,
    })),
    line,
  };
}

export function Analytics() {
  const trpc = useTRPC();
  const search = useSearch({ from: '/analytics' });
  const navigate = useNavigate({ from: '/analytics' });
  const metrics = useQuery(trpc.metrics.list.queryOptions({ includeArchived: false }));
  const numeric = (metrics.data ?? []).filter((metric) => metric.type !== 'text');
  const selected = numeric.find((metric) => metric.id === search.metricId) ?? numeric[0];
  const progress = useQuery(trpc.analytics.progress.queryOptions());

  return (
    <section aria-labelledby="analytics-heading" className="analytics">
      <div className="screen-head">
        <h1 id="analytics-heading">Analytics</h1>
        {numeric.length > 0 && (
          <label>
            Metric{' '}
            <select
              value={selected?.id ?? ''}
              onChange={(e) => navigate({ search: { metricId: e.target.value }, replace: true })}
            >
              {numeric.map((metric) => (
                <option key={metric.id} value={metric.id}>
                  {metric.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {progress.data && (
        <section className="card xp" aria-label="Progress">
          <div className="level">
            <span className="big-number">{progress.data.level}</span>
            <span className="muted">level</span>
          </div>
          <div className="grow">
            <div className="xp-row">
              <strong>{progress.data.xp} XP</strong>
              <span className="muted">
                {progress.data.xpIntoLevel} / {progress.data.xpForNextLevel} to level{' '}
                {progress.data.level + 1}
              </span>
            </div>
            <progress
              max={progress.data.xpForNextLevel}
              value={progress.data.xpIntoLevel}
              aria-label="Progress to the next level"
            />
            <p className="muted small">
              {progress.data.daysLogged} days logged · {progress.data.entries} entries · current streak{' '}
              {progress.data.currentStreak} days · longest {progress.data.longestStreak}
            </p>
          </div>
        </section>
      )}
      <ErrorNote error={metrics.error} />
      {metrics.isSuccess && numeric.length === 0 && (
        <Empty>Add a metric and log a few days to see charts.</Empty>
      )}
      {selected && <MetricAnalytics key={selected.id} metric={selected} />}
      {numeric.length > 1 && <Correlations metrics={numeric} />}
    </section>
  );
}

function MetricAnalytics({ metric }: { metric: Metric }) {
  const trpc = useTRPC();
  const series = useQuery(trpc.analytics.series.queryOptions({ metricId: metric.id }));
  const trends = useQuery(trpc.analytics.trends.queryOptions({ metricId: metric.id }));
  const scale = scaleOf(metric);
  const unit = unitOf(metric);
  const trend = trends.data?.find((finding) => finding.metric.id === metric.id);
  if (series.error) return <ErrorNote error={series.error} />;
  if (!series.data) return <div className="card chart-card" aria-busy="true" />;
  const { points, line } = chartData(series.data, scale);
  if (points.length === 0) return <Empty>No {metric.name} entries yet.</Empty>;
  const present = points.filter((point) => point.value !== null);
  const daily = { id: metric.id, start: series.data.start!, values: series.data.values };
  const pattern = weekdayPattern(daily);
  const run = streaks(daily, (value) => (metric.type === 'binary' ? value === 1 : true), {
    today: series.data.to,
  });
  const best = present.reduce((top, point) => (point.value! > top.value! ? point : top), present[0]!);
  const low = present.reduce((min, point) => (point.value! < min.value! ? point : min), present[0]!);
  const fmt = (value: number) => `${Number(value.toFixed(2))}${unit ? ` ${unit}` : ''}`;

  return (
    <>
      <div className="card chart-card">
        <h2>{metric.name} over time</h2>
        {trend ? (
          <p className="trend-line" data-testid="trend-summary">
            <strong>
              {signed(trend.slopePerWeek)} {unit || 'per'} {unit ? 'per week' : 'week'}
            </strong>{' '}
            (Theil–Sen), Mann–Kendall p = {formatP(trend.p)}
            {trend.p < 0.05 ? ' — a real trend' : ' — not distinguishable from no trend'}, n = {trend.n}
            {trend.tentative && <span className="pill tentative">tentative</span>}
          </p>
        ) : (
          <p className="muted">
            {line ? `Theil–Sen line: ${signed(line.slopePerDay * 7)} ${unit} per week.` : ''} The trend test
            needs more days.
          </p>
        )}
        <div className="chart" role="img" aria-label={`${metric.name} by day with its Theil–Sen trend line`}>
          <ResponsiveContainer width="100%" height={260}>
            <ComposedChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
              <XAxis dataKey="date" tick={{ fontSize: 11 }} minTickGap={24} />
              <YAxis tick={{ fontSize: 11 }} width={44} domain={['auto', 'auto']} />
              <Tooltip formatter={(value) => (typeof value === 'number' ? fmt(value) : String(value))} />
              <Scatter dataKey="value" name={metric.name} fill="var(--accent)" isAnimationActive={false} />
              <Line
                dataKey="trend"
                name="Theil–Sen trend"
                stroke="var(--accent-2)"
                strokeWidth={2}
                dot={false}
                isAnimationActive={false}
              />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      </div>
      <div className="two-col">
        <div className="card chart-card">
          <h2>By weekday</h2>
          {pattern.ok ? (
            <>
              <div className="chart" role="img" aria-label={`Mean ${metric.name} by weekday`}>
                <ResponsiveContainer width="100%" height={180}>
                  <BarChart data={pattern.days.map((day) => ({ name: day.name, mean: day.mean }))}>
                    <XAxis dataKey="name" tick={{ fontSize: 11 }} />
                    <YAxis tick={{ fontSize: 11 }} width={44} />
                    <Tooltip formatter={(value) => (typeof value === 'number' ? fmt(scale(value)) : '—')} />
                    <Bar
                      dataKey="mean"
                      fill="var(--accent)"
                      radius={[4, 4, 0, 0]}
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <p className="muted small">
                {pattern.test.ok
                  ? `Kruskal–Wallis p = ${formatP(pattern.test.p)}: ${pattern.differ ? 'weekdays differ' : 'no clear weekday rhythm'}.`
                  : 'Too few days to test a weekday rhythm.'}
              </p>
            </>
          ) : (
            <p className="muted">Too few days for a weekday pattern.</p>
          )}
        </div>
        <div className="card">
          <h2>Streaks and records</h2>
          <dl className="stats">
            <dt>Current streak</dt>
            <dd>{run.current?.length ?? 0} days</dd>
            <dt>Longest streak</dt>
            <dd>
              {run.longest ? `${run.longest.length} days (${run.longest.start} – ${run.longest.end})` : '—'}
            </dd>
            <dt>Highest day</dt>
            <dd>
              {fmt(best.value!)} on {best.date}
            </dd>
            <dt>Lowest day</dt>
            <dd>
              {fmt(low.value!)} on {low.date}
            </dd>
            <dt>Days with a value</dt>
            <dd>{present.length}</dd>
          </dl>
        </div>
      </div>
    </>
  );
}

/** Heat colour of a correlation: blue for negative, orange for positive, stronger for larger |r|. */
export function heatColor(effect: number | undefined): string {
  if (effect === undefined || Number.isNaN(effect)) return 'transparent';
  const alpha = Math.min(1, Math.abs(effect)) * 0.85 + 0.08;
  return effect >= 0 ? `rgba(234, 110, 40, ${alpha.toFixed(2)})` : `rgba(50, 110, 220, ${alpha.toFixed(2)})`;
}

function Correlations({ metrics }: { metrics: Metric[] }) {
  const trpc = useTRPC();
  const all = useQuery(trpc.analytics.correlations.queryOptions({ all: true, maxLag: 1, limit: 200 }));
  const answer = all.data;
  const findings = answer?.findings ?? [];
  const significant = findings.filter((finding) => finding.significant);
  const cell = new Map<string, CorrelationFinding>();
  for (const finding of findings) {
    if (finding.lag !== 0) continue;
    cell.set(`${finding.a.id}|${finding.b.id}`, finding);
    cell.set(`${finding.b.id}|${finding.a.id}`, finding);
  }
  return (
    <div className="two-col">
      <div className="card">
        <h2>What goes together</h2>
        <ErrorNote error={all.error} />
        {all.isSuccess && significant.length === 0 && (
          <p className="muted">
            No connection stands out yet ({answer?.testsRun ?? 0} pairs tested). Findings appear when they are
            unlikely to be chance.
          </p>
        )}
        <ul className="findings" aria-label="Correlations">
          {significant.map((finding) => (
            <li key={`${finding.a.id}-${finding.b.id}-${finding.lag}`}>
              <p>
                {finding.sentence}
                {finding.tentative && (
                  <span className="pill tentative" title="Fewer than 60 paired days">
                    tentative
                  </span>
                )}
              </p>
              <p className="muted small">
                r = {finding.effect.toFixed(2)} [{finding.ci95[0].toFixed(2)}, {finding.ci95[1].toFixed(2)}],
                n = {finding.n}, lag {finding.lag} {finding.lag === 1 ? 'day' : 'days'}, q ={' '}
                {formatP(finding.q)}
              </p>
            </li>
          ))}
        </ul>
      </div>
      <div className="card">
        <h2>All pairs, same day</h2>
        <div className="heatmap-wrap">
          <table className="heatmap" aria-label="Correlation heatmap of metric pairs">
            <thead>
              <tr>
                <td />
                {metrics.map((metric) => (
                  <th key={metric.id} scope="col">
                    <span>{metric.name}</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {metrics.map((row) => (
                <tr key={row.id}>
                  <th scope="row">{row.name}</th>
                  {metrics.map((column) => {
                    const finding = row.id === column.id ? undefined : cell.get(`${row.id}|${column.id}`);
                    const label = finding
                      ? `${row.name} and ${column.name}: r = ${finding.effect.toFixed(2)}, q = ${formatP(finding.q)}`
                      : `${row.name} and ${column.name}: not tested`;
                    return (
                      <td
                        key={column.id}
                        title={label}
                        aria-label={label}
                        style={{
                          background: row.id === column.id ? 'var(--grid)' : heatColor(finding?.effect),
                        }}
                      >
                        {finding ? finding.effect.toFixed(2) : ''}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">Orange: move together; blue: move apart. Deeper colour, stronger link.</p>
      </div>
    </div>
  );
}
