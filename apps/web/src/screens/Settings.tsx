import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useSavePreferences, useTRPC } from '../api';
import { useSession } from '../context';
import { fieldErrors } from '../lib/format';
import { ErrorNote, Field, InputField } from '../ui';

interface ImportReport {
  dryRun: boolean;
  metrics: { created: number; updated: number; skipped: number };
  entries: { created: number; updated: number; skipped: number };
  problems?: { path: string; message: string }[];
}

function timeZones(current: string): string[] {
  const supported =
    (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return supported.includes(current) ? supported : [current, ...supported];
}

/** Time zone and preferences, password, sessions, the account, and the data going in and out. */
export function Settings() {
  return (
    <section aria-labelledby="settings-heading">
      <div className="screen-head">
        <h1 id="settings-heading">Settings</h1>
      </div>
      <div className="two-col">
        <Preferences />
        <div className="card form">
          <h2>Notifications</h2>
          <p className="muted">
            Reminders, streak warnings, new insights, the weekly summary, quiet hours, push on this device and
            webhooks.
          </p>
          <Link to="/settings/notifications" className="button">
            Notification settings
          </Link>
        </div>
        <DataTransfer />
        <Password />
        <Account />
      </div>
    </section>
  );
}

function Preferences() {
  const { profile } = useSession();
  const [timezone, setTimezone] = useState(profile.timezone);
  const [theme, setTheme] = useState(profile.preferences.theme ?? 'system');
  const [weekStartsOn, setWeekStartsOn] = useState(String(profile.preferences.weekStartsOn ?? 1));
  const save = useSavePreferences();
  return (
    <form
      className="card form"
      aria-label="Preferences"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({
          timezone,
          preferences: { theme: theme as 'system' | 'light' | 'dark', weekStartsOn: Number(weekStartsOn) },
        });
      }}
    >
      <h2>Preferences</h2>
      <p className="muted">Signed in as {profile.email}</p>
      <Field label="Time zone" error={fieldErrors(save.error, ['timezone']).timezone}>
        {(props) => (
          <select {...props} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
            {timeZones(profile.timezone).map((zone) => (
              <option key={zone}>{zone}</option>
            ))}
          </select>
        )}
      </Field>
      <div className="row-fields">
        <Field label="Theme">
          {(props) => (
            <select {...props} value={theme} onChange={(e) => setTheme(e.target.value as typeof theme)}>
              <option value="system">like the system</option>
              <option value="light">light</option>
              <option value="dark">dark</option>
            </select>
          )}
        </Field>
        <Field label="Week starts on">
          {(props) => (
            <select {...props} value={weekStartsOn} onChange={(e) => setWeekStartsOn(e.target.value)}>
              <option value="1">Monday</option>
              <option value="0">Sunday</option>
              <option value="6">Saturday</option>
            </select>
          )}
        </Field>
      </div>
      <ErrorNote error={save.error} />
      {save.isSuccess && <output>Saved.</output>}
      <button type="submit" className="primary" disabled={save.isPending}>
        Save
      </button>
    </form>
  );
}

function Password() {
  const trpc = useTRPC();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const change = useMutation(trpc.users.changePassword.mutationOptions());
  const logoutAll = useMutation(trpc.users.logoutAll.mutationOptions());
  const errors = fieldErrors(change.error, ['currentPassword', 'newPassword'], {
    FORBIDDEN: 'currentPassword',
  });
  return (
    <div className="card form">
      <form
        aria-label="Change password"
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate(
            { currentPassword, newPassword },
            {
              onSuccess: () => {
                setCurrent('');
                setNew('');
              },
            },
          );
        }}
      >
        <h2>Password and sessions</h2>
        <InputField
          label="Current password"
          error={errors.currentPassword}
          type="password"
          autoComplete="current-password"
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <InputField
          label="New password"
          error={errors.newPassword}
          type="password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
        />
        {errors.form && <p className="error">{errors.form}</p>}
        {change.isSuccess && (
          <output>Password changed; {change.data.endedSessions} other sessions were signed out.</output>
        )}
        <button type="submit" className="primary" disabled={change.isPending}>
          Change password
        </button>
      </form>
      <hr />
      <p className="muted">Lost a device? Sign out everywhere but here.</p>
      <button type="button" onClick={() => logoutAll.mutate()} disabled={logoutAll.isPending}>
        Log out everywhere else
      </button>
      {logoutAll.isSuccess && <output> {logoutAll.data.endedSessions} sessions ended.</output>}
      <ErrorNote error={logoutAll.error} />
    </div>
  );
}

function DataTransfer() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const csv = file.name.toLowerCase().endsWith('.csv') || file.type === 'text/csv';
      const response = await fetch(`/api/data/import?dryRun=${dryRun}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': csv ? 'text/csv' : 'application/json' },
        body: file,
      });
      const body = await response.json();
      if (!response.ok) {
        setReport(null);
        // The API's one error body: {code, message, details?, requestId}.
        const problems = (body.details?.problems ?? []) as { path: string; message: string }[];
        setError(
          [
            body.message ?? `import failed (${response.status})`,
            ...problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`),
          ].join('\n'),
        );
        return;
      }
      setReport(body as ImportReport);
      if (!dryRun) {
        setFile(null);
        void queryClient.invalidateQueries();
      }
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card form">
      <h2>Export and import</h2>
      <p className="muted">Everything you logged, as a file you keep.</p>
      <div className="actions">
        <a className="button" href="/api/analytics/export?format=json" download>
          Export JSON
        </a>
        <a className="button" href="/api/analytics/export?format=csv" download>
          Export CSV
        </a>
      </div>
      <hr />
      <InputField
        label="Import a file"
        hint="A Life XP export (JSON or CSV). You see what it would do first."
        type="file"
        accept=".json,.csv,application/json,text/csv"
        onChange={(e) => {
          setFile(e.target.files?.[0] ?? null);
          setReport(null);
          setError(null);
        }}
      />
      <div className="actions">
        <button type="button" disabled={!file || busy} onClick={() => send(true)}>
          Preview import
        </button>
        <button
          type="button"
          className="primary"
          disabled={!file || busy || !report?.dryRun}
          onClick={() => send(false)}
        >
          Apply import
        </button>
      </div>
      {error && (
        <pre className="error" role="alert">
          {error}
        </pre>
      )}
      {report && (
        <output className="report" data-testid="import-report">
          {report.dryRun ? 'Would import' : 'Imported'}: metrics {report.metrics.created} new,{' '}
          {report.metrics.updated} updated, {report.metrics.skipped} unchanged; entries{' '}
          {report.entries.created} new, {report.entries.updated} updated, {report.entries.skipped} unchanged.
        </output>
      )}
    </div>
  );
}

function Account() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const [confirming, setConfirming] = useState(false);
  const signedOut = () => {
    queryClient.clear();
    void queryClient.invalidateQueries();
  };
  const logout = useMutation(trpc.users.logout.mutationOptions({ onSuccess: signedOut }));
  const remove = useMutation(trpc.users.deleteAccount.mutationOptions({ onSuccess: signedOut }));
  const errors = fieldErrors(remove.error, ['password'], { FORBIDDEN: 'password' });
  return (
    <div className="card form danger-zone">
      <h2>Account</h2>
      <button type="button" onClick={() => logout.mutate()}>
        Log out
      </button>
      <hr />
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete account…
        </button>
      ) : (
        <form
          aria-label="Delete account"
          onSubmit={(e) => {
            e.preventDefault();
            remove.mutate({ password });
          }}
        >
          <p role="alert">
            This deletes your account and every entry, for good. Export first if you want to keep anything.
          </p>
          <InputField
            label="Password to confirm"
            error={errors.password ?? errors.form}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <div className="actions">
            <button type="submit" className="danger" disabled={!password || remove.isPending}>
              Delete my account
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
