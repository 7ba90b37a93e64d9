import { ConfigError, createLogger, loadConfig } from '@lifexp/config';
import { DatabaseOpenError } from '@lifexp/db';
import { safeError } from './errorLog';
import { ListenError, startServer } from './server';

// Start-up failures an operator can fix get one plain line on stderr and exit code 1.
function fail(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DatabaseOpenError || error instanceof ListenError) {
    process.stderr.write(`lifexp: ${error.message}\n`);
  } else {
    process.stderr.write(`lifexp: unexpected start-up failure: ${(error as Error)?.message ?? error}\n`);
  }
  process.exit(1);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error);
  }
  const log = createLogger(config);
  const server = await startServer(config, { log }).catch(fail);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'signal received');
    // The hard limit guards against a shutdown step that hangs.
    const hardLimit = setTimeout(() => {
      log.error('shutdown did not finish in time');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000);
    hardLimit.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ error: safeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('unhandledRejection', (reason) =>
    log.error({ error: safeError(reason) }, 'unhandled rejection'),
  );
}

void main();
