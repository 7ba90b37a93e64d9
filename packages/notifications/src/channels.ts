import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import { Webhook } from 'standardwebhooks';
import webpush from 'web-push';
import { assertPublicUrl, guardedLookup } from './ssrf';

// The channels that leave the server: Web Push, webhooks, email. Each sends one message and reports
// what happened; the caller decides about retries, removals and counting failures.

export interface OutboundOptions {
  /** Let user-given URLs reach private, loopback and link-local addresses (WEBHOOKS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Extra trusted CA certificates (PEM) for HTTPS endpoints (OUTBOUND_CA_FILE). */
  ca?: string | undefined;
  timeoutMs: number;
}

/** What a channel message carries: the notice and its absolute deep link. */
export interface OutboundNotice {
  id: string;
  kind: string;
  title: string;
  body: string;
  url: string;
  localDate: string;
  createdAt: string;
  data: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Web Push

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export function generateVapidKeys(): VapidKeys {
  return webpush.generateVAPIDKeys();
}

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export type PushOutcome = { ok: true; status: number } | { ok: false; gone: boolean; error: string };

export function createPushSender(options: OutboundOptions & { vapid: VapidKeys; subject: string }) {
  const agent = new https.Agent({
    lookup: guardedLookup(options.allowPrivate),
    ...(options.ca ? { ca: [...tlsRootCertificates(), options.ca] } : {}),
    keepAlive: false,
  });
  return {
    async send(target: PushTarget, notice: OutboundNotice): Promise<PushOutcome> {
      try {
        await assertPublicUrl(target.endpoint, options.allowPrivate);
        const result = await webpush.sendNotification(
          { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
          JSON.stringify({
            id: notice.id,
            kind: notice.kind,
            title: notice.title,
            body: notice.body,
            url: notice.url,
          }),
          {
            vapidDetails: { subject: options.subject, ...options.vapid },
            TTL: 24 * 3600,
            contentEncoding: 'aes128gcm',
            agent,
            timeout: options.timeoutMs,
            urgency: 'normal',
          },
        );
        return { ok: true, status: result.statusCode };
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        return { ok: false, gone: status === 404 || status === 410, error: describe(error, status) };
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Webhooks (Standard Webhooks)

/** A new endpoint secret in the Standard Webhooks form: `whsec_` and 32 random bytes, base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export interface WebhookDelivery {
  url: string;
  secret: string;
  /** The same for every retry of one message, so the receiver can drop duplicates. */
  messageId: string;
  type: string;
  data: unknown;
}

export type WebhookOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string };

const MAX_RESPONSE_BYTES = 64 * 1024;

export function createWebhookSender(options: OutboundOptions) {
  const lookup = guardedLookup(options.allowPrivate);
  return {
    async send(delivery: WebhookDelivery, now = new Date()): Promise<WebhookOutcome> {
      const payload = JSON.stringify({
        type: delivery.type,
        timestamp: now.toISOString(),
        data: delivery.data,
      });
      try {
        await assertPublicUrl(delivery.url, options.allowPrivate);
        const signature = new Webhook(delivery.secret).sign(delivery.messageId, now, payload);
        const status = await post(delivery.url, payload, {
          'content-type': 'application/json',
          'user-agent': 'LifeXP-Webhooks/1',
          'webhook-id': delivery.messageId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signature,
        });
        if (status >= 200 && status < 300) return { ok: true, status };
        return { ok: false, status, error: `answered ${status}` };
      } catch (error) {
        return { ok: false, status: null, error: describe(error) };
      }
    },
  };

  /** One POST, no redirects followed, the response read up to a bound and dropped. */
  function post(raw: string, body: string, headers: Record<string, string>): Promise<number> {
    const url = new URL(raw);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup,
          timeout: options.timeoutMs,
          ...(url.protocol === 'https:' && options.ca ? { ca: [...tlsRootCertificates(), options.ca] } : {}),
          agent: false,
        },
        (response) => {
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) response.destroy();
          });
          response.on('close', () => resolve(response.statusCode ?? 0));
          response.on('error', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Email

export interface MailOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

export interface Mail {
  to: string;
  notice: OutboundNotice;
  unsubscribeUrl: string;
}

export function createMailer(options: MailOptions) {
  const transport = nodemailer.createTransport(options.smtpUrl, {
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as object);
  return {
    async send(mail: Mail): Promise<void> {
      const { notice } = mail;
      await transport.sendMail({
        from: options.from,
        to: mail.to,
        subject: notice.title,
        text: `${notice.body}\n\nOpen Life XP: ${notice.url}\n\nNo more emails: ${mail.unsubscribeUrl}\n`,
        html: `<!doctype html><html><body style="font-family:sans-serif">
<p>${escapeHtml(notice.body)}</p>
<p><a href="${escapeHtml(notice.url)}">Open Life XP</a></p>
<p style="color:#666;font-size:12px"><a href="${escapeHtml(mail.unsubscribeUrl)}">Unsubscribe from these emails</a></p>
</body></html>`,
        headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        list: { unsubscribe: mail.unsubscribeUrl },
      });
    },
    close(): void {
      transport.close();
    },
  };
}

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] as string,
  );
}

/** Extra CAs are added to the public roots, not instead of them. */
function tlsRootCertificates(): readonly string[] {
  return rootCertificates;
}

function describe(error: unknown, status?: number): string {
  const message = error instanceof Error ? error.message : String(error);
  return (status ? `answered ${status}: ${message}` : message).slice(0, 300);
}
