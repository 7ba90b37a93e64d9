// What the service worker does with a push message and a click on its notification, as pure
// functions (the worker only wires them to its events; unit-tested on their own).

/** The message the server pushes: `{id, kind, title, body, url}` (url absolute, on PUBLIC_ORIGIN). */
export interface PushedNotice {
  id: string | null;
  title: string;
  body: string;
  /** Where a click goes: always a page of this origin. */
  url: string;
}

const FALLBACK_PATH = '/notifications';

/**
 * A link from a message as a URL of this origin: only the path, search and hash are taken, so a
 * message can only ever open this dashboard (its PUBLIC_ORIGIN may differ from the worker's, e.g.
 * behind a proxy); anything unreadable opens the notifications list.
 */
export function ownUrl(link: unknown, origin: string): string {
  if (typeof link === 'string' && link !== '') {
    try {
      const parsed = new URL(link, origin);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:')
        return new URL(`${parsed.pathname}${parsed.search}${parsed.hash}`, origin).toString();
    } catch {
      // falls through
    }
  }
  return new URL(FALLBACK_PATH, origin).toString();
}

/** The push event's data (JSON, or plain text, or nothing) as a notice to show. */
export function readPush(
  data: { json(): unknown; text(): string } | null | undefined,
  origin: string,
): PushedNotice {
  let payload: unknown = null;
  if (data) {
    try {
      payload = data.json();
    } catch {
      payload = { body: data.text() };
    }
  }
  const value = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  const text = (field: unknown, max: number) => (typeof field === 'string' ? field.slice(0, max) : '');
  return {
    id: typeof value.id === 'string' ? value.id : null,
    title: text(value.title, 200) || 'Life XP',
    body: text(value.body, 1000),
    url: ownUrl(value.url, origin),
  };
}

/** The arguments of `registration.showNotification` for a notice. */
export function notificationOptions(notice: PushedNotice): { title: string; options: NotificationOptions } {
  return {
    title: notice.title,
    options: {
      body: notice.body,
      icon: '/favicon.svg',
      // One notification per notice: the same notice pushed twice replaces itself.
      ...(notice.id ? { tag: notice.id } : {}),
      data: { url: notice.url, id: notice.id },
    },
  };
}

/**
 * Which open window a click should use: one already showing the URL, else the focused window of the
 * dashboard, else any of its windows (navigated there); -1 opens a new one.
 */
export function windowFor(
  windows: readonly { url: string; focused: boolean }[],
  url: string,
  origin: string,
): number {
  const exact = windows.findIndex((window) => window.url === url);
  if (exact >= 0) return exact;
  const ours = windows
    .map((window, index) => ({ window, index }))
    .filter(({ window }) => {
      try {
        return new URL(window.url).origin === origin;
      } catch {
        return false;
      }
    });
  return (ours.find(({ window }) => window.focused) ?? ours[0])?.index ?? -1;
}
