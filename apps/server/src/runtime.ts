// The server for scripts and tests that run one in-process (never for browser bundles: those import
// the types-only entry point).

export type { AppDeps } from './deps';
export { ListenError, type RunningServer, startServer } from './server';
export { serialiseOnce, syncEncoder } from './sync/encoder';
