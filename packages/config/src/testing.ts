import { createLogger, type Logger } from './logger';

/** A debug-level logger whose JSON lines are collected in memory, parsed, so tests can assert on them. */
export function memoryLog(): { lines: Record<string, unknown>[]; log: Logger } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    { logLevel: 'debug' },
    {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line));
      },
    },
  );
  return { lines, log };
}
