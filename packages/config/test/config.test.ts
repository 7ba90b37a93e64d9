import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index';

describe('loadConfig', () => {
  it('gives safe defaults for an empty environment', () => {
    const config = loadConfig({ INIT_CWD: '/srv/lifexp' });
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      databaseUrl: undefined,
      dataDir: '/srv/lifexp/.data',
      logLevel: 'info',
      trustProxy: false,
    });
    expect(config.allowedOrigins).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173']);
  });

  it('reads every variable and treats an empty one as unset', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8080',
      DATABASE_URL: 'postgres://app@db.internal:5432/lifexp',
      DATA_DIR: '/var/lib/lifexp',
      ALLOWED_ORIGINS: ' https://app.example.com , https://beta.example.com/ ',
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '',
      TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      env: 'production',
      host: '0.0.0.0',
      port: 8080,
      databaseUrl: 'postgres://app@db.internal:5432/lifexp',
      dataDir: '/var/lib/lifexp',
      allowedOrigins: ['https://app.example.com', 'https://beta.example.com'],
      logLevel: 'warn',
      shutdownTimeoutMs: 10_000,
      trustProxy: true,
    });
  });

  it.each([
    [{ PORT: 'abc' }, /^invalid configuration: PORT must be an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535 \(got "70000"\)/],
    [{ PORT: '3.5' }, /PORT must be an integer/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV must be production, development or test/],
    [{ ALLOWED_ORIGINS: 'https://ok.example,not a url' }, /ALLOWED_ORIGINS "not a url" is not an origin/],
    [
      { ALLOWED_ORIGINS: 'https://x.example/path' },
      /ALLOWED_ORIGINS "https:\/\/x.example\/path" is not an origin/,
    ],
    [{ TRUST_PROXY: 'yes' }, /TRUST_PROXY must be true or false/],
  ])('refuses %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: '-1', LOG_LEVEL: 'x' })).toThrow(/PORT .*; LOG_LEVEL /);
  });
});

describe('maintenance settings', () => {
  it('defaults to purging deleted rows after 30 days, hourly', () => {
    expect(loadConfig({})).toMatchObject({ purgeDeletedAfterDays: 30, maintenanceIntervalMs: 3_600_000 });
    expect(() => loadConfig({ PURGE_DELETED_AFTER_DAYS: '-1' })).toThrow(
      /PURGE_DELETED_AFTER_DAYS must be an integer/,
    );
  });
});

describe('limits', () => {
  const limits = [
    ['METRICS_MAX_ACTIVE', 'metricsMaxActive', 200, 1, 10_000],
    ['ANALYTICS_MAX_DAYS', 'analyticsMaxDays', 3660, 30, 36_600],
    ['ANALYTICS_MAX_LAG', 'analyticsMaxLag', 3, 0, 30],
    ['ANALYTICS_PAGE_MAX', 'analyticsPageMax', 200, 50, 1000],
    ['ANALYTICS_ANSWER_MAX_BYTES', 'analyticsAnswerMaxBytes', 1024 * 1024, 64 * 1024, 256 * 1024 * 1024],
    ['ANALYTICS_CACHE_BYTES', 'analyticsCacheBytes', 64 * 1024 * 1024, 0, 4 * 1024 * 1024 * 1024],
    [
      'ANALYTICS_CACHE_ACCOUNT_BYTES',
      'analyticsCacheAccountBytes',
      8 * 1024 * 1024,
      64 * 1024,
      4 * 1024 * 1024 * 1024,
    ],
    ['ANALYTICS_TASK_TIMEOUT_MS', 'analyticsTaskTimeoutMs', 30_000, 100, 600_000],
    ['ANALYTICS_WORKER_MEMORY_MB', 'analyticsWorkerMemoryMb', 512, 32, 16_384],
    ['ANALYTICS_QUEUE_MAX', 'analyticsQueueMax', 64, 1, 10_000],
    ['ANALYTICS_QUEUE_PER_ACCOUNT', 'analyticsQueuePerAccount', 4, 1, 100],
    ['API_ACCOUNT_CALLS_BURST', 'apiAccountCallsBurst', 200, 1, 1_000_000],
    ['API_REFUSAL_HOLD_MS', 'apiRefusalHoldMs', 1000, 0, 10_000],
    ['API_REFUSAL_HOLD_MAX', 'apiRefusalHoldMax', 1000, 0, 100_000],
    ['ANALYTICS_ACCOUNT_PERCENT', 'analyticsAccountPercent', 10, 1, 100],
    ['ANALYTICS_ACCOUNT_BURST_MS', 'analyticsAccountBurstMs', 5000, 100, 600_000],
    ['INSIGHTS_RECOMPUTE_PERCENT', 'insightsRecomputePercent', 10, 1, 100],
  ] as const;

  it.each(limits)(
    '%s defaults, takes its range and refuses beyond it',
    (variable, key, fallback, min, max) => {
      expect(loadConfig({})[key]).toBe(fallback);
      expect(loadConfig({ [variable]: String(min) })[key]).toBe(min);
      expect(loadConfig({ [variable]: String(max) })[key]).toBe(max);
      expect(() => loadConfig({ [variable]: String(min - 1) })).toThrow(
        new RegExp(`${variable} must be an integer from ${min} to ${max}`),
      );
      expect(() => loadConfig({ [variable]: String(max + 1) })).toThrow(new RegExp(variable));
    },
  );
});

describe('API calls per account', () => {
  it('defaults to 20 a second after a burst of 200, and takes a fraction of a call a second', () => {
    expect(loadConfig({})).toMatchObject({ apiAccountCallsPerSecond: 20, apiAccountCallsBurst: 200 });
    expect(loadConfig({ API_ACCOUNT_CALLS_PER_SECOND: '0.05' }).apiAccountCallsPerSecond).toBe(0.05);
    expect(loadConfig({ API_ACCOUNT_CALLS_PER_SECOND: '100000' }).apiAccountCallsPerSecond).toBe(100_000);
    for (const refused of ['0', '0.001', '100001', 'many']) {
      expect(() => loadConfig({ API_ACCOUNT_CALLS_PER_SECOND: refused })).toThrow(
        /API_ACCOUNT_CALLS_PER_SECOND must be a number from 0.01 to 100000/,
      );
    }
  });
});

describe('notification settings', () => {
  it('defaults: a minute tick, private addresses refused, no email, links on this server', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: 'https://app.example.com', PORT: '8080' });
    expect(config).toMatchObject({
      notificationsTickSeconds: 60,
      webhooksAllowPrivate: false,
      smtpUrl: undefined,
      linkOrigin: 'http://127.0.0.1:8080',
      vapidPublicKey: undefined,
      webhooksMaxPerAccount: 10,
      webhooksRetryLimit: 5,
      webhooksDisableAfter: 15,
      pushMaxSubscriptionsPerAccount: 20,
    });
  });

  it('reads the notification variables', () => {
    const config = loadConfig({
      NOTIFICATIONS_TICK_SECONDS: '5',
      PUBLIC_ORIGIN: 'https://dash.example.com/',
      SMTP_URL: 'smtps://user:secret@mail.example.com:465',
      SMTP_FROM: 'Life XP <hello@example.com>',
      WEBHOOKS_ALLOW_PRIVATE: '1',
      VAPID_PUBLIC_KEY: `B${'a'.repeat(86)}`,
      VAPID_PRIVATE_KEY: 'b'.repeat(43),
      VAPID_SUBJECT: 'https://example.com/contact',
    });
    expect(config).toMatchObject({
      notificationsTickSeconds: 5,
      linkOrigin: 'https://dash.example.com',
      smtpUrl: 'smtps://user:secret@mail.example.com:465',
      webhooksAllowPrivate: true,
      vapidSubject: 'https://example.com/contact',
    });
  });

  it('refuses bad values, naming the variable', () => {
    for (const [env, name] of [
      [{ NOTIFICATIONS_TICK_SECONDS: '0' }, 'NOTIFICATIONS_TICK_SECONDS'],
      [{ SMTP_URL: 'http://mail.example.com' }, 'SMTP_URL'],
      [{ PUBLIC_ORIGIN: 'https://app.example.com/path' }, 'PUBLIC_ORIGIN'],
      [{ VAPID_SUBJECT: 'someone' }, 'VAPID_SUBJECT'],
      [{ WEBHOOKS_ALLOW_PRIVATE: 'yes' }, 'WEBHOOKS_ALLOW_PRIVATE'],
      [{ WEBHOOKS_RETRY_LIMIT: '21' }, 'WEBHOOKS_RETRY_LIMIT'],
      [{ VAPID_PUBLIC_KEY: `B${'a'.repeat(86)}` }, 'VAPID_PRIVATE_KEY'],
    ] as const) {
      expect(() => loadConfig(env), name).toThrow(ConfigError);
      expect(() => loadConfig(env), name).toThrow(name);
    }
  });
});

describe('deployment settings', () => {
  const pg = 'postgres://app@db.internal:5432/lifexp';

  it('runs everything in one process by default, with no metrics endpoint and no public origin', () => {
    expect(loadConfig({})).toMatchObject({ role: 'all', metricsToken: undefined, publicOrigin: undefined });
  });

  it('runs web and worker roles on PostgreSQL', () => {
    expect(loadConfig({ ROLE: 'web', DATABASE_URL: pg }).role).toBe('web');
    expect(loadConfig({ ROLE: 'worker', DATABASE_URL: pg }).role).toBe('worker');
  });

  it.each(['web', 'worker'])('refuses ROLE=%s on the embedded database, saying why', (role) => {
    expect(() => loadConfig({ ROLE: role })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE: role })).toThrow(
      `ROLE ${role} needs DATABASE_URL: the embedded database belongs to one process, which runs with ROLE=all`,
    );
  });

  it('refuses an unknown role', () => {
    expect(() => loadConfig({ ROLE: 'both', DATABASE_URL: pg })).toThrow(/ROLE must be all, web or worker/);
  });

  it('makes the public origin an allowed origin, once', () => {
    const config = loadConfig({ PUBLIC_ORIGIN: 'https://lifexp.example.com/' });
    expect(config.publicOrigin).toBe('https://lifexp.example.com');
    expect(config.allowedOrigins).toEqual([
      'https://lifexp.example.com',
      'http://localhost:5173',
      'http://127.0.0.1:5173',
    ]);
    const listed = loadConfig({
      PUBLIC_ORIGIN: 'https://lifexp.example.com',
      ALLOWED_ORIGINS: 'https://lifexp.example.com',
    });
    expect(listed.allowedOrigins).toEqual(['https://lifexp.example.com']);
    expect(() => loadConfig({ PUBLIC_ORIGIN: 'lifexp.example.com' })).toThrow(
      /PUBLIC_ORIGIN .* is not an origin/,
    );
  });

  it('takes a long metrics token and refuses a short or spaced one', () => {
    const token = 'a'.repeat(32);
    expect(loadConfig({ METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be 32 to 512 printable/);
    expect(() => loadConfig({ METRICS_TOKEN: `${'a'.repeat(20)} ${'b'.repeat(20)}` })).toThrow(
      /METRICS_TOKEN must be/,
    );
  });

  it('never repeats a secret in its error message', () => {
    const secret = `secret${'x'.repeat(10)}`;
    for (const env of [
      { METRICS_TOKEN: secret },
      { DEVICE_COOKIE_SECRET: secret },
      { DATABASE_URL: `mysql://user:${secret}@db/x` },
    ]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).not.toThrow(new RegExp(secret));
    }
  });
});
