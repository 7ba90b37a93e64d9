import { ConfigError, loadConfig } from '@lifexp/config';
import { createDb, DatabaseOpenError } from '@lifexp/db';

// `pnpm db:migrate`: apply the committed migrations to DATABASE_URL, or to the embedded database in DATA_DIR.
try {
  const config = loadConfig();
  const database = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await database.close();
  process.stdout.write(
    `migrations applied to ${config.databaseUrl ? 'PostgreSQL' : `the embedded database in ${config.dataDir}`}\n`,
  );
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof DatabaseOpenError)) throw error;
  process.stderr.write(`lifexp: ${error.message}\n`);
  process.exitCode = 1;
}
