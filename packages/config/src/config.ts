import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The one place that reads the environment. Everything else receives a typed Config.

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What a process runs: `web` serves HTTP and WebSocket, `worker` runs the job queues, `all` both. */
export const roles = ['all', 'web', 'worker'] as const;
export type Role = (typeof roles)[number];

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

const decimal = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a number from ${min} to ${max}` })
    .min(min, { error: `must be a number from ${min} to ${max}` })
    .max(max, { error: `must be a number from ${min} to ${max}` });

const origin = z.string().transform((value, ctx) => {
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '')) {
      return url.origin;
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `"${value}" is not an origin like https://app.example.com` });
  return z.NEVER;
});

const envSchema = z.object({
  NODE_ENV: z
    .enum(['production', 'development', 'test'], { error: 'must be production, development or test' })
    .default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: integer(0, 65535).default(3000),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
      error: 'must be a postgres:// or postgresql:// URL',
    })
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  WEB_DIST_DIR: z.string().min(1).optional(),
  ALLOWED_ORIGINS: z
    .string()
    .default('http://localhost:5173,http://127.0.0.1:5173')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(origin)),
  LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info'),
  SHUTDOWN_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  DB_POOL_MAX: integer(1, 200).default(10),
  MAX_BODY_BYTES: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
  IMPORT_MAX_BYTES: integer(1024, 2 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  WS_MAX_PAYLOAD_BYTES: integer(1024, 16 * 1024 * 1024).default(1024 * 1024),
  PURGE_DELETED_AFTER_DAYS: integer(0, 3650).default(30),
  MAINTENANCE_INTERVAL_MS: integer(1000, 86_400_000).default(3_600_000),
  SYNC_RETENTION_DAYS: integer(1, 3650).default(90),
  SYNC_RETENTION_EVENTS: integer(100, 10_000_000).default(100_000),
  SESSION_RECHECK_MS: integer(1000, 86_400_000).default(300_000),
  SESSION_CACHE_MS: integer(0, 60_000).default(5_000),
  SESSION_CACHE_ENTRIES: integer(0, 1_000_000).default(10_000),
  WS_SEND_BUFFER_BYTES: integer(64 * 1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  WS_DRAIN_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  ANALYTICS_WORKERS: integer(1, 16).default(1),
  ANALYTICS_CACHE_ENTRIES: integer(0, 100_000).default(256),
  ANALYTICS_CACHE_BYTES: integer(0, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  ANALYTICS_CACHE_ACCOUNT_BYTES: integer(64 * 1024, 4 * 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  METRICS_MAX_ACTIVE: integer(1, 10_000).default(200),
  ANALYTICS_MAX_DAYS: integer(30, 36_600).default(3660),
  ANALYTICS_MAX_LAG: integer(0, 30).default(3),
  ANALYTICS_PAGE_MAX: integer(50, 1000).default(200),
  ANALYTICS_ANSWER_MAX_BYTES: integer(64 * 1024, 256 * 1024 * 1024).default(1024 * 1024),
  ANALYTICS_TASK_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  ANALYTICS_WORKER_MEMORY_MB: integer(32, 16_384).default(512),
  ANALYTICS_QUEUE_MAX: integer(1, 10_000).default(64),
  ANALYTICS_QUEUE_PER_ACCOUNT: integer(1, 100).default(4),
  API_ACCOUNT_CALLS_PER_SECOND: decimal(0.01, 100_000).default(20),
  API_ACCOUNT_CALLS_BURST: integer(1, 1_000_000).default(200),
  API_REFUSAL_HOLD_MS: integer(0, 10_000).default(1000),
  API_REFUSAL_HOLD_MAX: integer(0, 100_000).default(1000),
  ANALYTICS_ACCOUNT_PERCENT: integer(1, 100).default(10),
  ANALYTICS_ACCOUNT_BURST_MS: integer(100, 600_000).default(5_000),
  INSIGHTS_MIN_DAYS: integer(7, 3650).default(14),
  INSIGHTS_Q: z.coerce
    .number({ error: 'must be a number from 0 to 1' })
    .gt(0)
    .max(1, { error: 'must be a number from 0 to 1' })
    .default(0.05),
  INSIGHTS_DEBOUNCE_SECONDS: integer(0, 3600).default(30),
  INSIGHTS_RECOMPUTE_PERCENT: integer(1, 100).default(10),
  INSIGHTS_LOCAL_HOUR: integer(0, 23).default(4),
  JOBS_POLL_SECONDS: integer(1, 60).default(2),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^(\*|[a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/, {
          error: 'must be comma-separated host names (optionally with :port), or *',
        }),
      ),
    ),
  ROLE: z.enum(roles, { error: 'must be all, web or worker' }).default('all'),
  PUBLIC_ORIGIN: origin.optional(),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,512}$/, { error: 'must be 32 to 512 printable characters without spaces' })
    .optional(),
  DEVICE_COOKIE_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  // Limits (see docs/configuration.md § Limits)
  MAX_BATCH_SIZE: integer(1, 1000).default(50),
  REGISTRATIONS_PER_ADDRESS: integer(1, 100_000).default(10),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: integer(1, 1000).default(8),
  WS_MAX_SOCKETS_PER_ACCOUNT: integer(1, 100_000).default(20),
  WS_MAX_SOCKETS_PER_ADDRESS: integer(1, 100_000).default(50),
  WS_MAX_MESSAGES_PER_SECOND: integer(1, 100_000).default(50),
  WS_MESSAGE_BURST: integer(1, 1_000_000).default(200),
  WS_AUTH_GRACE_MS: integer(100, 600_000).default(10_000),
  // Notifications
  NOTIFICATIONS_TICK_SECONDS: integer(1, 3600).default(60),
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{80,100}$/, { error: 'must be a base64url P-256 public key' })
    .optional(),
  VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{40,50}$/, { error: 'must be a base64url P-256 private key' })
    .optional(),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, { error: 'must be a mailto: or https: URL' })
    .default('mailto:notifications@lifexp.invalid'),
  SMTP_URL: z
    .string()
    .refine((value) => /^smtps?:\/\/\S+$/.test(value) && URL.canParse(value), {
      error: 'must be an smtp:// or smtps:// URL',
    })
    .optional(),
  SMTP_FROM: z.string().min(3).max(200).default('Life XP <notifications@lifexp.invalid>'),
  OUTBOUND_CA_FILE: z.string().min(1).optional(),
  OUTBOUND_TIMEOUT_MS: integer(500, 60_000).default(10_000),
  WEBHOOKS_ALLOW_PRIVATE: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  WEBHOOKS_MAX_PER_ACCOUNT: integer(1, 100).default(10),
  WEBHOOKS_RETRY_LIMIT: integer(0, 20).default(5),
  WEBHOOKS_RETRY_DELAY_SECONDS: integer(1, 3600).default(30),
  WEBHOOKS_DISABLE_AFTER: integer(1, 1000).default(15),
  PUSH_MAX_SUBSCRIPTIONS_PER_ACCOUNT: integer(1, 100).default(20),
});

export interface Config {
  env: 'production' | 'development' | 'test';
  /** What this process runs (ROLE); the embedded database allows only `all`. */
  role: Role;
  /**
   * Where people reach the service (PUBLIC_ORIGIN), for links; it is also an allowed origin (and
   * so an allowed host).
   */
  publicOrigin: string | undefined;
  /** Bearer token of GET /metrics; unset: the endpoint does not exist. */
  metricsToken: string | undefined;
  /** Where the command was typed (pnpm runs scripts inside the package): relative paths start here. */
  workingDirectory: string;
  host: string;
  port: number;
  databaseUrl: string | undefined;
  /** Absolute path of the embedded database's directory (unused when databaseUrl is set). */
  dataDir: string;
  /**
   * Absolute path of the built dashboard served at `/`, or undefined to serve none: WEB_DIST_DIR, or
   * when it exists the web app's build beside the server bundle (dist/web) or, run from sources, in
   * this checkout (apps/web/dist); `WEB_DIST_DIR=none` turns it off.
   */
  webDistDir: string | undefined;
  allowedOrigins: string[];
  logLevel: (typeof logLevels)[number];
  shutdownTimeoutMs: number;
  dbPoolMax: number;
  maxBodyBytes: number;
  /** Largest file the import upload route takes. */
  importMaxBytes: number;
  wsMaxPayloadBytes: number;
  /** Soft-deleted metrics and entries are removed for good after this many days. */
  purgeDeletedAfterDays: number;
  maintenanceIntervalMs: number;
  /** change_log retention: events older than this many days go... */
  syncRetentionDays: number;
  /** ...and so do all but this many newest events of each user. Older cursors get a resync. */
  syncRetentionEvents: number;
  /** How often a live WebSocket connection's session is re-validated. */
  sessionRecheckMs: number;
  /** How long a validated session is reused from memory (0: every request asks the database). */
  sessionCacheMs: number;
  /** Sessions held in that memory at most. */
  sessionCacheEntries: number;
  /** A subscriber whose unsent data exceeds this is paused (and dropped if it never drains). */
  wsSendBufferBytes: number;
  /** How long a paused subscriber may stay over the buffer limit before it is disconnected. */
  wsDrainTimeoutMs: number;
  /** Worker threads for the statistics. */
  analyticsWorkers: number;
  /** Cached analytics answers (LRU); 0 turns the cache off. */
  analyticsCacheEntries: number;
  /** The answer cache's bound in bytes (of each answer's JSON); 0 turns the cache off. */
  analyticsCacheBytes: number;
  /** Bytes one account's entries may take in each analytics cache (answers, series). */
  analyticsCacheAccountBytes: number;
  /** Active (not archived, not deleted) metrics per account: creating or restoring more is refused. */
  metricsMaxActive: number;
  /** The longest analysed window in days; an open-ended range is cut to the newest this many days. */
  analyticsMaxDays: number;
  /** The largest correlation lag an analytics call may ask for. */
  analyticsMaxLag: number;
  /** The largest page of findings one analytics answer carries. */
  analyticsPageMax: number;
  /** The largest analytics answer (its JSON), computed or cached. */
  analyticsAnswerMaxBytes: number;
  /** A statistics task that runs longer is cut off: its worker is terminated and replaced. */
  analyticsTaskTimeoutMs: number;
  /** Heap limit of each analytics worker thread (resourceLimits.maxOldGenerationSizeMb). */
  analyticsWorkerMemoryMb: number;
  /** Analytics tasks waiting for a worker, all accounts together; beyond, TOO_MANY_REQUESTS. */
  analyticsQueueMax: number;
  /** Distinct analytics requests one account may have in progress; beyond, TOO_MANY_REQUESTS. */
  analyticsQueuePerAccount: number;
  /** API calls (HTTP; each call of a batch) one account may make per second on one instance, on average. */
  apiAccountCallsPerSecond: number;
  /** API calls an idle account may make at once before its rate applies. */
  apiAccountCallsBurst: number;
  /** How long a call refused by the account's rate waits before its answer (at most its Retry-After). */
  apiRefusalHoldMs: number;
  /** Refusals held at once on an instance; beyond, they are answered at once. */
  apiRefusalHoldMax: number;
  /** The share of real time (per cent) one account's computed analytics answers may take on average. */
  analyticsAccountPercent: number;
  /** The compute time (ms) an idle account may spend at once before its share applies. */
  analyticsAccountBurstMs: number;
  /** Fewest paired days behind an insight, and the false-discovery rate for stored findings. */
  insightsMinDays: number;
  insightsQ: number;
  /** A burst of writes gives one recompute, this many seconds after the first. */
  insightsDebounceSeconds: number;
  /** The share of the time (percent) background recomputes may use: they rest in between their steps. */
  insightsRecomputePercent: number;
  /** The local hour at which each user's insights are recomputed daily. */
  insightsLocalHour: number;
  jobsPollSeconds: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  /**
   * Host names (optionally host:port) this server answers to; a request with another Host is refused
   * (DNS rebinding). Empty: loopback names, HOST and the hosts of ALLOWED_ORIGINS. `*`: any.
   */
  allowedHosts: string[];
  /** Key of the signed device cookie; unset: a random key per process (devices are known until a restart). */
  deviceCookieSecret: string | undefined;
  /** Largest tRPC batch over HTTP. */
  maxBatchSize: number;
  /** Registrations per client address and hour. */
  registrationsPerAddress: number;
  /** Live subscriptions one WebSocket may hold. */
  wsMaxSubscriptionsPerSocket: number;
  /** Live connections (WebSockets and HTTP subscription streams) of one account on one instance. */
  wsMaxSocketsPerAccount: number;
  /** Open WebSockets from one client address on one instance. */
  wsMaxSocketsPerAddress: number;
  /** Sustained messages per second a WebSocket may send… */
  wsMaxMessagesPerSecond: number;
  /** …and the burst above that rate. */
  wsMessageBurst: number;
  /** A WebSocket without a valid session is closed after this long. */
  wsAuthGraceMs: number;
  /** How often the notification scheduler looks for due notices. */
  notificationsTickSeconds: number;
  /**
   * The origin of links that leave the app (deep links in notices, unsubscribe links): the
   * dashboard and the API share it. PUBLIC_ORIGIN, or http://HOST:PORT when unset.
   */
  linkOrigin: string;
  /** VAPID keys for Web Push; unset: generated on first start and stored in the database. */
  vapidPublicKey: string | undefined;
  vapidPrivateKey: string | undefined;
  vapidSubject: string;
  /** Email notices go through this SMTP server; unset: no email channel. */
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** PEM file of extra CA certificates trusted for push endpoints and webhooks. */
  outboundCaFile: string | undefined;
  /** A push, webhook or SMTP call that takes longer is given up. */
  outboundTimeoutMs: number;
  /** Let webhooks and push endpoints reach private, loopback and link-local addresses. */
  webhooksAllowPrivate: boolean;
  webhooksMaxPerAccount: number;
  /** Retries of one webhook delivery, with exponential backoff from WEBHOOKS_RETRY_DELAY_SECONDS. */
  webhooksRetryLimit: number;
  webhooksRetryDelaySeconds: number;
  /** Failed attempts in a row after which a webhook is paused (and its owner told in-app). */
  webhooksDisableAfter: number;
  pushMaxSubscriptionsPerAccount: number;
}

/** Variables whose values never appear in an error message (they end up in logs). */
const SECRETS = new Set(['DATABASE_URL', 'DEVICE_COOKIE_SECRET', 'METRICS_TOKEN']);

/** A configuration problem, described in one line that names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Where the web app's build is when WEB_DIST_DIR is unset: beside the server bundle (dist/web, which
 * sets LIFEXP_BUNDLED), or in this checkout (apps/web/dist); served only when it has been built.
 */
const DEFAULT_WEB_DIST = fileURLToPath(
  new URL(
    (globalThis as { LIFEXP_BUNDLED?: boolean }).LIFEXP_BUNDLED ? './web' : '../../../apps/web/dist',
    import.meta.url,
  ),
);

function webDistDir(given: string | undefined, base: string): string | undefined {
  if (given === 'none') return undefined;
  if (given === undefined)
    return existsSync(join(DEFAULT_WEB_DIST, 'index.html')) ? DEFAULT_WEB_DIST : undefined;
  const dir = isAbsolute(given) ? given : resolve(base, given);
  if (!existsSync(join(dir, 'index.html'))) {
    throw new ConfigError(
      `invalid configuration: WEB_DIST_DIR has no index.html (got ${JSON.stringify(given)})`,
    );
  }
  return dir;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = env[name];
      const shown = got === undefined || SECRETS.has(name) ? '' : ` (got ${JSON.stringify(got)})`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const value = parsed.data;
  if ((value.VAPID_PUBLIC_KEY === undefined) !== (value.VAPID_PRIVATE_KEY === undefined)) {
    throw new ConfigError(
      'invalid configuration: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together',
    );
  }
  if (value.ROLE !== 'all' && !value.DATABASE_URL) {
    throw new ConfigError(
      `invalid configuration: ROLE ${value.ROLE} needs DATABASE_URL: the embedded database belongs to one process, which runs with ROLE=all`,
    );
  }
  const allowedOrigins =
    value.PUBLIC_ORIGIN && !value.ALLOWED_ORIGINS.includes(value.PUBLIC_ORIGIN)
      ? [value.PUBLIC_ORIGIN, ...value.ALLOWED_ORIGINS]
      : value.ALLOWED_ORIGINS;
  // `pnpm start` runs inside apps/server; a relative DATA_DIR is taken from where the command was typed.
  const base = env.INIT_CWD ?? process.cwd();
  return {
    env: value.NODE_ENV,
    role: value.ROLE,
    publicOrigin: value.PUBLIC_ORIGIN,
    metricsToken: value.METRICS_TOKEN,
    workingDirectory: base,
    host: value.HOST,
    port: value.PORT,
    databaseUrl: value.DATABASE_URL,
    dataDir: isAbsolute(value.DATA_DIR) ? value.DATA_DIR : resolve(base, value.DATA_DIR),
    webDistDir: webDistDir(value.WEB_DIST_DIR, base),
    allowedOrigins,
    logLevel: value.LOG_LEVEL,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    dbPoolMax: value.DB_POOL_MAX,
    maxBodyBytes: value.MAX_BODY_BYTES,
    importMaxBytes: value.IMPORT_MAX_BYTES,
    wsMaxPayloadBytes: value.WS_MAX_PAYLOAD_BYTES,
    purgeDeletedAfterDays: value.PURGE_DELETED_AFTER_DAYS,
    maintenanceIntervalMs: value.MAINTENANCE_INTERVAL_MS,
    syncRetentionDays: value.SYNC_RETENTION_DAYS,
    syncRetentionEvents: value.SYNC_RETENTION_EVENTS,
    sessionRecheckMs: value.SESSION_RECHECK_MS,
    sessionCacheMs: value.SESSION_CACHE_MS,
    sessionCacheEntries: value.SESSION_CACHE_ENTRIES,
    wsSendBufferBytes: value.WS_SEND_BUFFER_BYTES,
    wsDrainTimeoutMs: value.WS_DRAIN_TIMEOUT_MS,
    analyticsWorkers: value.ANALYTICS_WORKERS,
    analyticsCacheEntries: value.ANALYTICS_CACHE_ENTRIES,
    analyticsCacheBytes: value.ANALYTICS_CACHE_BYTES,
    analyticsCacheAccountBytes: value.ANALYTICS_CACHE_ACCOUNT_BYTES,
    metricsMaxActive: value.METRICS_MAX_ACTIVE,
    analyticsMaxDays: value.ANALYTICS_MAX_DAYS,
    analyticsMaxLag: value.ANALYTICS_MAX_LAG,
    analyticsPageMax: value.ANALYTICS_PAGE_MAX,
    analyticsAnswerMaxBytes: value.ANALYTICS_ANSWER_MAX_BYTES,
    analyticsTaskTimeoutMs: value.ANALYTICS_TASK_TIMEOUT_MS,
    analyticsWorkerMemoryMb: value.ANALYTICS_WORKER_MEMORY_MB,
    analyticsQueueMax: value.ANALYTICS_QUEUE_MAX,
    analyticsQueuePerAccount: value.ANALYTICS_QUEUE_PER_ACCOUNT,
    apiAccountCallsPerSecond: value.API_ACCOUNT_CALLS_PER_SECOND,
    apiAccountCallsBurst: value.API_ACCOUNT_CALLS_BURST,
    apiRefusalHoldMs: value.API_REFUSAL_HOLD_MS,
    apiRefusalHoldMax: value.API_REFUSAL_HOLD_MAX,
    analyticsAccountPercent: value.ANALYTICS_ACCOUNT_PERCENT,
    analyticsAccountBurstMs: value.ANALYTICS_ACCOUNT_BURST_MS,
    insightsMinDays: value.INSIGHTS_MIN_DAYS,
    insightsQ: value.INSIGHTS_Q,
    insightsDebounceSeconds: value.INSIGHTS_DEBOUNCE_SECONDS,
    insightsRecomputePercent: value.INSIGHTS_RECOMPUTE_PERCENT,
    insightsLocalHour: value.INSIGHTS_LOCAL_HOUR,
    jobsPollSeconds: value.JOBS_POLL_SECONDS,
    trustProxy: value.TRUST_PROXY,
    allowedHosts: value.ALLOWED_HOSTS,
    deviceCookieSecret: value.DEVICE_COOKIE_SECRET,
    maxBatchSize: value.MAX_BATCH_SIZE,
    registrationsPerAddress: value.REGISTRATIONS_PER_ADDRESS,
    wsMaxSubscriptionsPerSocket: value.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    wsMaxSocketsPerAccount: value.WS_MAX_SOCKETS_PER_ACCOUNT,
    wsMaxSocketsPerAddress: value.WS_MAX_SOCKETS_PER_ADDRESS,
    wsMaxMessagesPerSecond: value.WS_MAX_MESSAGES_PER_SECOND,
    wsMessageBurst: value.WS_MESSAGE_BURST,
    wsAuthGraceMs: value.WS_AUTH_GRACE_MS,
    notificationsTickSeconds: value.NOTIFICATIONS_TICK_SECONDS,
    linkOrigin:
      value.PUBLIC_ORIGIN ??
      `http://${value.HOST.includes(':') ? `[${value.HOST}]` : value.HOST}:${value.PORT}`,
    vapidPublicKey: value.VAPID_PUBLIC_KEY,
    vapidPrivateKey: value.VAPID_PRIVATE_KEY,
    vapidSubject: value.VAPID_SUBJECT,
    smtpUrl: value.SMTP_URL,
    smtpFrom: value.SMTP_FROM,
    outboundCaFile: value.OUTBOUND_CA_FILE,
    outboundTimeoutMs: value.OUTBOUND_TIMEOUT_MS,
    webhooksAllowPrivate: value.WEBHOOKS_ALLOW_PRIVATE,
    webhooksMaxPerAccount: value.WEBHOOKS_MAX_PER_ACCOUNT,
    webhooksRetryLimit: value.WEBHOOKS_RETRY_LIMIT,
    webhooksRetryDelaySeconds: value.WEBHOOKS_RETRY_DELAY_SECONDS,
    webhooksDisableAfter: value.WEBHOOKS_DISABLE_AFTER,
    pushMaxSubscriptionsPerAccount: value.PUSH_MAX_SUBSCRIPTIONS_PER_ACCOUNT,
  };
}
