import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMailer,
  createPushSender,
  createWebhookSender,
  generateVapidKeys,
  newWebhookSecret,
  type OutboundNotice,
} from '../src';
import {
  mimePart,
  selfSignedCertificate,
  startPushService,
  startSmtpSink,
  startWebhookReceiver,
} from '../src/testing';

const notice: OutboundNotice = {
  id: '5b1f4c1e-8a9a-4b55-8f0e-3e7a1f0e2b11',
  kind: 'reminder',
  title: 'Time for a quick check-in',
  body: 'Mood is still open for today — a minute now keeps your picture of the day complete.',
  url: 'http://localhost:5173/log?date=2026-06-15',
  localDate: '2026-06-15',
  createdAt: '2026-06-15T10:00:00.000Z',
  data: {},
};

describe('Web Push against a local push service', () => {
  const certificate = selfSignedCertificate();
  let service: Awaited<ReturnType<typeof startPushService>>;
  const vapid = generateVapidKeys();
  beforeAll(async () => {
    service = await startPushService(certificate);
  });
  afterAll(async () => {
    await service.close();
    certificate.dispose();
  });
  const sender = () =>
    createPushSender({
      allowPrivate: true,
      ca: certificate.cert,
      timeoutMs: 5000,
      vapid,
      subject: 'mailto:ops@example.com',
    });

  it('sends a VAPID-signed aes128gcm message the subscriber decrypts', async () => {
    const subscriber = service.subscribe();
    const outcome = await sender().send({ endpoint: subscriber.endpoint, ...subscriber.keys }, notice);
    expect(outcome).toEqual({ ok: true, status: 201 });
    const message = service.received.find((m) => subscriber.endpoint.endsWith(m.path));
    expect(message?.payload).toEqual({
      id: notice.id,
      kind: 'reminder',
      title: notice.title,
      body: notice.body,
      url: notice.url,
    });
    expect(message?.vapidKey).toBe(vapid.publicKey);
    expect(message?.claims.aud).toBe(service.origin);
    expect(message?.claims.sub).toBe('mailto:ops@example.com');
  });

  it('reports 404 and 410 as gone, other failures not', async () => {
    for (const [status, gone] of [
      [410, true],
      [404, true],
      [500, false],
    ] as const) {
      const subscriber = service.subscribe(status);
      const outcome = await sender().send({ endpoint: subscriber.endpoint, ...subscriber.keys }, notice);
      expect(outcome).toMatchObject({ ok: false, gone });
    }
  });

  it('an untrusted certificate fails (no CA given)', async () => {
    const subscriber = service.subscribe();
    const untrusting = createPushSender({
      allowPrivate: true,
      timeoutMs: 5000,
      vapid,
      subject: 'mailto:ops@example.com',
    });
    const outcome = await untrusting.send({ endpoint: subscriber.endpoint, ...subscriber.keys }, notice);
    expect(outcome.ok).toBe(false);
  });

  it('refuses a loopback push endpoint unless private addresses are allowed', async () => {
    const subscriber = service.subscribe();
    const guarded = createPushSender({
      allowPrivate: false,
      ca: certificate.cert,
      timeoutMs: 5000,
      vapid,
      subject: 'mailto:ops@example.com',
    });
    const before = service.received.length + service.rejected.length;
    const outcome = await guarded.send({ endpoint: subscriber.endpoint, ...subscriber.keys }, notice);
    expect(outcome).toMatchObject({ ok: false, gone: false });
    expect(service.received.length + service.rejected.length).toBe(before);
  });
});

describe('webhooks against a local receiver', () => {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.close());

  it('signs per Standard Webhooks: the receiver verifies with the endpoint secret', async () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    receiver.setSecret(secret);
    const sender = createWebhookSender({ allowPrivate: true, timeoutMs: 5000 });
    const outcome = await sender.send({
      url: receiver.url,
      secret,
      messageId: 'msg_1',
      type: 'notification.created',
      data: notice,
    });
    expect(outcome).toEqual({ ok: true, status: 200 });
    const last = receiver.received.at(-1);
    expect(last).toMatchObject({
      id: 'msg_1',
      verified: true,
      body: { type: 'notification.created', data: { id: notice.id } },
    });
  });

  it('a signature made with another secret does not verify; a non-2xx answer is a failure', async () => {
    receiver.setSecret(newWebhookSecret());
    const sender = createWebhookSender({ allowPrivate: true, timeoutMs: 5000 });
    const outcome = await sender.send({
      url: receiver.url,
      secret: newWebhookSecret(),
      messageId: 'msg_2',
      type: 't',
      data: {},
    });
    expect(outcome).toEqual({ ok: false, status: 400, error: 'answered 400' });
    expect(receiver.received.at(-1)?.verified).toBe(false);
  });

  it('refuses loopback, private and link-local targets, by literal and after DNS', async () => {
    const sender = createWebhookSender({ allowPrivate: false, timeoutMs: 2000 });
    const before = receiver.received.length;
    for (const url of [
      receiver.url,
      `http://localhost:${receiver.port}/`,
      `http://[::1]:${receiver.port}/`,
      `http://[::ffff:127.0.0.1]:${receiver.port}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/',
      'http://192.168.1.1/',
      'http://0.0.0.0/',
    ]) {
      const outcome = await sender.send({
        url,
        secret: newWebhookSecret(),
        messageId: 'm',
        type: 't',
        data: {},
      });
      expect(outcome.ok, url).toBe(false);
      expect(outcome.ok ? '' : outcome.error, url).toMatch(/private|loopback/);
    }
    expect(receiver.received.length).toBe(before);
  });
});

describe('email against a local SMTP server', () => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(() => sink.close());

  it('sends plain text and HTML with an unsubscribe link and one-click headers', async () => {
    const mailer = createMailer({ smtpUrl: sink.url, from: 'Life XP <n@lifexp.test>', timeoutMs: 5000 });
    const unsubscribeUrl = 'http://127.0.0.1:3000/api/notifications/unsubscribe?token=abc';
    await mailer.send({
      to: 'person@example.test',
      notice: { ...notice, body: `${notice.body} <b>&</b>` },
      unsubscribeUrl,
    });
    mailer.close();
    const mail = sink.received.at(-1);
    expect(mail?.to).toEqual(['person@example.test']);
    const headers = (mail?.raw ?? '').split(/\r?\n\r?\n/)[0]?.replace(/\r?\n\s+/g, ' ');
    expect(headers).toMatch(
      /^List-Unsubscribe: <http:\/\/127\.0\.0\.1:3000\/api\/notifications\/unsubscribe\?token=abc>/m,
    );
    expect(headers).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    const text = mimePart(mail?.raw ?? '', 'text/plain');
    const html = mimePart(mail?.raw ?? '', 'text/html');
    expect(text).toContain('Mood is still open for today — a minute now');
    expect(text).toContain(unsubscribeUrl);
    expect(html).toContain('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(html).toContain(`href="${unsubscribeUrl}"`);
  });
});
