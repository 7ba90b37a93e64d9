import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, createLogger, loadConfig } from '@lifexp/config';
import { BackupError, backupDataDir, createDb, DatabaseOpenError, restoreDataDir } from '@lifexp/db';
import { createAnalyticsService } from '@lifexp/insights';
import { SingleBar } from 'cli-progress';
import { CommandError, createDemo, createUser, exportToFile, importFromFile, userIdFor } from './commands';

const usage = `Usage: pnpm lifexp <command> [options]

Commands:
  create-user --email E --password P [--timezone Z]   create an account; prints its id and a session token
  export --email E --out FILE [--format json|csv] [--from D] [--to D]
  import --email E --file FILE [--dry-run] [--on-conflict skip|overwrite]
  demo [--email E] [--password P] [--days N] [--noise N] [--seed N]
  recompute-insights (--email E | --all)
  backup FILE [--force]                                back up the embedded database (also while the server runs)
  restore FILE [--force]                               restore it into DATA_DIR (never while a server runs there)

Works on the embedded database in DATA_DIR, or on DATABASE_URL, like the server. PostgreSQL is
backed up with pg_dump (docs/deploy.md#backups).`;

function required(value: string | undefined, flag: string): string {
  if (!value) throw new CommandError(`${flag} is required\n\n${usage}`);
  return value;
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: command === 'backup' || command === 'restore',
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      timezone: { type: 'string' },
      out: { type: 'string' },
      file: { type: 'string' },
      format: { type: 'string', default: 'json' },
      from: { type: 'string' },
      to: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'on-conflict': { type: 'string', default: 'skip' },
      days: { type: 'string', default: '365' },
      noise: { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      all: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    },
  });
  const config: Config = loadConfig();
  const path = (file: string) => resolve(config.workingDirectory, file);
  if (command === 'backup' || command === 'restore') {
    if (config.databaseUrl) {
      throw new CommandError(
        `${command} is for the embedded database; with DATABASE_URL use pg_dump and pg_restore (docs/deploy.md#backups)`,
      );
    }
    if (positionals.length !== 1) throw new CommandError(`${command} takes one FILE\n\n${usage}`);
    const file = path(positionals[0]!);
    if (command === 'backup') {
      const { bytes, via } = await backupDataDir(config.dataDir, file, { overwrite: values.force });
      process.stdout.write(
        `backed up ${config.dataDir} to ${file} (${bytes} bytes${via === 'server' ? ', through the running server' : ''})\n`,
      );
    } else {
      const { replaced } = await restoreDataDir(config.dataDir, file, { overwrite: values.force });
      process.stdout.write(
        `restored ${file} into ${config.dataDir}${replaced ? `; the previous database is kept in ${replaced}` : ''}\n`,
      );
    }
    return;
  }
  const database = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    switch (command) {
      case 'create-user': {
        const user = await createUser(database, {
          email: required(values.email, '--email'),
          password: required(values.password, '--password'),
          timezone: values.timezone,
        });
        process.stdout.write(`${JSON.stringify(user, null, 2)}\n`);
        return;
      }
      case 'export': {
        const format = values.format === 'csv' ? 'csv' : values.format === 'json' ? 'json' : undefined;
        if (!format) throw new CommandError('--format must be json or csv');
        const userId = await userIdFor(database, required(values.email, '--email'));
        const out = path(required(values.out, '--out'));
        const bytes = await exportToFile(database, userId, { format, from: values.from, to: values.to }, out);
        process.stdout.write(`exported ${bytes} bytes to ${out}\n`);
        return;
      }
      case 'import': {
        const onConflict = values['on-conflict'];
        if (onConflict !== 'skip' && onConflict !== 'overwrite')
          throw new CommandError('--on-conflict must be skip or overwrite');
        const userId = await userIdFor(database, required(values.email, '--email'));
        const bar = new SingleBar({
          format: 'importing [{bar}] {percentage}% {value}/{total} entries',
          hideCursor: true,
        });
        let started = false;
        const report = await importFromFile(database, userId, path(required(values.file, '--file')), {
          dryRun: values['dry-run'],
          onConflict,
          onProgress: (done, total) => {
            if (!process.stderr.isTTY || total < 5_000) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        });
        if (started) bar.stop();
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      case 'demo': {
        const days = Number.parseInt(values.days, 10);
        if (!(days >= 1 && days <= 3650)) throw new CommandError('--days must be from 1 to 3650');
        const email = values.email ?? `demo-${Date.now()}@lifexp.local`;
        const password = values.password ?? 'demo password 1';
        const { user, report } = await createDemo(database, {
          email,
          password,
          days,
          noiseMetrics: Math.max(0, Math.min(100, Number.parseInt(values.noise, 10) || 0)),
          seed: Number.parseInt(values.seed, 10) || 42,
        });
        process.stdout.write(
          `${JSON.stringify({ email, password, token: user.token, ...report }, null, 2)}\n`,
        );
        return;
      }
      case 'recompute-insights': {
        const analytics = createAnalyticsService(config, database, createLogger({ logLevel: 'warn' }));
        try {
          const userIds = values.all
            ? (await database.db.query.users.findMany({ columns: { id: true } })).map((user) => user.id)
            : [await userIdFor(database, required(values.email, '--email'))];
          for (const userId of userIds) {
            const stored = await analytics.recompute(userId);
            const user = await database.db.query.users.findFirst({
              where: (table, { eq }) => eq(table.id, userId),
            });
            process.stdout.write(`${user?.email ?? userId}: ${stored.count} insights\n`);
          }
        } finally {
          await analytics.close();
        }
        return;
      }
      default:
        throw new CommandError(`unknown command "${command}"\n\n${usage}`);
    }
  } finally {
    await database.close();
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const known =
    error instanceof CommandError ||
    error instanceof ConfigError ||
    error instanceof DatabaseOpenError ||
    error instanceof BackupError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(
    `lifexp: ${known ? (error as Error).message : `unexpected failure: ${(error as Error).message ?? error}`}\n`,
  );
  process.exitCode = 1;
});
