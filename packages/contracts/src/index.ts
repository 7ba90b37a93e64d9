export * from './common-passwords';
export * from './primitives';
export * from './sync';
export * from './users';
