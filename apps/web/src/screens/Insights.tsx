import { useQuery } from '@tanstack/react-query';
import { useParams, useSearch } from '@tanstack/react-router';
import { useEffect } from 'react';
import { useTRPC } from '../api';
import { Empty, ErrorNote } from '../ui';

const TITLES: Record<string, string> = {
  correlation: 'Connections',
  trend: 'Trends',
  pattern: 'Weekly rhythm',
  streak: 'Streaks',
  recommendation: 'Worth trying',
};

/**
 * The precomputed findings; a recompute's result arrives through the live stream. Reached from a
 * notice as `/insights/<id>` (that finding is marked and scrolled to) or `/insights?week=<date>`.
 */
export function Insights() {
  const trpc = useTRPC();
  const insights = useQuery(trpc.analytics.insights.queryOptions({}));
  const { insightId } = useParams({ strict: false });
  const { week } = useSearch({ strict: false });
  const list = insights.data ?? [];
  const kinds = [...new Set(list.map((insight) => insight.type))];
  const focused = insightId ? list.find((insight) => insight.id === insightId) : undefined;
  useEffect(() => {
    if (focused) document.getElementById(`insight-${focused.id}`)?.scrollIntoView({ block: 'center' });
  }, [focused]);
  return (
    <section aria-labelledby="insights-heading">
      <div className="screen-head">
        <h1 id="insights-heading">Insights</h1>
        {list[0] && <p className="muted">Computed {new Date(list[0].createdAt).toLocaleString()}</p>}
      </div>
      {week && (
        <p className="card muted" data-testid="week-note">
          Your week in review, up to {week}: the findings below are the current ones.
        </p>
      )}
      {insightId && insights.isSuccess && !focused && (
        <p className="card muted" role="status">
          That finding is no longer among the current insights: newer data replaced it.
        </p>
      )}
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
                  <li
                    key={insight.id}
                    id={`insight-${insight.id}`}
                    className={insight.id === insightId ? 'focused' : undefined}
                    aria-current={insight.id === insightId ? 'true' : undefined}
                  >
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
