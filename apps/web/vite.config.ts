import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm dev`: this dev server on :5173 with the API proxied to it (HTTP and WebSocket), so the page
// and the API share one origin as they do in production. LIFEXP_API says where the API runs.
const api = process.env.LIFEXP_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      '/trpc': { target: api, ws: true },
      '/api': api,
      '/healthz': api,
      '/readyz': api,
    },
  },
  // The manifest lets scripts/size.ts tell the first load from chunks loaded on demand.
  build: { target: 'es2022', chunkSizeWarningLimit: 600, manifest: true },
});
