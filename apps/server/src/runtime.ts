// Server runtime for scripts and tests that run a server in-process (never for browser bundles:
// those import the types-only entry point).

export { createAnalyticsService } from './analytics/service';
export { type Config, ConfigError, loadConfig } from './config';
export { createLogger, type Logger } from './logger';
export { ListenError, type RunningServer, startServer } from './server';
