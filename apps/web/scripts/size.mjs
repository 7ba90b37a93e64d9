// The first load's JavaScript: the scripts index.html loads (and the modules they preload), gzip-sized.
// Chunks loaded on demand (the analytics screen's charts) are listed apart. Run after `vite build`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export function measure(dist) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const initial = [
    ...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/([^"]+\.js)"/g),
  ].map((match) => match[1]);
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));
  const all = Object.values(manifest)
    .map((chunk) => chunk.file)
    .filter((file) => file.endsWith('.js'));
  const gz = (file) => gzipSync(readFileSync(join(dist, file))).length;
  const initialBytes = initial.reduce((sum, file) => sum + gz(file), 0);
  const lazy = all.filter((file) => !initial.includes(file)).map((file) => ({ file, gzip: gz(file) }));
  return { initial, initialBytes, lazy };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = measure(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
  console.log(
    `initial JavaScript: ${(result.initialBytes / 1024).toFixed(1)} KiB gzip (${result.initial.join(', ')})`,
  );
  for (const chunk of result.lazy)
    console.log(`  on demand: ${chunk.file} ${(chunk.gzip / 1024).toFixed(1)} KiB gzip`);
}
