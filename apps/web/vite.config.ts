import { fileURLToPath } from 'node:url';
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
  // The manifest lets scripts/size.ts tell the first load from chunks loaded on demand. The service
  // worker is a second entry built to a fixed name, /sw.js, at the root (its scope is the whole
  // app); the server serves it `no-cache`, unlike the hashed assets.
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 600,
    manifest: true,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        sw: fileURLToPath(new URL('src/worker/sw.ts', import.meta.url)),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
});
