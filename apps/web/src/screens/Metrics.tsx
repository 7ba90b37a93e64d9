import {
  aggregations,
  type CreateMetricInput,
  categories,
  type Metric,
  type MetricType,
  metricConfigs,
  metricTypes,
} from '@lifexp/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../api';
import { fieldErrors, unitOf } from '../lib/format';
import { Empty, ErrorNote, Field, InputField } from '../ui';

/** The form's state: strings as typed, turned into a config on submit. */
export interface MetricDraft {
  name: string;
  type: MetricType;
  category: (typeof categories)[number];
  min: string;
  max: string;
  unit: string;
  decimals: string;
  displayUnit: 'seconds' | 'minutes' | 'hours';
  aggregation: string;
  missing: 'unknown' | 'zero';
}

const str = (value: unknown) => (value === undefined || value === null ? '' : String(value));

/** A type's aggregation and range as its config schema fills them when none is given. */
function typeDefaults(type: MetricType): Pick<MetricDraft, 'type' | 'aggregation' | 'min' | 'max'> {
  const config: Record<string, unknown> = metricConfigs[type].parse({});
  return { type, aggregation: str(config.aggregation), min: str(config.min), max: str(config.max) };
}

export function emptyDraft(): MetricDraft {
  return {
    name: '',
    category: 'mood',
    unit: '',
    decimals: '',
    displayUnit: 'minutes',
    missing: 'unknown',
    ...typeDefaults('rating'),
  };
}

export function draftOf(metric: Metric): MetricDraft {
  const config = metric.config as Record<string, unknown>;
  return {
    name: metric.name,
    type: metric.type,
    category: metric.category,
    min: str(config.min),
    max: str(config.max),
    unit: str(config.unit),
    decimals: str(config.decimals),
    displayUnit: (config.displayUnit as MetricDraft['displayUnit']) ?? 'minutes',
    aggregation: str(config.aggregation),
    missing: config.missing as MetricDraft['missing'],
  };
}

/** The config a draft describes, with only the keys its type knows (the server fills defaults). */
export function configOf(draft: MetricDraft): Record<string, string | number> {
  const number = (value: string) => (value.trim() === '' ? undefined : Number(value));
  const defined = (record: Record<string, string | number | undefined>) =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Record<
      string,
      string | number
    >;
  switch (draft.type) {
    case 'rating':
      return defined({
        min: number(draft.min),
        max: number(draft.max),
        aggregation: draft.aggregation,
        missing: draft.missing,
      });
    case 'duration':
      return { displayUnit: draft.displayUnit, aggregation: draft.aggregation, missing: draft.missing };
    case 'binary':
      return { aggregation: draft.aggregation, missing: draft.missing };
    case 'number':
      return defined({
        min: number(draft.min),
        max: number(draft.max),
        unit: draft.unit.trim() || undefined,
        decimals: number(draft.decimals),
        aggregation: draft.aggregation,
        missing: draft.missing,
      });
    case 'text':
      return {};
  }
}

/** Create, edit and archive metrics, each with its type's settings. */
export function Metrics() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [showArchived, setShowArchived] = useState(false);
  const [editing, setEditing] = useState<Metric | null>(null);
  const metrics = useQuery(trpc.metrics.list.queryOptions({ includeArchived: true }));
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.metrics.pathKey() });
  const archive = useMutation(trpc.metrics.update.mutationOptions({ onSuccess: invalidate }));
  const list = (metrics.data ?? []).filter((metric) => showArchived || metric.isActive);

  return (
    <section aria-labelledby="metrics-heading">
      <div className="screen-head">
        <h1 id="metrics-heading">Metrics</h1>
        <label className="check">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
          Show archived
        </label>
      </div>
      <div className="two-col">
        <MetricForm
          key={editing?.id ?? 'new'}
          metric={editing}
          onDone={() => {
            setEditing(null);
            void invalidate();
          }}
        />
        <div>
          <ErrorNote error={metrics.error ?? archive.error} />
          {metrics.data && list.length === 0 && <Empty>No metrics yet: add one with the form.</Empty>}
          <ul className="list" aria-label="Your metrics">
            {list.map((metric) => (
              <li key={metric.id} className={`row ${metric.isActive ? '' : 'archived'}`}>
                <div>
                  <strong>{metric.name}</strong>
                  <span className="muted">
                    {' '}
                    · {metric.type}
                    {unitOf(metric) && ` (${unitOf(metric)})`} · {metric.category}
                    {!metric.isActive && ' · archived'}
                  </span>
                </div>
                <div className="actions">
                  <button type="button" onClick={() => setEditing(metric)} aria-label={`Edit ${metric.name}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    aria-label={`${metric.isActive ? 'Archive' : 'Restore'} ${metric.name}`}
                    onClick={() =>
                      archive.mutate({
                        id: metric.id,
                        baseVersion: metric.version,
                        isActive: !metric.isActive,
                      })
                    }
                  >
                    {metric.isActive ? 'Archive' : 'Restore'}
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

function MetricForm({ metric, onDone }: { metric: Metric | null; onDone: () => void }) {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<MetricDraft>(() => (metric ? draftOf(metric) : emptyDraft()));
  const create = useMutation(trpc.metrics.create.mutationOptions());
  const update = useMutation(trpc.metrics.update.mutationOptions());
  const active = metric ? update : create;
  const errors = fieldErrors(active.error, ['name', 'category', 'config', 'type']);
  const set = <K extends keyof MetricDraft>(key: K, value: MetricDraft[K]) =>
    setDraft((current) => ({ ...current, [key]: value }));
  // A new type starts from its own defaults: a rating's 1–5 range is no number's bound.
  const setType = (type: MetricType) => setDraft((current) => ({ ...current, ...typeDefaults(type) }));

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const config = configOf(draft);
    if (metric) {
      update.mutate(
        { id: metric.id, baseVersion: metric.version, name: draft.name, category: draft.category, config },
        { onSuccess: onDone },
      );
    } else {
      create.mutate(
        { name: draft.name, type: draft.type, category: draft.category, config } as CreateMetricInput,
        {
          onSuccess: () => {
            setDraft(emptyDraft());
            onDone();
          },
        },
      );
    }
  };
  const t = draft.type;
  return (
    <form className="card form" onSubmit={submit} aria-label={metric ? `Edit ${metric.name}` : 'New metric'}>
      <h2>{metric ? `Edit ${metric.name}` : 'New metric'}</h2>
      <InputField
        label="Name"
        error={errors.name}
        value={draft.name}
        onChange={(e) => set('name', e.target.value)}
        maxLength={100}
      />
      <div className="row-fields">
        <Field label="Type" error={errors.type} hint={metric ? 'The type is fixed once created' : undefined}>
          {(props) => (
            <select
              {...props}
              value={t}
              disabled={Boolean(metric)}
              onChange={(e) => setType(e.target.value as MetricType)}
            >
              {metricTypes.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Category" error={errors.category}>
          {(props) => (
            <select
              {...props}
              value={draft.category}
              onChange={(e) => set('category', e.target.value as MetricDraft['category'])}
            >
              {categories.map((category) => (
                <option key={category}>{category}</option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {(t === 'rating' || t === 'number') && (
        <div className="row-fields">
          <InputField
            label="Minimum"
            inputMode="decimal"
            value={draft.min}
            onChange={(e) => set('min', e.target.value)}
          />
          <InputField
            label="Maximum"
            inputMode="decimal"
            value={draft.max}
            onChange={(e) => set('max', e.target.value)}
          />
        </div>
      )}
      {t === 'number' && (
        <div className="row-fields">
          <InputField
            label="Unit"
            value={draft.unit}
            maxLength={16}
            onChange={(e) => set('unit', e.target.value)}
          />
          <InputField
            label="Decimals"
            inputMode="numeric"
            value={draft.decimals}
            onChange={(e) => set('decimals', e.target.value)}
          />
        </div>
      )}
      {t === 'duration' && (
        <Field label="Display unit">
          {(props) => (
            <select
              {...props}
              value={draft.displayUnit}
              onChange={(e) => set('displayUnit', e.target.value as MetricDraft['displayUnit'])}
            >
              <option value="minutes">minutes</option>
              <option value="hours">hours</option>
              <option value="seconds">seconds</option>
            </select>
          )}
        </Field>
      )}
      {t !== 'text' && (
        <div className="row-fields">
          <Field label="Aggregation" hint="How several entries of one day combine">
            {(props) => (
              <select
                {...props}
                value={draft.aggregation}
                onChange={(e) => set('aggregation', e.target.value)}
              >
                {aggregations.map((aggregation) => (
                  <option key={aggregation}>{aggregation}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Missing days" hint="A day without an entry">
            {(props) => (
              <select
                {...props}
                value={draft.missing}
                onChange={(e) => set('missing', e.target.value as MetricDraft['missing'])}
              >
                <option value="unknown">is unknown</option>
                <option value="zero">counts as zero</option>
              </select>
            )}
          </Field>
        </div>
      )}
      {(errors.config || errors.form) && (
        <p className="error" role="alert">
          {errors.config ?? errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={active.isPending}>
          {metric ? 'Save' : 'Add metric'}
        </button>
        {metric && (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
