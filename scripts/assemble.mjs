// After `turbo run build`: the web app's static build (when apps/web has one) goes beside the server
// bundle, in apps/server/dist/web, which the bundle serves unless WEB_DIST_DIR says otherwise. A stale
// copy is replaced; without a web build there is none.
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const webDist = fileURLToPath(new URL('../apps/web/dist', import.meta.url));
const serverDist = fileURLToPath(new URL('../apps/server/dist', import.meta.url));
const target = `${serverDist}/web`;

if (!existsSync(`${serverDist}/main.mjs`)) {
  process.stderr.write('assemble: apps/server/dist/main.mjs is missing: run `pnpm build`\n');
  process.exit(1);
}
rmSync(target, { recursive: true, force: true });
if (existsSync(`${webDist}/index.html`)) {
  cpSync(webDist, target, { recursive: true });
  process.stdout.write(`web app: ${webDist} → ${target}\n`);
} else {
  process.stdout.write('web app: no apps/web/dist/index.html, the bundle serves the API only\n');
}
// `pnpm start` compares the sources with this stamp (turbo may restore an older bundle from its cache).
writeFileSync(`${serverDist}/.build-stamp`, `${new Date().toISOString()}\n`);
