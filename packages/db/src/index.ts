export * from './accounts';
export * from './changes';
export * from './client';
export * from './errors';
export * from './passwords';
export * as schema from './schema';
export * from './sessions';
export * from './throttle';
