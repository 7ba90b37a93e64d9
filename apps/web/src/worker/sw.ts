import { notificationOptions, readPush, windowFor } from '../lib/push-message';

// The dashboard's service worker (built to /sw.js, served `no-cache` so a new version is picked up):
// it shows pushed notices and opens their link when one is clicked. It caches nothing.

// The worker's own types, as far as it uses them (the DOM library of the rest of the app has none).
interface WindowClientLike {
  url: string;
  focused: boolean;
  focus(): Promise<unknown>;
  navigate(url: string): Promise<unknown>;
}
interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEventLike extends ExtendableEventLike {
  data: { json(): unknown; text(): string } | null;
}
interface NotificationEventLike extends ExtendableEventLike {
  notification: Notification;
}
interface WorkerScope {
  location: Location;
  registration: ServiceWorkerRegistration;
  clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'push', listener: (event: PushEventLike) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEventLike) => void): void;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEventLike) => void): void;
}

const worker = self as unknown as WorkerScope;
const origin = worker.location.origin;

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (event) => {
  const { title, options } = notificationOptions(readPush(event.data, origin));
  event.waitUntil(worker.registration.showNotification(title, options));
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = (event.notification.data ?? {}) as { url?: string; id?: string | null };
  const url = data.url ?? new URL('/notifications', origin).toString();
  event.waitUntil(
    (async () => {
      const windows = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const index = windowFor(windows, url, origin);
      const target = windows[index];
      if (target) {
        if (target.url !== url) await target.navigate(url).catch(() => undefined);
        await target.focus();
      } else {
        await worker.clients.openWindow(url);
      }
      // Following a notice reads it (with the session cookie of this origin; signed out: no change).
      if (data.id) {
        await fetch('/api/notifications/read', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: [data.id] }),
        }).catch(() => undefined);
      }
    })(),
  );
});
