import { MAX_REMINDERS, type WebhookEndpoint } from '@lifexp/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useId, useState } from 'react';
import { useSavePreferences, useTRPC, useTRPCClient } from '../api';
import { useSession } from '../context';
import { fieldErrors } from '../lib/format';
import {
  formToSettings,
  issueAt,
  issuePaths,
  nextReminderTime,
  PUSH_UNAVAILABLE,
  type SettingsForm,
  settingsToForm,
  WEEKDAY_NAMES,
  WEEKDAYS,
  weekOrder,
} from '../lib/notify';
import {
  currentSubscription,
  detectPush,
  disablePush,
  enablePush,
  sendSubscription,
  workerRegistration,
} from '../push';
import { Check, ErrorNote, Field, Group, InputField } from '../ui';

const BASE = ['preferences', 'notifications'] as const;

/** Reminders, streak, insight and weekly notices, quiet hours and channels; push on this device; webhooks. */
export function NotificationSettings() {
  return (
    <section aria-labelledby="notification-settings-heading">
      <div className="screen-head">
        <div>
          <p className="muted small">
            <Link to="/settings">Settings</Link> ›
          </p>
          <h1 id="notification-settings-heading">Notification settings</h1>
        </div>
        <Link to="/notifications" className="button">
          Notifications
        </Link>
      </div>
      <div className="two-col">
        <SettingsEditor />
        <div className="stack">
          <PushControl />
          <Webhooks />
        </div>
      </div>
    </section>
  );
}

function SettingsEditor() {
  const trpc = useTRPC();
  const { profile } = useSession();
  const metrics = useQuery(trpc.metrics.list.queryOptions({ includeArchived: false }));
  const [form, setForm] = useState<SettingsForm>(() => settingsToForm(profile.preferences.notifications));
  const save = useSavePreferences();
  const issue = (...path: (string | number)[]) => issueAt(save.error, [...BASE, ...path]);
  const days = weekOrder(profile.preferences.weekStartsOn ?? 1);
  const patch = (next: Partial<SettingsForm>) => {
    setForm((current) => ({ ...current, ...next }));
    if (save.isSuccess) save.reset();
  };
  // One of the settings' groups changed in part (the rest of the group kept as it is).
  const patchGroup = <K extends 'streakAtRisk' | 'weeklySummary' | 'quietHours' | 'channels'>(
    key: K,
    next: Partial<SettingsForm[K]>,
  ) => patch({ [key]: { ...form[key], ...next } });
  const setReminder = (index: number, next: Partial<SettingsForm['reminders'][number]>) =>
    patch({
      reminders: form.reminders.map((reminder, at) => (at === index ? { ...reminder, ...next } : reminder)),
    });
  // A refusal the fields below cannot show (a metric that is not the account's, a network error).
  const shown = issuePaths(save.error).length > 0;
  const formError = save.error && !shown ? fieldErrors(save.error, []).form : undefined;

  return (
    <form
      className="card form"
      aria-label="Notification settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ preferences: { notifications: formToSettings(form) } });
      }}
    >
      <h2>What to tell you</h2>
      <p className="muted">Times are your local time ({profile.timezone}).</p>

      <Group title="Reminders">
        {form.reminders.length === 0 && <p className="muted">No reminders.</p>}
        {issue('reminders') && (
          <p className="error" role="alert">
            {issue('reminders')}
          </p>
        )}
        <ol className="reminders">
          {form.reminders.map((reminder, index) => (
            <li
              // Reminders have no id of their own: their position is their identity (every control is controlled).
              key={index}
              className="reminder"
              aria-label={`Reminder ${index + 1}`}
            >
              <InputField
                label={`Reminder ${index + 1} time`}
                type="time"
                required
                value={reminder.time}
                error={issue('reminders', index, 'time')}
                onChange={(e) => setReminder(index, { time: e.target.value })}
              />
              <DayPicker
                legend={`Reminder ${index + 1} days`}
                order={days}
                value={reminder.days}
                error={issue('reminders', index, 'days')}
                onChange={(value) => setReminder(index, { days: value })}
              />
              <Field
                label={`Reminder ${index + 1} metrics`}
                hint="Only if one of these has no entry that day. None: only if nothing is logged."
                error={issue('reminders', index, 'metricIds')}
              >
                {(props) =>
                  metrics.isSuccess && metrics.data.length === 0 ? (
                    <p className="muted small" id={props.id}>
                      No metrics yet.
                    </p>
                  ) : (
                    <select
                      {...props}
                      multiple
                      size={Math.min(5, Math.max(2, metrics.data?.length ?? 2))}
                      value={reminder.metricIds}
                      onChange={(e) =>
                        setReminder(index, {
                          metricIds: [...e.target.selectedOptions].map((option) => option.value),
                        })
                      }
                    >
                      {(metrics.data ?? []).map((metric) => (
                        <option key={metric.id} value={metric.id}>
                          {metric.name}
                        </option>
                      ))}
                    </select>
                  )
                }
              </Field>
              <button
                type="button"
                className="danger"
                onClick={() => patch({ reminders: form.reminders.filter((_, at) => at !== index) })}
              >
                Remove reminder {index + 1}
              </button>
            </li>
          ))}
        </ol>
        <button
          type="button"
          disabled={form.reminders.length >= MAX_REMINDERS}
          onClick={() =>
            patch({
              reminders: [
                ...form.reminders,
                { time: nextReminderTime(form.reminders), days: [0, 1, 2, 3, 4, 5, 6], metricIds: [] },
              ],
            })
          }
        >
          Add reminder
        </button>
      </Group>
      <hr />

      <Group title="Streak at risk">
        <Check
          label="Warn me when a streak of 3 days or more has nothing logged yet today"
          checked={form.streakAtRisk.enabled}
          onChange={(on) => patchGroup('streakAtRisk', { enabled: on })}
        />
        <InputField
          label="Streak warning time"
          type="time"
          value={form.streakAtRisk.time}
          error={issue('streakAtRisk', 'time') ?? issue('streakAtRisk')}
          onChange={(e) => patchGroup('streakAtRisk', { time: e.target.value })}
        />
      </Group>
      <hr />

      <Group title="New insights">
        <Check
          label="Tell me about a new finding in my data (at most once a day)"
          checked={form.newInsights}
          onChange={(on) => patch({ newInsights: on })}
        />
      </Group>
      <hr />

      <Group title="Weekly summary">
        <Check
          label="Send me a summary of my week"
          checked={form.weeklySummary.enabled}
          onChange={(on) => patchGroup('weeklySummary', { enabled: on })}
        />
        <div className="row-fields">
          <Field label="Summary day" error={issue('weeklySummary', 'day')}>
            {(props) => (
              <select
                {...props}
                value={form.weeklySummary.day}
                onChange={(e) => patchGroup('weeklySummary', { day: Number(e.target.value) })}
              >
                {days.map((day) => (
                  <option key={day} value={day}>
                    {WEEKDAY_NAMES[day]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <InputField
            label="Summary time"
            type="time"
            value={form.weeklySummary.time}
            error={issue('weeklySummary', 'time') ?? issue('weeklySummary')}
            onChange={(e) => patchGroup('weeklySummary', { time: e.target.value })}
          />
        </div>
      </Group>
      <hr />

      <Group title="Quiet hours">
        <Check
          label="Hold notices during quiet hours (they go out when the quiet hours end)"
          checked={form.quietHours.enabled}
          onChange={(on) => patchGroup('quietHours', { enabled: on })}
        />
        {form.quietHours.enabled && (
          <div className="row-fields">
            <InputField
              label="Quiet from"
              type="time"
              value={form.quietHours.start}
              error={issue('quietHours', 'start') ?? issue('quietHours')}
              onChange={(e) => patchGroup('quietHours', { start: e.target.value })}
            />
            <InputField
              label="Quiet until"
              type="time"
              value={form.quietHours.end}
              error={issue('quietHours', 'end')}
              onChange={(e) => patchGroup('quietHours', { end: e.target.value })}
            />
          </div>
        )}
      </Group>
      <hr />

      <Group title="Channels">
        {(
          [
            ['inApp', 'In the app (this list and the count in the menu)'],
            ['push', 'Web Push (on devices where you turn it on below)'],
            ['webhook', 'Webhooks (the endpoints below)'],
            ['email', `Email to ${profile.email}`],
          ] as const
        ).map(([channel, label]) => (
          <Check
            key={channel}
            label={label}
            checked={form.channels[channel]}
            onChange={(on) => patchGroup('channels', { [channel]: on })}
          />
        ))}
      </Group>

      {formError && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      {shown && (
        <p className="error" role="alert">
          Nothing was saved: fix the fields marked above.
        </p>
      )}
      {save.isSuccess && <output>Saved.</output>}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save notification settings
      </button>
    </form>
  );
}

function DayPicker({
  legend,
  order,
  value,
  error,
  onChange,
}: {
  legend: string;
  order: number[];
  value: number[];
  error: string | undefined;
  onChange: (days: number[]) => void;
}) {
  const id = useId();
  return (
    <fieldset
      className="days"
      aria-describedby={error ? `${id}-error` : undefined}
      aria-invalid={Boolean(error)}
    >
      <legend>{legend}</legend>
      <div className="day-toggles">
        {order.map((day) => (
          <label key={day} className="day" title={WEEKDAY_NAMES[day]}>
            <input
              type="checkbox"
              aria-label={`${legend}: ${WEEKDAY_NAMES[day]}`}
              checked={value.includes(day)}
              onChange={(e) => onChange(e.target.checked ? [...value, day] : value.filter((d) => d !== day))}
            />
            <span aria-hidden="true">{WEEKDAYS[day]}</span>
          </label>
        ))}
      </div>
      {error && (
        <small id={`${id}-error`} className="error" role="alert">
          {error}
        </small>
      )}
    </fieldset>
  );
}

type PushView =
  | { state: 'checking' }
  | { state: 'unavailable'; message: string }
  | { state: 'off' }
  | { state: 'on' };

/** "Enable push on this device": permission, subscription, and the server's copy of it. */
function PushControl() {
  const client = useTRPCClient();
  const [view, setView] = useState<PushView>({ state: 'checking' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    const support = detectPush();
    if (!support.ok) {
      setView({ state: 'unavailable', message: PUSH_UNAVAILABLE[support.reason] });
      return;
    }
    // The worker is registered as soon as push is possible, so a click on a notice always finds it.
    // A subscription this browser holds is handed to the server again, so "on" means both sides.
    workerRegistration()
      .then(() => currentSubscription())
      .then(async (subscription) => {
        if (subscription) await sendSubscription(client, subscription);
        return subscription;
      })
      .then(
        (subscription) => !cancelled && setView({ state: subscription ? 'on' : 'off' }),
        (caught: unknown) =>
          !cancelled &&
          setView({
            state: 'unavailable',
            message: `The background worker push notifications need could not start (${(caught as Error).message}).`,
          }),
      );
    return () => {
      cancelled = true;
    };
  }, [client]);

  const run = async (action: () => Promise<unknown>, next: PushView) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setView(next);
    } catch (caught) {
      const support = detectPush();
      if (!support.ok) setView({ state: 'unavailable', message: PUSH_UNAVAILABLE[support.reason] });
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card form" data-testid="push-control">
      <h2>Push on this device</h2>
      {view.state === 'checking' && <p className="muted">Checking what this browser supports…</p>}
      {view.state === 'unavailable' && (
        <p className="notice-plain" role="status" data-testid="push-unavailable">
          {view.message}
        </p>
      )}
      {view.state === 'off' && (
        <>
          <p className="muted">Get notices on this device even when the dashboard is closed.</p>
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() => run(() => enablePush(client), { state: 'on' })}
          >
            Enable push on this device
          </button>
        </>
      )}
      {view.state === 'on' && (
        <>
          <p>
            <span className="pill live">On</span> This device receives push notifications.
          </p>
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => disablePush(client), { state: 'off' })}
          >
            Disable push on this device
          </button>
        </>
      )}
      {error && (
        <p className="error" role="alert" data-testid="push-error">
          {error}
        </p>
      )}
    </div>
  );
}

function Webhooks() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const hooks = useQuery(trpc.webhooks.list.queryOptions());
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
  const create = useMutation(
    trpc.webhooks.create.mutationOptions({
      onSuccess: (created) => {
        setSecret({ url: created.url, secret: created.secret });
        setUrl('');
        setDescription('');
        void invalidate();
      },
    }),
  );
  const errors = fieldErrors(create.error, ['url', 'description'], { BAD_REQUEST: 'url' });
  const list = hooks.data ?? [];
  return (
    <div className="card form">
      <h2>Webhooks</h2>
      <p className="muted">
        Each notice is POSTed to these URLs, signed with the endpoint’s secret (Standard Webhooks).
      </p>
      <ErrorNote error={hooks.error} />
      {hooks.isSuccess && list.length === 0 && <p className="muted">No endpoints yet.</p>}
      {list.length > 0 && (
        <ul className="list" aria-label="Webhook endpoints">
          {list.map((hook) => (
            <WebhookRow key={hook.id} hook={hook} onChanged={invalidate} />
          ))}
        </ul>
      )}
      {secret && (
        <div className="secret" role="status" data-testid="webhook-secret">
          <p>
            Signing secret for <strong>{secret.url}</strong>. It is shown only now: copy it to your receiver.
          </p>
          <div className="actions">
            <code className="grow">{secret.secret}</code>
            <CopyButton text={secret.secret} />
            <button type="button" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      <form
        aria-label="Add a webhook"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setSecret(null);
          create.mutate({
            url: url.trim(),
            ...(description.trim() ? { description: description.trim() } : {}),
          });
        }}
      >
        <InputField
          label="Endpoint URL"
          type="url"
          placeholder="https://example.com/hooks/lifexp"
          value={url}
          error={errors.url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <InputField
          label="Description (optional)"
          value={description}
          maxLength={200}
          error={errors.description}
          onChange={(e) => setDescription(e.target.value)}
        />
        {errors.form && (
          <p className="error" role="alert">
            {errors.form}
          </p>
        )}
        <button type="submit" className="primary" disabled={!url.trim() || create.isPending}>
          Add webhook
        </button>
      </form>
    </div>
  );
}

function WebhookRow({ hook, onChanged }: { hook: WebhookEndpoint; onChanged: () => void }) {
  const trpc = useTRPC();
  const remove = useMutation(trpc.webhooks.delete.mutationOptions({ onSuccess: onChanged }));
  const test = useMutation(trpc.webhooks.test.mutationOptions({ onSettled: onChanged }));
  const [confirming, setConfirming] = useState(false);
  return (
    <li className="row webhook" data-testid="webhook">
      <div className="grow">
        <p className="webhook-url tight">
          <code>{hook.url}</code>{' '}
          {hook.enabled ? (
            <span className="pill live">active</span>
          ) : (
            <span className="pill offline">paused</span>
          )}
        </p>
        {hook.description && <p className="muted small tight">{hook.description}</p>}
        {!hook.enabled && (
          <p className="muted small tight">
            Paused after repeated failures: nothing is sent to it until a test succeeds.
          </p>
        )}
        {hook.consecutiveFailures > 0 && (
          <p className="muted small tight">
            {hook.consecutiveFailures} failure{hook.consecutiveFailures === 1 ? '' : 's'} in a row
            {hook.lastError ? `; last: ${hook.lastError}` : ''}
          </p>
        )}
        {test.data && (
          <output className={test.data.ok ? 'ok' : 'error'} data-testid="webhook-test-result">
            {test.data.ok
              ? `Test delivered (HTTP ${test.data.status}).`
              : `Test failed${test.data.status ? ` (HTTP ${test.data.status})` : ''}: ${test.data.error}`}
          </output>
        )}
        <ErrorNote error={test.error ?? remove.error} />
      </div>
      <div className="actions">
        <button type="button" onClick={() => test.mutate({ id: hook.id })} disabled={test.isPending}>
          {test.isPending ? 'Sending…' : 'Send test'}
        </button>
        {confirming ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => remove.mutate({ id: hook.id })}
              disabled={remove.isPending}
            >
              Delete {hook.url}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        )}
      </div>
    </li>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      onClick={() =>
        navigator.clipboard?.writeText(text).then(
          () => setCopied('copied'),
          () => setCopied('failed'),
        ) ?? setCopied('failed')
      }
    >
      {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed: select it' : 'Copy secret'}
    </button>
  );
}
