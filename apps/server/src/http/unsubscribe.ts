import { turnOffEmail } from '@lifexp/db';
import { escapeHtml } from '@lifexp/notifications';
import { Hono } from 'hono';
import type { AppDeps } from '../deps';
import type { HonoEnv } from './env';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">${body}</body></html>`;
}

/** Signed by its token, not by a session. */
export const UNSUBSCRIBE_PATH = '/api/notifications/unsubscribe';

/**
 * The unsubscribe link of notification emails. GET shows a button (mail scanners that open links
 * must not unsubscribe anyone); POST — the button, or a mail client's RFC 8058 one-click request —
 * turns the email channel off. The token is the user id signed with the server's key.
 */
export function unsubscribeRoutes(deps: AppDeps) {
  const app = new Hono<HonoEnv>();
  app.get(UNSUBSCRIBE_PATH, (c) => {
    const token = c.req.query('token') ?? '';
    if (!deps.notifications.verifyUnsubscribe(token))
      return c.html(page('Link not valid', '<p>This unsubscribe link is not valid.</p>'), 400);
    return c.html(
      page(
        'Unsubscribe',
        `<p>Stop notification emails from Life XP? Reminders and notices stay in the app.</p>
<form method="post" action="${UNSUBSCRIBE_PATH}?token=${escapeHtml(encodeURIComponent(token))}"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });
  app.post(UNSUBSCRIBE_PATH, async (c) => {
    const userId = deps.notifications.verifyUnsubscribe(c.req.query('token') ?? '');
    if (!userId) return c.html(page('Link not valid', '<p>This unsubscribe link is not valid.</p>'), 400);
    await turnOffEmail(deps.database.db, userId);
    return c.html(page('Unsubscribed', '<p>You will get no more notification emails.</p>'));
  });
  return app;
}
