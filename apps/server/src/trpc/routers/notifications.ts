import {
  createWebhookInput,
  listNotificationsInput,
  markReadInput,
  notificationPage,
  notificationsUpdated,
  ok,
  pushPublicKey,
  pushRemoved,
  pushSubscribed,
  pushSubscribeInput,
  pushUnsubscribeInput,
  webhookCreated,
  webhookIdInput,
  webhookList,
  webhookTestResult,
} from '@lifexp/contracts';
import {
  createWebhook,
  DomainError,
  deletePushSubscription,
  deleteWebhook,
  listNotifications,
  listWebhooks,
  markNotificationsRead,
  savePushSubscription,
  toWebhook,
} from '@lifexp/db';
import { assertPublicUrl, newWebhookSecret } from '@lifexp/notifications';
import type { Context } from '../context';
import { protectedProcedure, router } from '../init';

/** A URL that must not point into the server's own network (unless WEBHOOKS_ALLOW_PRIVATE). */
async function publicUrl(ctx: Context, url: string): Promise<void> {
  try {
    await assertPublicUrl(url, ctx.deps.config.webhooksAllowPrivate);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message =
      code === 'EUNSAFEADDRESS'
        ? `url: ${(error as Error).message}; only public addresses may be called`
        : `url: the host name does not resolve (${code ?? 'lookup failed'})`;
    throw new DomainError('BAD_REQUEST', message);
  }
}

export const notificationsRouter = router({
  /** Delivered in-app notices, newest first, and the count of unread ones. */
  list: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/notifications',
        summary: 'Delivered in-app notices, newest first, and the unread count',
        tags: ['notifications'],
      },
    })
    .input(listNotificationsInput)
    .output(notificationPage)
    .query(({ ctx, input }) => listNotifications(ctx.db, ctx.auth.user.id, input)),

  /** Marks the given notices read; ids of other accounts' notices change nothing. */
  markRead: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/notifications/read',
        summary: 'Marks notices read',
        tags: ['notifications'],
      },
    })
    .input(markReadInput)
    .output(notificationsUpdated)
    .mutation(async ({ ctx, input }) => ({
      updated: await markNotificationsRead(ctx.db, ctx.auth.user.id, input.ids),
    })),

  markAllRead: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/notifications/read-all',
        summary: 'Marks every notice read',
        tags: ['notifications'],
      },
    })
    .output(notificationsUpdated)
    .mutation(async ({ ctx }) => ({
      updated: await markNotificationsRead(ctx.db, ctx.auth.user.id, 'all'),
    })),
});

export const pushRouter = router({
  /** The VAPID public key to pass to pushManager.subscribe() as applicationServerKey. */
  publicKey: protectedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/api/push/public-key',
        summary: 'The VAPID public key for a browser push subscription',
        tags: ['push'],
      },
    })
    .output(pushPublicKey)
    .query(({ ctx }) => ({ publicKey: ctx.deps.notifications.publicKey })),

  subscribe: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/push/subscriptions',
        summary: 'Stores a browser push subscription',
        tags: ['push'],
      },
      created: true,
    })
    .input(pushSubscribeInput)
    .output(pushSubscribed)
    .mutation(async ({ ctx, input }) => {
      await publicUrl(ctx, input.endpoint);
      return savePushSubscription(
        ctx.db,
        ctx.auth.user.id,
        { endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth },
        ctx.deps.config.pushMaxSubscriptionsPerAccount,
      );
    }),

  unsubscribe: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/push/unsubscribe',
        summary: 'Removes a browser push subscription',
        tags: ['push'],
      },
    })
    .input(pushUnsubscribeInput)
    .output(pushRemoved)
    .mutation(async ({ ctx, input }) => ({
      removed: await deletePushSubscription(ctx.db, ctx.auth.user.id, input.endpoint),
    })),
});

export const webhooksRouter = router({
  /** Registers an endpoint; the signing secret is in this answer only. */
  create: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/webhooks',
        summary: 'Registers a webhook endpoint (its signing secret is in this answer only)',
        tags: ['webhooks'],
      },
      created: true,
    })
    .input(createWebhookInput)
    .output(webhookCreated)
    .mutation(async ({ ctx, input }) => {
      await publicUrl(ctx, input.url);
      const row = await createWebhook(
        ctx.db,
        ctx.auth.user.id,
        { url: input.url, description: input.description, secret: newWebhookSecret() },
        ctx.deps.config.webhooksMaxPerAccount,
      );
      return { ...toWebhook(row), secret: row.secret };
    }),

  list: protectedProcedure
    .meta({
      openapi: { method: 'GET', path: '/api/webhooks', summary: 'The webhook endpoints', tags: ['webhooks'] },
    })
    .output(webhookList)
    .query(({ ctx }) => listWebhooks(ctx.db, ctx.auth.user.id)),

  delete: protectedProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/api/webhooks/{id}',
        summary: 'Removes a webhook endpoint',
        tags: ['webhooks'],
      },
    })
    .input(webhookIdInput)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await deleteWebhook(ctx.db, ctx.auth.user.id, input.id);
      return { ok: true as const };
    }),

  /** Sends a signed `notification.test` message now and reports the answer. */
  test: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/webhooks/{id}/test',
        summary: 'Sends a signed test message now and reports the answer',
        tags: ['webhooks'],
      },
    })
    .input(webhookIdInput)
    .output(webhookTestResult)
    .mutation(async ({ ctx, input }) => {
      const outcome = await ctx.deps.notifications.testWebhook(ctx.auth.user.id, input.id);
      return outcome.ok
        ? { ok: true as const, status: outcome.status, error: null }
        : { ok: false as const, status: outcome.status, error: outcome.error };
    }),
});
