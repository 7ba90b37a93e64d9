import { addDays, localToday } from '@lifexp/analytics';
import type { CreateEntryInput, Entry, Metric } from '@lifexp/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { type InputHTMLAttributes, type ReactNode, useState } from 'react';
import { useTRPC } from '../api';
import { useObservable, useSession } from '../context';
import { durationSeconds, formatValue, parseTags, unitOf } from '../lib/format';
import { Empty, ErrorNote } from '../ui';

/** A quick log for every active metric, for today or a chosen day. */
export function Today() {
  const trpc = useTRPC();
  const { profile, outbox } = useSession();
  const search = useSearch({ from: '/' });
  const navigate = useNavigate({ from: '/' });
  const today = localToday(profile.timezone);
  const date = search.date ?? today;
  const metrics = useQuery(trpc.metrics.list.queryOptions({ includeArchived: false }));
  const entries = useQuery(trpc.entries.list.queryOptions({ from: date, to: date, limit: 500 }));
  const pending = useObservable(outbox.pending).filter((write) => write.input.date === date);
  const progress = useQuery(trpc.analytics.progress.queryOptions());
  const setDate = (next: string) =>
    navigate({ search: { date: next === today ? undefined : next }, replace: true });

  return (
    <section aria-labelledby="today-heading">
      <div className="screen-head">
        <div>
          <h1 id="today-heading">
            {date === today ? 'Today' : new Date(`${date}T12:00:00Z`).toDateString()}
          </h1>
          {progress.data && (
            <p className="muted">
              Level {progress.data.level} · {progress.data.xp} XP · {progress.data.currentStreak}-day streak
            </p>
          )}
        </div>
        <div className="day-picker">
          <button type="button" aria-label="Previous day" onClick={() => setDate(addDays(date, -1))}>
            ‹
          </button>
          <label className="sr-only" htmlFor="log-day">
            Day
          </label>
          <input
            id="log-day"
            type="date"
            value={date}
            max={today}
            onChange={(e) => e.target.value && setDate(e.target.value)}
          />
          <button
            type="button"
            aria-label="Next day"
            disabled={date >= today}
            onClick={() => setDate(addDays(date, 1))}
          >
            ›
          </button>
        </div>
      </div>
      <ErrorNote error={metrics.error} />
      {metrics.data && metrics.data.length === 0 && (
        <Empty>
          <p>Nothing to log yet.</p>
          <Link to="/metrics" className="button primary">
            Add your first metric
          </Link>
        </Empty>
      )}
      <div className="grid">
        {metrics.data?.map((metric) => (
          <QuickLog
            key={metric.id}
            metric={metric}
            date={date}
            logged={(entries.data?.items ?? []).filter((entry) => entry.metricId === metric.id)}
            pending={pending.filter((write) => write.input.metricId === metric.id).map((w) => w.input)}
          />
        ))}
      </div>
    </section>
  );
}

function QuickLog({
  metric,
  date,
  logged,
  pending,
}: {
  metric: Metric;
  date: string;
  logged: Entry[];
  pending: CreateEntryInput[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { outbox } = useSession();
  const [details, setDetails] = useState(false);
  const [notes, setNotes] = useState('');
  const [tags, setTags] = useState('');
  const [time, setTime] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');
  const [busy, setBusy] = useState(false);

  const log = async (value: number | boolean | string) => {
    setError(null);
    setBusy(true);
    try {
      const input: CreateEntryInput = { metricId: metric.id, value, date };
      if (notes.trim()) input.notes = notes.trim();
      const tagList = parseTags(tags);
      if (tagList.length) input.tags = tagList;
      // HH:MM or HH:MM:SS as the time input gives it; the API stores HH:MM:SS.
      if (time) input.time = time;
      const outcome = await outbox.createEntry(input);
      setAnnounce(
        outcome === 'queued'
          ? `${metric.name}: saved offline, waiting to sync`
          : `${metric.name}: logged ${formatValue(metric, value)}`,
      );
      setNotes('');
      setTags('');
      setTime('');
      await queryClient.invalidateQueries({ queryKey: trpc.entries.pathKey() });
      void queryClient.invalidateQueries({ queryKey: trpc.analytics.progress.pathKey() });
      return true;
    } catch (caught) {
      setError((caught as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const unit = unitOf(metric);
  return (
    <article className="card metric-card" aria-label={metric.name} data-metric={metric.name}>
      <header>
        <h2>{metric.name}</h2>
        <span className="tag">{metric.category}</span>
      </header>
      <Control metric={metric} unit={unit} busy={busy} onLog={log} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <output className="sr-only" aria-live="polite">
        {announce}
      </output>
      <button
        type="button"
        className="link small"
        aria-expanded={details}
        onClick={() => setDetails((open) => !open)}
      >
        {details ? 'Hide notes, tags and time' : 'Add notes, tags or time'}
      </button>
      {details && (
        <div className="details">
          <label>
            Notes
            <input value={notes} onChange={(e) => setNotes(e.target.value)} maxLength={10_000} />
          </label>
          <label>
            Tags
            <input value={tags} placeholder="comma, separated" onChange={(e) => setTags(e.target.value)} />
          </label>
          <label>
            Time
            <input type="time" value={time} onChange={(e) => setTime(e.target.value)} />
          </label>
        </div>
      )}
      {(logged.length > 0 || pending.length > 0) && (
        <ul className="logged" aria-label={`${metric.name} entries`}>
          {logged.map((entry) => (
            <li key={entry.id}>
              {formatValue(metric, entry.value)}
              {entry.time && <span className="muted"> at {entry.time.slice(0, 5)}</span>}
              {entry.tags.length > 0 && <span className="muted"> · {entry.tags.join(', ')}</span>}
            </li>
          ))}
          {pending.map((input) => (
            <li key={input.id} className="pending-entry">
              {formatValue(metric, input.value)} <span className="pill pending">pending</span>
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** The right control for the metric's type; every one logs with one tap or one keystroke plus Enter. */
function Control({
  metric,
  unit,
  busy,
  onLog,
}: {
  metric: Metric;
  unit: string;
  busy: boolean;
  onLog: (value: number | boolean | string) => Promise<boolean>;
}) {
  const [text, setText] = useState('');
  const [hours, setHours] = useState('');
  const [minutes, setMinutes] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  if (metric.type === 'rating') {
    const { min, max } = metric.config;
    const values = Array.from({ length: Math.min(max - min + 1, 21) }, (_, i) => min + i);
    return (
      <fieldset className="rating" disabled={busy}>
        <legend className="sr-only">{metric.name} rating</legend>
        {values.map((value) => (
          <button
            key={value}
            type="button"
            aria-label={`${metric.name} ${value}`}
            onClick={() => onLog(value)}
          >
            {value}
          </button>
        ))}
      </fieldset>
    );
  }
  if (metric.type === 'binary') {
    return (
      <fieldset className="toggle" disabled={busy}>
        <legend className="sr-only">{metric.name}: yes or no</legend>
        <button type="button" aria-label={`${metric.name}: yes`} onClick={() => onLog(true)}>
          Yes
        </button>
        <button type="button" aria-label={`${metric.name}: no`} onClick={() => onLog(false)}>
          No
        </button>
      </fieldset>
    );
  }
  // A value logged clears its inputs; an input that is no value says why beside them.
  const submit = async (value: number | string | { problem: string }, clear: () => void) => {
    if (typeof value === 'object') return setProblem(value.problem);
    setProblem(null);
    if (await onLog(value)) clear();
  };
  if (metric.type === 'duration') {
    return (
      <LogForm
        busy={busy}
        problem={problem}
        onSubmit={() =>
          submit(durationSeconds(hours, minutes) ?? { problem: 'Give hours and/or minutes' }, () => {
            setHours('');
            setMinutes('');
          })
        }
      >
        <UnitInput
          label={`${metric.name} hours`}
          unit="h"
          inputMode="decimal"
          value={hours}
          onChange={(e) => setHours(e.target.value)}
          placeholder="0"
        />
        <UnitInput
          label={`${metric.name} minutes`}
          unit="min"
          inputMode="numeric"
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          placeholder="0"
        />
      </LogForm>
    );
  }
  const value = (): number | string | { problem: string } => {
    if (metric.type !== 'number') return text.trim() || { problem: 'Write something first' };
    const number = Number(text.replace(',', '.'));
    return text.trim() === '' || !Number.isFinite(number) ? { problem: 'Enter a number' } : number;
  };
  return (
    <LogForm busy={busy} problem={problem} onSubmit={() => submit(value(), () => setText(''))}>
      <UnitInput
        className="grow"
        label={metric.name}
        unit={unit}
        inputMode={metric.type === 'number' ? 'decimal' : 'text'}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={metric.type === 'number' ? 'Value' : 'How was it?'}
        aria-invalid={Boolean(problem)}
      />
    </LogForm>
  );
}

/** A one-line form of a metric's inputs, its Log button, and what is wrong with the input. */
function LogForm({
  busy,
  problem,
  onSubmit,
  children,
}: {
  busy: boolean;
  problem: string | null;
  onSubmit: () => void;
  children: ReactNode;
}) {
  return (
    <form
      className="inline"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      {children}
      <button type="submit" disabled={busy}>
        Log
      </button>
      {problem && (
        <small className="error" role="alert">
          {problem}
        </small>
      )}
    </form>
  );
}

/** An input labelled for screen readers, with its unit (if any) shown after it. */
function UnitInput({
  label,
  unit,
  className,
  ...input
}: { label: string; unit: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label className={className}>
      <span className="sr-only">{label}</span>
      <input {...input} />
      {unit && <span className="unit">{unit}</span>}
    </label>
  );
}
