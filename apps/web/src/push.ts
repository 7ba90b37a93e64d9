import type { AppRouter } from '@lifexp/client';
import type { TRPCClient } from '@trpc/client';
import { base64UrlToBytes, type PushSupport, pushSupport } from './lib/notify';

// Web Push on this device: the service worker (/sw.js), the browser's subscription and the server's
// copy of it. Each step that can fail says why in words the settings screen shows.

export const SERVICE_WORKER_URL = '/sw.js';

/** What this browser offers, looked up now (permission included). */
export function detectPush(): PushSupport {
  return pushSupport({
    secureContext: window.isSecureContext,
    serviceWorker: 'serviceWorker' in navigator,
    pushManager: 'PushManager' in window,
    notification: 'Notification' in window,
    permission: 'Notification' in window ? Notification.permission : undefined,
  });
}

/** The worker's registration, registering it first when there is none. */
export async function workerRegistration(): Promise<ServiceWorkerRegistration> {
  const existing = await navigator.serviceWorker.getRegistration('/');
  return existing ?? (await navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' }));
}

/** This device's current push subscription, if any. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration('/');
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** A push step that failed, with the sentence to show. */
export class PushError extends Error {}

/** How long the browser's push service may take to hand out a subscription. */
export const SUBSCRIBE_TIMEOUT_MS = 20_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PushError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Hands the browser's subscription to the server (again: the server keeps one row per endpoint, so
 * repeating it only refreshes the keys, and moves the endpoint to whoever is signed in here).
 */
export async function sendSubscription(trpc: TRPCClient<AppRouter>, subscription: PushSubscription) {
  const json = subscription.toJSON();
  await trpc.push.subscribe.mutate({
    endpoint: subscription.endpoint,
    expirationTime: subscription.expirationTime,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
  });
}

/**
 * Asks for permission, subscribes with the server's VAPID key and hands the subscription to the
 * server. A subscription the server refuses is dropped again, so the two sides agree.
 */
export async function enablePush(trpc: TRPCClient<AppRouter>): Promise<PushSubscription> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new PushError(
      permission === 'denied'
        ? 'Notifications are blocked for this site. Allow them in your browser’s site settings, then try again.'
        : 'Notifications were not allowed. Choose “Allow” when the browser asks.',
    );
  }
  const registration = await workerRegistration();
  await navigator.serviceWorker.ready;
  const { publicKey } = await trpc.push.publicKey.query();
  let subscription: PushSubscription;
  try {
    subscription =
      (await registration.pushManager.getSubscription()) ??
      (await withTimeout(
        registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: base64UrlToBytes(publicKey),
        }),
        SUBSCRIBE_TIMEOUT_MS,
        'The browser’s push service did not answer. Check the connection and try again later.',
      ));
  } catch (error) {
    if (error instanceof PushError) throw error;
    throw new PushError(
      `This browser could not subscribe to push messages (${(error as Error).message || 'no push service'}).`,
    );
  }
  try {
    await sendSubscription(trpc, subscription);
  } catch (error) {
    await subscription.unsubscribe().catch(() => false);
    throw error;
  }
  return subscription;
}

/** Unsubscribes this device: the server forgets the endpoint, the browser drops the subscription. */
export async function disablePush(trpc: TRPCClient<AppRouter>): Promise<void> {
  const subscription = await currentSubscription();
  if (!subscription) return;
  await trpc.push.unsubscribe.mutate({ endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}
