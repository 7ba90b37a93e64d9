// @vitest-environment happy-dom
import { composeNotice, type NoticeContent } from '@lifexp/notifications';
import { createMemoryHistory, createRouter } from '@tanstack/react-router';
import { describe, expect, it } from 'vitest';
import { routeTree } from '../src/router';

// Every link the server puts in a notice (composeNotice, the one place it builds them) must land on
// a screen of the dashboard, with what it says (the date, the finding) intact.

const insightId = '6f1d7b9e-3c1a-4c53-9d65-0d6f7c2a9b10';
const contents: NoticeContent[] = [
  { kind: 'reminder', localDate: '2026-11-30', missing: ['Sleep'] },
  { kind: 'streak', localDate: '2026-11-30', streak: 5 },
  { kind: 'insight', insightId, sentence: 'You sleep longer after a run.' },
  { kind: 'weekly', localDate: '2026-11-29', xpGained: 120, strongest: null, turned: [] },
  { kind: 'webhook-disabled', webhookId: insightId, url: 'https://example.com/hook', failures: 5 },
  { kind: 'test' },
];

async function land(path: string) {
  const router = createRouter({ routeTree, history: createMemoryHistory({ initialEntries: [path] }) });
  await router.load();
  const leaf = router.state.matches.at(-1);
  return {
    routeId: leaf?.routeId,
    // Nothing below the root matched: the root's "not found" shows.
    notFound: leaf === undefined || leaf.routeId === '__root__',
    pathname: router.state.location.pathname,
    search: router.state.location.search as Record<string, unknown>,
    params: (leaf?.params ?? {}) as Record<string, string>,
  };
}

describe('notice deep links', () => {
  const expected: Record<NoticeContent['kind'], string> = {
    reminder: '/',
    streak: '/',
    insight: '/insights/$insightId',
    weekly: '/insights',
    'webhook-disabled': '/settings/notifications',
    test: '/settings/notifications',
  };

  for (const content of contents) {
    it(`a ${content.kind} notice's link opens its screen`, async () => {
      const { link } = composeNotice(content);
      const landed = await land(link);
      expect(landed.notFound).toBe(false);
      expect(landed.routeId).toBe(expected[content.kind]);
      if (content.kind === 'reminder' || content.kind === 'streak') {
        // /log?date=… is the day's logging screen: Today, on that date.
        expect(landed.pathname).toBe('/');
        expect(landed.search.date).toBe(content.localDate);
      }
      if (content.kind === 'insight') expect(landed.params.insightId).toBe(insightId);
      if (content.kind === 'weekly') expect(landed.search.week).toBe(content.localDate);
    });
  }

  it('a path the dashboard does not have is its "not found", and a bad date is dropped', async () => {
    expect((await land('/nowhere')).notFound).toBe(true);
    const landed = await land('/log?date=2026-13-45');
    expect(landed.notFound).toBe(false);
    expect(landed.pathname).toBe('/');
    expect(landed.search.date).toBeUndefined();
  });
});
