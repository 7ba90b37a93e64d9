import {
  createWebhookInput,
  listNotificationsInput,
  markReadInput,
  pushSubscribeInput,
  pushUnsubscribeInput,
  webhookIdInput,
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
    .input(listNotificationsInput)
    .query(({ ctx, input }) => listNotifications(ctx.db, ctx.auth.user.id, input)),

  /** Marks the given notices read; ids of other accounts' notices change nothing. */
  markRead: protectedProcedure.input(markReadInput).mutation(async ({ ctx, input }) => ({
    updated: await markNotificationsRead(ctx.db, ctx.auth.user.id, input.ids),
  })),

  markAllRead: protectedProcedure.mutation(async ({ ctx }) => ({
    updated: await markNotificationsRead(ctx.db, ctx.auth.user.id, 'all'),
  })),
});

export const pushRouter = router({
  /** The VAPID public key to pass to pushManager.subscribe() as applicationServerKey. */
  publicKey: protectedProcedure.query(({ ctx }) => ({ publicKey: ctx.deps.notifications.publicKey })),

  subscribe: protectedProcedure.input(pushSubscribeInput).mutation(async ({ ctx, input }) => {
    await publicUrl(ctx, input.endpoint);
    return savePushSubscription(
      ctx.db,
      ctx.auth.user.id,
      { endpoint: input.endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth },
      ctx.deps.config.pushMaxSubscriptionsPerAccount,
    );
  }),

  unsubscribe: protectedProcedure.input(pushUnsubscribeInput).mutation(async ({ ctx, input }) => ({
    removed: await deletePushSubscription(ctx.db, ctx.auth.user.id, input.endpoint),
  })),
});

export const webhooksRouter = router({
  /** Registers an endpoint; the signing secret is in this answer only. */
  create: protectedProcedure.input(createWebhookInput).mutation(async ({ ctx, input }) => {
    await publicUrl(ctx, input.url);
    const row = await createWebhook(
      ctx.db,
      ctx.auth.user.id,
      { url: input.url, description: input.description, secret: newWebhookSecret() },
      ctx.deps.config.webhooksMaxPerAccount,
    );
    return { ...toWebhook(row), secret: row.secret };
  }),

  list: protectedProcedure.query(({ ctx }) => listWebhooks(ctx.db, ctx.auth.user.id)),

  delete: protectedProcedure.input(webhookIdInput).mutation(async ({ ctx, input }) => {
    await deleteWebhook(ctx.db, ctx.auth.user.id, input.id);
    return { ok: true as const };
  }),

  /** Sends a signed `notification.test` message now and reports the answer. */
  test: protectedProcedure.input(webhookIdInput).mutation(async ({ ctx, input }) => {
    const outcome = await ctx.deps.notifications.testWebhook(ctx.auth.user.id, input.id);
    return outcome.ok
      ? { ok: true as const, status: outcome.status, error: null }
      : { ok: false as const, status: outcome.status, error: outcome.error };
  }),
});
