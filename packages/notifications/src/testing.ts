/// <reference path="./http_ece.d.ts" />
import { execFileSync } from 'node:child_process';
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt } from 'http_ece';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

// Real local sinks for the outbound channels, for tests: an HTTPS push service that checks the
// VAPID JWT and decrypts the aes128gcm payload (RFC 8291) as a browser would, a webhook receiver
// that verifies Standard Webhooks signatures, and an SMTP server that keeps what it receives.

/** A self-signed certificate for 127.0.0.1 and localhost: the PEM pair and a file holding the cert. */
export function selfSignedCertificate() {
  const dir = mkdtempSync(join(tmpdir(), 'lifexp-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    certFile: join(dir, 'cert.pem'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export interface PushMessage {
  path: string;
  /** The decrypted payload. */
  payload: unknown;
  /** The claims of the verified VAPID JWT, and the key it was signed with. */
  claims: { aud: string; exp: number; sub: string };
  vapidKey: string;
  ttl: string | undefined;
}

/** A browser's subscription to the local push service: its endpoint and keys, and its private key. */
export interface PushSubscriber {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** What the push service answers this subscription: 201, or e.g. 410 (gone). */
  status: number;
}

/**
 * A push service on HTTPS: checks every request's VAPID JWT (ES256, audience = its origin, not
 * expired, signed by the key in `k`) and decrypts the aes128gcm body with the subscriber's keys.
 * Requests that fail a check are answered 401/400 and recorded in `rejected`.
 */
export async function startPushService(tls: { key: string; cert: string }) {
  const subscribers = new Map<
    string,
    PushSubscriber & { ecdh: ReturnType<typeof createECDH>; auth: Buffer }
  >();
  const received: PushMessage[] = [];
  const rejected: { path: string; reason: string }[] = [];
  let origin = '';
  const server = https.createServer(tls, async (request, response) => {
    const path = request.url ?? '';
    const body = await readBody(request);
    const subscriber = subscribers.get(path);
    const fail = (status: number, reason: string) => {
      rejected.push({ path, reason });
      response.writeHead(status).end(reason);
    };
    if (!subscriber) return fail(404, 'no such subscription');
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(
      String(request.headers.authorization ?? ''),
    );
    if (!match?.[1] || !match[2]) return fail(401, 'no VAPID authorization');
    const [head, claimsPart, signature] = match[1].split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg: string };
    const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString()) as PushMessage['claims'];
    const raw = Buffer.from(match[2], 'base64url');
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: raw.subarray(1, 33).toString('base64url'),
        y: raw.subarray(33, 65).toString('base64url'),
      },
      format: 'jwk',
    });
    const valid = verify(
      'sha256',
      Buffer.from(`${head}.${claimsPart}`),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
    if (header.alg !== 'ES256' || !valid) return fail(401, 'bad VAPID signature');
    if (claims.aud !== origin) return fail(401, `wrong audience ${claims.aud}`);
    const now = Date.now() / 1000;
    if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60))
      return fail(401, 'expired or too long-lived JWT');
    if (!/^(mailto:|https:)/.test(claims.sub)) return fail(401, 'bad subject');
    if (request.headers['content-encoding'] !== 'aes128gcm') return fail(400, 'not aes128gcm');
    let payload: unknown;
    try {
      const plain = decrypt(body, {
        version: 'aes128gcm',
        privateKey: subscriber.ecdh,
        authSecret: subscriber.auth.toString('base64url'),
      });
      payload = JSON.parse(plain.toString('utf8'));
    } catch (error) {
      return fail(400, `cannot decrypt: ${(error as Error).message}`);
    }
    if (subscriber.status >= 300) {
      rejected.push({ path, reason: `answered ${subscriber.status}` });
      return response.writeHead(subscriber.status).end();
    }
    received.push({
      path,
      payload,
      claims,
      vapidKey: match[2],
      ttl: request.headers.ttl as string | undefined,
    });
    response.writeHead(201).end();
  });
  const port = await listen(server);
  origin = `https://127.0.0.1:${port}`;
  return {
    origin,
    received,
    rejected,
    /** A new browser subscription at this service. */
    subscribe(status = 201): PushSubscriber {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${randomBytes(8).toString('hex')}`;
      const subscriber = {
        endpoint: `${origin}${path}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
        status,
        ecdh,
        auth,
      };
      subscribers.set(path, subscriber);
      return subscriber;
    },
    setStatus(endpoint: string, status: number) {
      const subscriber = subscribers.get(new URL(endpoint).pathname);
      if (subscriber) subscriber.status = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface WebhookMessage {
  id: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
}

/**
 * A webhook receiver: verifies each request with the secret set for its path; answers `status`
 * (settable) to verified requests and 400 to the others.
 */
export async function startWebhookReceiver() {
  const received: (WebhookMessage & { path: string })[] = [];
  const secrets = new Map<string, string>();
  let status = 200;
  const server = http.createServer(async (request, response) => {
    const body = (await readBody(request)).toString('utf8');
    const path = request.url ?? '';
    let verified = false;
    try {
      new Webhook(secrets.get(path) ?? 'whsec_AAAA').verify(body, request.headers as Record<string, string>);
      verified = true;
    } catch {
      verified = false;
    }
    received.push({ id: String(request.headers['webhook-id']), path, body: JSON.parse(body), verified });
    response.writeHead(verified ? status : 400).end();
  });
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hooks/lifexp`,
    port,
    received,
    /** The URL of another path of this receiver (each path has its own secret). */
    urlFor: (path: string) => `${base}${path}`,
    setSecret: (value: string, path = '/hooks/lifexp') => {
      secrets.set(path, value);
    },
    setStatus: (value: number) => {
      status = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** An SMTP server that accepts every message and keeps it. */
export async function startSmtpSink() {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port)),
  );
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded text of a MIME part (quoted-printable or base64) of a raw message, by content type. */
export function mimePart(raw: string, contentType: string): string | null {
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  for (const part of parts) {
    const [head = '', ...rest] = part.split(/\r?\n\r?\n/);
    if (!new RegExp(`content-type:\\s*${contentType}`, 'i').test(head)) continue;
    const body = rest.join('\n\n');
    if (/content-transfer-encoding:\s*base64/i.test(head))
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
      const bytes = body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    return body;
  }
  return null;
}
