import { type ChildProcess, spawn } from 'node:child_process';

export interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

/**
 * `node <args>` in `cwd` as its own process, in production mode on an ephemeral port of 127.0.0.1
 * unless `env` says otherwise, with nothing else of this environment but PATH. Output is kept by line.
 */
export function spawnNode(args: string[], cwd: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (chunk) => stdout.push(...String(chunk).split('\n').filter(Boolean)));
  child.stderr?.on('data', (chunk) => stderr.push(...String(chunk).split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

/** The URL of a started server once it logged `listening`; fails if it exits or takes over `timeoutMs`. */
export async function listening(started: Started, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of started.stdout) {
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === 'listening' && parsed.url) return parsed.url;
    }
    if (started.child.exitCode !== null) throw new Error(`the server exited: ${started.stderr.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not listening: ${started.stdout.join('\n')} ${started.stderr.join('\n')}`);
}
