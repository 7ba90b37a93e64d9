import { notificationSettings, updatePreferencesInput } from '@lifexp/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  appPath,
  base64UrlToBytes,
  formToSettings,
  issueAt,
  issuePaths,
  nextReminderTime,
  pushSupport,
  settingsToForm,
  timeAgo,
  weekOrder,
} from '../src/lib/notify';
import { notificationOptions, ownUrl, readPush, windowFor } from '../src/lib/push-message';
import { staleKeysOf } from '../src/sync';

/** The error the API sends for an input its schema refuses (tRPC's data.zodError: the tree). */
function apiError(input: unknown) {
  const parsed = updatePreferencesInput.safeParse(input);
  if (parsed.success) throw new Error('expected the schema to refuse the input');
  return { message: 'invalid', data: { code: 'BAD_REQUEST', zodError: z.treeifyError(parsed.error) } };
}

describe('settings form', () => {
  it('fills in the server defaults for an account that set nothing', () => {
    const form = settingsToForm(undefined);
    expect(form.channels).toEqual({ inApp: true, push: true, webhook: true, email: false });
    expect(form.reminders).toEqual([]);
    expect(form.quietHours.enabled).toBe(false);
    // What the form sends for it is valid as it is.
    expect(notificationSettings.safeParse(formToSettings(form)).success).toBe(true);
    expect(formToSettings(form)).not.toHaveProperty('quietHours');
  });

  it('round-trips stored settings: every day and no metrics are left out, quiet hours kept', () => {
    const stored = {
      reminders: [
        { time: '08:30', days: [5, 1, 3] },
        { time: '21:00', metricIds: ['6f1d7b9e-3c1a-4c53-9d65-0d6f7c2a9b10'] },
      ],
      streakAtRisk: { enabled: true, time: '19:45' },
      newInsights: true,
      weeklySummary: { enabled: true, day: 0, time: '18:00' },
      quietHours: { start: '22:00', end: '07:00' },
      channels: { inApp: true, push: false, webhook: true, email: true },
    };
    const form = settingsToForm(stored);
    expect(form.reminders[0]?.days).toEqual([1, 3, 5]);
    expect(form.reminders[1]?.days).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(formToSettings(form)).toEqual({
      ...stored,
      reminders: [
        { time: '08:30', days: [1, 3, 5] },
        { time: '21:00', metricIds: ['6f1d7b9e-3c1a-4c53-9d65-0d6f7c2a9b10'] },
      ],
    });
    expect(
      formToSettings({ ...form, quietHours: { ...form.quietHours, enabled: false } }),
    ).not.toHaveProperty('quietHours');
  });

  it('a reminder with no day left sends an empty list, which the server refuses at that field', () => {
    const form = settingsToForm({ reminders: [{ time: '08:00' }] });
    form.reminders[0]!.days = [];
    const error = apiError({ preferences: { notifications: formToSettings(form) } });
    expect(issueAt(error, ['preferences', 'notifications', 'reminders', 0, 'days'])).toMatch(
      /at least one day/,
    );
    expect(issueAt(error, ['preferences', 'notifications', 'reminders', 0, 'time'])).toBeUndefined();
  });

  it('a new reminder never starts on a time another one has', () => {
    expect(nextReminderTime([])).toBe('20:00');
    expect(nextReminderTime([{ time: '08:30' }, { time: '21:15' }])).toBe('22:15');
    expect(nextReminderTime([{ time: '23:00' }])).toBe('00:00');
  });

  it('orders the days as the week runs', () => {
    expect(weekOrder(1)).toEqual([1, 2, 3, 4, 5, 6, 0]);
    expect(weekOrder(0)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(weekOrder(6)).toEqual([6, 0, 1, 2, 3, 4, 5]);
  });
});

describe('issueAt', () => {
  const base = ['preferences', 'notifications'];
  it('finds each message at the path of the field that caused it', () => {
    const error = apiError({
      preferences: {
        notifications: {
          reminders: [{ time: '08:00' }, { time: '25:00' }],
          quietHours: { start: '22:00', end: '22:00' },
          weeklySummary: { enabled: true, day: 9, time: '18:00' },
        },
      },
    });
    expect(issueAt(error, [...base, 'reminders', 1, 'time'])).toMatch(/HH:MM/);
    expect(issueAt(error, [...base, 'reminders', 0, 'time'])).toBeUndefined();
    expect(issueAt(error, [...base, 'quietHours'])).toMatch(/must differ/);
    expect(issueAt(error, [...base, 'weeklySummary', 'day'])).toBeDefined();
    expect(issuePaths(error).sort()).toEqual([
      '/preferences/notifications/quietHours',
      '/preferences/notifications/reminders/1/time',
      '/preferences/notifications/weeklySummary/day',
    ]);
  });

  it('a rule about the whole list sits on the list', () => {
    const error = apiError({
      preferences: { notifications: { reminders: [{ time: '08:00' }, { time: '08:00' }] } },
    });
    expect(issueAt(error, [...base, 'reminders'])).toMatch(/must not share a time/);
  });

  it('answers nothing for no error, an error without a schema part, or a path past the tree', () => {
    expect(issueAt(null, ['a'])).toBeUndefined();
    expect(issueAt({ data: { code: 'NOT_FOUND' } }, ['a'])).toBeUndefined();
    expect(issuePaths({ data: { code: 'NOT_FOUND' } })).toEqual([]);
    const error = apiError({ preferences: { notifications: { newInsights: 'yes' } } });
    expect(issueAt(error, [...base, 'newInsights', 'deeper', 3])).toBeUndefined();
  });
});

describe('appPath', () => {
  it('keeps the dashboard paths notices carry', () => {
    expect(appPath('/log?date=2026-11-30')).toBe('/log?date=2026-11-30');
    expect(appPath('/insights/abc')).toBe('/insights/abc');
    expect(appPath('/settings/notifications#webhooks')).toBe('/settings/notifications#webhooks');
  });
  it('refuses anything that would leave the app', () => {
    for (const link of [
      'https://evil.example/x',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '',
      'log',
    ])
      expect(appPath(link)).toBeNull();
  });
});

describe('timeAgo', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  it('says when in words', () => {
    expect(timeAgo('2026-12-06T11:59:40Z', now)).toBe('just now');
    expect(timeAgo('2026-12-06T11:45:00Z', now)).toBe('15 min ago');
    expect(timeAgo('2026-12-06T09:00:00Z', now)).toBe('3 h ago');
    expect(timeAgo('2026-12-05T10:00:00Z', now)).toBe('yesterday');
    expect(timeAgo('2026-11-20T10:00:00Z', now, 'en-GB')).toBe('20 Nov 2026');
    expect(timeAgo('not a date', now)).toBe('');
  });
});

describe('web push helpers', () => {
  it('decodes the VAPID key to the 65 bytes of an uncompressed P-256 point', () => {
    // A key as web-push generates it (base64url, no padding).
    const key = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';
    const bytes = base64UrlToBytes(key);
    expect(bytes).toHaveLength(65);
    expect(bytes[0]).toBe(4);
    expect(Buffer.from(bytes).toString('base64url')).toBe(key);
  });

  it('tells why push cannot work here, the missing feature first', () => {
    const all = { secureContext: true, serviceWorker: true, pushManager: true, notification: true };
    expect(pushSupport({ ...all, permission: 'default' })).toEqual({ ok: true });
    expect(pushSupport({ ...all, permission: 'granted' })).toEqual({ ok: true });
    expect(pushSupport({ ...all, permission: 'denied' })).toEqual({ ok: false, reason: 'denied' });
    expect(pushSupport({ ...all, secureContext: false, permission: 'default' })).toEqual({
      ok: false,
      reason: 'insecure',
    });
    expect(pushSupport({ ...all, serviceWorker: false, permission: 'default' }).ok).toBe(false);
    expect(pushSupport({ ...all, pushManager: false, permission: 'default' })).toEqual({
      ok: false,
      reason: 'no-push',
    });
    expect(pushSupport({ ...all, notification: false, permission: undefined })).toEqual({
      ok: false,
      reason: 'no-notifications',
    });
  });
});

describe('service worker handlers', () => {
  const origin = 'https://app.lifexp.test';
  const data = (value: unknown) => ({
    json: () => (typeof value === 'string' ? JSON.parse(value) : value),
    text: () => String(value),
  });

  it('shows a pushed notice and keeps its link on this origin', () => {
    const notice = readPush(
      data({
        id: 'n1',
        kind: 'reminder',
        title: 'Time for a quick check-in',
        body: 'Sleep is still open for today',
        url: 'https://lifexp.example.com/log?date=2026-11-30',
      }),
      origin,
    );
    expect(notice).toEqual({
      id: 'n1',
      title: 'Time for a quick check-in',
      body: 'Sleep is still open for today',
      url: 'https://app.lifexp.test/log?date=2026-11-30',
    });
    expect(notificationOptions(notice)).toEqual({
      title: 'Time for a quick check-in',
      options: {
        body: 'Sleep is still open for today',
        icon: '/favicon.svg',
        tag: 'n1',
        data: { url: 'https://app.lifexp.test/log?date=2026-11-30', id: 'n1' },
      },
    });
  });

  it('shows something sensible for an empty, plain-text or odd message', () => {
    expect(readPush(null, origin)).toEqual({
      id: null,
      title: 'Life XP',
      body: '',
      url: 'https://app.lifexp.test/notifications',
    });
    expect(readPush(data('not json {'), origin).body).toBe('not json {');
    const odd = readPush(data({ id: 7, title: 'x'.repeat(500), url: 'javascript:alert(1)' }), origin);
    expect(odd.id).toBeNull();
    expect(odd.title).toHaveLength(200);
    expect(odd.url).toBe('https://app.lifexp.test/notifications');
    expect(notificationOptions(odd).options).not.toHaveProperty('tag');
    expect(ownUrl('/insights/abc', origin)).toBe('https://app.lifexp.test/insights/abc');
  });

  it('reuses the window showing the link, else the focused one of the app, else opens one', () => {
    const url = `${origin}/insights/abc`;
    const windows = [
      { url: 'https://other.example/', focused: true },
      { url: `${origin}/history`, focused: false },
      { url: `${origin}/`, focused: true },
    ];
    expect(windowFor(windows, url, origin)).toBe(2);
    expect(windowFor([...windows, { url, focused: false }], url, origin)).toBe(3);
    expect(windowFor([windows[1]!], url, origin)).toBe(0);
    expect(windowFor([windows[0]!], url, origin)).toBe(-1);
    expect(windowFor([], url, origin)).toBe(-1);
  });
});

describe('live sync', () => {
  it('a delivered or read notice makes the notification answers stale, and nothing else', () => {
    expect(staleKeysOf('notification')).toEqual(['notifications']);
    expect(staleKeysOf('notifications')).toEqual(['notifications']);
    expect(staleKeysOf('entry')).not.toContain('notifications');
  });
});
