// The first load's JavaScript: the scripts index.html loads (and the modules it preloads), gzip-sized.
// Chunks loaded on demand (the analytics screen's charts) are listed apart. Run after `vite build`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface BundleSize {
  /** The files of the first load. */
  initial: string[];
  /** Their gzip size in bytes, together. */
  initialBytes: number;
  /** Every other script, loaded when a screen needs it. */
  lazy: { file: string; gzipBytes: number }[];
}

export function measure(dist: string): BundleSize {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const initial = [
    ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g),
  ].map((match) => match[1]!);
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    { file: string }
  >;
  const scripts = [...new Set(Object.values(manifest).map((chunk) => chunk.file))].filter((file) =>
    file.endsWith('.js'),
  );
  const gzip = (file: string) => gzipSync(readFileSync(join(dist, file))).length;
  return {
    initial,
    initialBytes: initial.reduce((sum, file) => sum + gzip(file), 0),
    lazy: scripts.filter((file) => !initial.includes(file)).map((file) => ({ file, gzipBytes: gzip(file) })),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = measure(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(`initial JavaScript: ${kib(size.initialBytes)} gzip (${size.initial.join(', ')})`);
  for (const chunk of size.lazy) console.log(`  on demand: ${chunk.file} ${kib(chunk.gzipBytes)} gzip`);
}
