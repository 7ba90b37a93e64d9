// What each notice says: one short, kind sentence and a link to the dashboard screen it is about.

export interface Composed {
  title: string;
  body: string;
  /** A path of the dashboard; channels that leave the app make it absolute with PUBLIC_ORIGIN. */
  link: string;
  data: Record<string, unknown>;
}

export type NoticeContent =
  | { kind: 'reminder'; localDate: string; missing: string[] }
  | { kind: 'streak'; localDate: string; streak: number }
  | { kind: 'insight'; insightId: string; sentence: string }
  | {
      kind: 'weekly';
      localDate: string;
      xpGained: number;
      strongest: string | null;
      turned: { metric: string; from: string; to: string }[];
    }
  | { kind: 'webhook-disabled'; webhookId: string; url: string; failures: number }
  | { kind: 'test' };

function list(names: string[]): string {
  if (names.length <= 1) return names.join('');
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function quoted(text: string, max = 140): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function composeNotice(content: NoticeContent): Composed {
  switch (content.kind) {
    case 'reminder': {
      const names = content.missing.slice(0, 5);
      const more = content.missing.length - names.length;
      const what =
        names.length === 0
          ? 'Nothing is logged yet today'
          : `${list(more > 0 ? [...names, `${more} more`] : names)} ${content.missing.length === 1 ? 'is' : 'are'} still open for today`;
      return {
        title: 'Time for a quick check-in',
        body: `${what} — a minute now keeps your picture of the day complete.`,
        link: `/log?date=${content.localDate}`,
        data: { missing: content.missing },
      };
    }
    case 'streak':
      return {
        title: `Your ${content.streak}-day streak`,
        body: `You have logged ${content.streak} days in a row; one entry today keeps the streak going.`,
        link: `/log?date=${content.localDate}`,
        data: { streak: content.streak },
      };
    case 'insight':
      return {
        title: 'Something new in your data',
        body: quoted(content.sentence, 240),
        link: `/insights/${content.insightId}`,
        data: { insightId: content.insightId },
      };
    case 'weekly': {
      const parts = [`You gained ${content.xpGained} XP this week.`];
      if (content.strongest) parts.push(`Strongest finding: ${quoted(content.strongest)}`);
      if (content.turned.length > 0)
        parts.push(
          `Turned around: ${list(content.turned.slice(0, 3).map((turn) => `${turn.metric} (now ${turn.to})`))}.`,
        );
      return {
        title: 'Your week in review',
        body: parts.join(' '),
        link: `/insights?week=${content.localDate}`,
        data: { xpGained: content.xpGained, strongest: content.strongest, turned: content.turned },
      };
    }
    case 'webhook-disabled':
      return {
        title: 'A webhook was paused',
        body: `${quoted(content.url, 100)} failed ${content.failures} times in a row, so it is paused; a successful test turns it back on.`,
        link: '/settings/notifications',
        data: { webhookId: content.webhookId, failures: content.failures },
      };
    case 'test':
      return {
        title: 'Test notification',
        body: 'This is a test from Life XP: this channel works.',
        link: '/settings/notifications',
        data: {},
      };
  }
}
