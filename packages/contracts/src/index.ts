export * from './primitives';
export * from './sync';
