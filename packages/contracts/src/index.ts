export * from './analytics';
export * from './common-passwords';
export * from './entries';
export * from './metrics';
export * from './primitives';
export * from './sync';
export * from './users';
export * from './values';
