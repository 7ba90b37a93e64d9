import { describe, expect, it } from 'vitest';
import { composeNotice } from '../src';

describe('notice texts', () => {
  it('each notice is one short sentence or two, with a dashboard link', () => {
    const notices = [
      composeNotice({ kind: 'reminder', localDate: '2026-06-15', missing: [] }),
      composeNotice({ kind: 'reminder', localDate: '2026-06-15', missing: ['Mood', 'Sleep'] }),
      composeNotice({ kind: 'streak', localDate: '2026-06-15', streak: 5 }),
      composeNotice({
        kind: 'insight',
        insightId: 'abc',
        sentence: 'On days after you sleep over 7.5 h your mood is 0.8 higher.',
      }),
      composeNotice({
        kind: 'weekly',
        localDate: '2026-06-15',
        xpGained: 140,
        strongest: 'Sleep goes with mood.',
        turned: [{ metric: 'Focus', from: 'down', to: 'up' }],
      }),
      composeNotice({
        kind: 'webhook-disabled',
        webhookId: 'w',
        url: 'https://example.com/hook',
        failures: 15,
      }),
      composeNotice({ kind: 'test' }),
    ];
    for (const notice of notices) {
      expect(notice.title.length).toBeGreaterThan(0);
      expect(notice.body.length).toBeLessThanOrEqual(300);
      expect(notice.link.startsWith('/')).toBe(true);
    }
    expect(notices[0]?.body).toMatch(/^Nothing is logged yet today/);
    expect(notices[0]?.link).toBe('/log?date=2026-06-15');
    expect(notices[1]?.body).toMatch(/^Mood and Sleep are still open for today/);
    expect(notices[2]?.body).toContain('5 days in a row');
    expect(notices[3]?.link).toBe('/insights/abc');
    expect(notices[4]?.body).toContain('140 XP');
    expect(notices[4]?.body).toContain('Focus (now up)');
  });

  it('long lists and sentences are cut', () => {
    const many = composeNotice({
      kind: 'reminder',
      localDate: '2026-06-15',
      missing: ['A', 'B', 'C', 'D', 'E', 'F', 'G'],
    });
    expect(many.body).toMatch(/^A, B, C, D, E and 2 more are still open/);
    const long = composeNotice({ kind: 'insight', insightId: 'x', sentence: 'x'.repeat(1000) });
    expect(long.body.length).toBe(240);
  });
});
