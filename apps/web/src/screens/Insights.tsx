import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../api';
import { Empty, ErrorNote } from '../ui';

const TITLES: Record<string, string> = {
  correlation: 'Connections',
  trend: 'Trends',
  pattern: 'Weekly rhythm',
  streak: 'Streaks',
  recommendation: 'Worth trying',
};

/** The precomputed findings; a recompute's result arrives through the live stream. */
export function Insights() {
  const trpc = useTRPC();
  const insights = useQuery(trpc.analytics.insights.queryOptions({}));
  const list = insights.data ?? [];
  const kinds = [...new Set(list.map((insight) => insight.type))];
  return (
    <section aria-labelledby="insights-heading">
      <div className="screen-head">
        <h1 id="insights-heading">Insights</h1>
        {list[0] && <p className="muted">Computed {new Date(list[0].createdAt).toLocaleString()}</p>}
      </div>
      <ErrorNote error={insights.error} />
      {insights.isSuccess && list.length === 0 && (
        <Empty>
          No findings yet. Insights appear once a few weeks of entries show something beyond chance; they are
          recomputed shortly after you log.
        </Empty>
      )}
      {kinds.map((kind) => (
        <div key={kind} className="card">
          <h2>{TITLES[kind] ?? kind}</h2>
          <ul className="findings" aria-label={TITLES[kind] ?? kind}>
            {list
              .filter((insight) => insight.type === kind)
              .map((insight) => {
                const tentative = (insight.data as { tentative?: boolean }).tentative === true;
                return (
                  <li key={insight.id}>
                    {insight.data.sentence}
                    {tentative && (
                      <span
                        className="pill tentative"
                        title="Fewer than 60 days: worth watching, not yet acting on"
                      >
                        tentative
                      </span>
                    )}
                    <span className="muted small"> · confidence {Math.round(insight.confidence * 100)}%</span>
                  </li>
                );
              })}
          </ul>
        </div>
      ))}
    </section>
  );
}
