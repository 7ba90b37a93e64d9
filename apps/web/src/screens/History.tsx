import type { Entry, Metric } from '@lifexp/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import { codeOf, useTRPC, useTRPCClient } from '../api';
import { formatValue, parseTags } from '../lib/format';
import type { HistorySearch } from '../router';
import { Empty, ErrorNote, LoadMore } from '../ui';

/** Entries, newest first, filtered by the URL's search params; more load as the list scrolls. */
export function History() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const search = useSearch({ from: '/history' });
  const navigate = useNavigate({ from: '/history' });
  const metrics = useQuery(trpc.metrics.list.queryOptions({ includeArchived: true }));
  const byId = new Map((metrics.data ?? []).map((metric) => [metric.id, metric]));
  // The search params are checked by the route (historySearch): they are the list's filters as they are.
  const filters = { limit: 50, ...search };
  // Pages follow the answer's opaque cursor (the list's input is strict: only the cursor is added).
  const entries = useInfiniteQuery({
    queryKey: trpc.entries.list.infiniteQueryKey(filters),
    queryFn: ({ pageParam, signal }) =>
      client.entries.list.query({ ...filters, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });

  const setFilter = (patch: Partial<HistorySearch>) =>
    navigate({ search: (current) => ({ ...current, ...patch }), replace: true });
  const setTag = (text: string) => setFilter({ tag: text.trim().toLowerCase() || undefined });
  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section aria-labelledby="history-heading">
      <div className="screen-head">
        <h1 id="history-heading">History</h1>
      </div>
      <form className="filters card" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input
            type="date"
            value={search.from ?? ''}
            onChange={(e) => setFilter({ from: e.target.value || undefined })}
          />
        </label>
        <label>
          To
          <input
            type="date"
            value={search.to ?? ''}
            onChange={(e) => setFilter({ to: e.target.value || undefined })}
          />
        </label>
        <label>
          Metric
          <select
            value={search.metricId ?? ''}
            onChange={(e) => setFilter({ metricId: e.target.value || undefined })}
          >
            <option value="">All metrics</option>
            {metrics.data?.map((metric) => (
              <option key={metric.id} value={metric.id}>
                {metric.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input
            defaultValue={search.tag ?? ''}
            onBlur={(e) => setTag(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && setTag(e.currentTarget.value)}
          />
        </label>
        <button type="button" onClick={() => navigate({ search: {}, replace: true })}>
          Clear filters
        </button>
      </form>
      <ErrorNote error={entries.error} />
      {entries.isSuccess && items.length === 0 && <Empty>No entries match.</Empty>}
      <table className="entries">
        <caption className="sr-only">Entries</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Metric</th>
            <th scope="col">Value</th>
            <th scope="col">Notes and tags</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((entry) => (
            <EntryRow key={entry.id} entry={entry} metric={byId.get(entry.metricId)} />
          ))}
        </tbody>
      </table>
      <LoadMore pages={entries} shown={items.length} />
    </section>
  );
}

function valueFromText(metric: Metric | undefined, text: string): number | boolean | string {
  if (!metric || metric.type === 'text') return text;
  if (metric.type === 'binary') return /^(y|yes|true|1)$/i.test(text.trim());
  return Number(text.replace(',', '.'));
}

function EntryRow({ entry, metric }: { entry: Entry; metric: Metric | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(String(entry.value));
  const [notes, setNotes] = useState(entry.notes ?? '');
  const [tags, setTags] = useState(entry.tags.join(', '));
  const [conflict, setConflict] = useState<{ current: Entry; retry: (version: number) => void } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.entries.pathKey() });
  const update = useMutation(trpc.entries.update.mutationOptions());
  const remove = useMutation(trpc.entries.delete.mutationOptions());

  // A write based on an old version is refused with the current entry attached: show it, let the
  // person keep it or write theirs over it.
  const onConflict = (error: unknown, retry: (version: number) => void) => {
    const current = (error as { data?: { details?: { current?: Entry } } }).data?.details?.current;
    if (codeOf(error) === 'CONFLICT' && current) setConflict({ current, retry });
  };
  const save = (baseVersion: number) =>
    update.mutate(
      {
        id: entry.id,
        baseVersion,
        value: valueFromText(metric, value),
        notes: notes.trim() || null,
        tags: parseTags(tags),
      },
      {
        onSuccess: () => {
          setEditing(false);
          setConflict(null);
          void refresh();
        },
        onError: (error) => onConflict(error, save),
      },
    );
  const del = (baseVersion: number) =>
    remove.mutate(
      { id: entry.id, baseVersion },
      { onSuccess: () => void refresh(), onError: (error) => onConflict(error, del) },
    );
  const label = `${metric?.name ?? 'entry'} on ${entry.date}`;
  const show = (value: Entry['value']) => (metric ? formatValue(metric, value) : String(value));

  return (
    <>
      <tr data-entry={entry.id}>
        <td>
          {entry.date}
          {entry.time && <span className="muted"> {entry.time.slice(0, 5)}</span>}
        </td>
        <td>{metric?.name ?? '—'}</td>
        <td>
          {editing ? (
            <input
              aria-label={`Value of ${label}`}
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          ) : (
            show(entry.value)
          )}
        </td>
        <td>
          {editing ? (
            <>
              <input
                aria-label={`Notes of ${label}`}
                value={notes}
                onChange={(e) => setNotes(e.target.value)}
              />
              <input aria-label={`Tags of ${label}`} value={tags} onChange={(e) => setTags(e.target.value)} />
            </>
          ) : (
            <>
              {entry.notes}
              {entry.tags.map((tag) => (
                <span key={tag} className="tag">
                  {tag}
                </span>
              ))}
            </>
          )}
        </td>
        <td className="actions">
          {editing ? (
            <>
              <button
                type="button"
                className="primary"
                onClick={() => save(entry.version)}
                aria-label={`Save ${label}`}
              >
                Save
              </button>
              <button type="button" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </>
          ) : (
            <>
              <button type="button" onClick={() => setEditing(true)} aria-label={`Edit ${label}`}>
                Edit
              </button>
              <button type="button" onClick={() => del(entry.version)} aria-label={`Delete ${label}`}>
                Delete
              </button>
            </>
          )}
        </td>
      </tr>
      {(update.error || remove.error) && !conflict && (
        <tr>
          <td colSpan={5}>
            <ErrorNote error={update.error ?? remove.error} />
          </td>
        </tr>
      )}
      {conflict && (
        <tr className="conflict">
          <td colSpan={5} role="alert">
            <strong>Changed on another device.</strong> It now says <q>{show(conflict.current.value)}</q>
            {conflict.current.notes ? ` (${conflict.current.notes})` : ''}.{' '}
            <button
              type="button"
              onClick={() => {
                setConflict(null);
                setEditing(false);
                void refresh();
              }}
            >
              Keep theirs
            </button>{' '}
            <button
              type="button"
              className="primary"
              onClick={() => conflict.retry(conflict.current.version)}
            >
              Use mine
            </button>
          </td>
        </tr>
      )}
    </>
  );
}
