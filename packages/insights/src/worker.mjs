// Worker-thread entry: the server runs TypeScript through tsx, and so does each worker.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
