export { type Config, ConfigError, loadConfig } from './config';
export { createLogger, type Logger } from './logger';
