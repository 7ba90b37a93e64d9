// The package's public entry point is types only, so that a React app can
// `import type { AppRouter } from '@lifexp/server'` without pulling server code into its bundle.
export type { AppRouter } from './trpc/router';
