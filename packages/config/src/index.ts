export { createKeyedBuckets, type KeyedBuckets } from './buckets';
export { type Config, ConfigError, loadConfig, type Role, roles } from './config';
export { createLogger, type Logger } from './logger';
