import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { lifexp as runLifexp } from './lifexp';

// `pnpm lifexp backup` / `restore` on a stopped server's directory; the same while a server runs is
// in the end-to-end suite (e2e/test/backup.test.ts).

const dir = mkdtempSync(join(tmpdir(), 'lifexp-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command run from `dir`, as `pnpm lifexp` run there (relative paths resolve against it). */
const lifexp = (args: string[], env: Record<string, string> = {}) =>
  runLifexp(args, { INIT_CWD: dir, ...env });

const user = (email: string, dataDir: string) =>
  lifexp(['create-user', '--email', email, '--password', 'correct horse battery'], { DATA_DIR: dataDir });
/** Whether the account exists in the directory (an export of it succeeds). */
async function exists(email: string, dataDir: string): Promise<boolean> {
  const run = await lifexp(['export', '--email', email, '--out', join(dir, `probe-${Date.now()}.json`)], {
    DATA_DIR: dataDir,
  });
  if (run.code !== 0) expect(run.stderr).toBe(`lifexp: no account with the email ${email}\n`);
  return run.code === 0;
}

describe('backup and restore of the embedded database', { timeout: 300_000 }, () => {
  const data = join(dir, 'data');
  const archive = join(dir, 'lifexp.tar.gz');

  it('round trip: restore brings back exactly what the backup held, keeping the replaced database', async () => {
    expect((await user('first@example.test', data)).code).toBe(0);
    const backup = await lifexp(['backup', 'lifexp.tar.gz'], { DATA_DIR: data });
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    expect(backup.stdout).toBe(`backed up ${data} to ${archive} (${readFileSync(archive).length} bytes)\n`);

    // Written after the backup: gone after the restore.
    expect((await user('second@example.test', data)).code).toBe(0);
    const refused = await lifexp(['restore', archive], { DATA_DIR: data });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `lifexp: ${data} already holds a database: pass --force to replace it (the current one is kept beside it)\n`,
    );
    expect(await exists('second@example.test', data)).toBe(true);

    const restored = await lifexp(['restore', archive, '--force'], { DATA_DIR: data });
    expect(restored.code).toBe(0);
    const kept = readdirSync(data).find((name) => name.startsWith('pglite.before-restore-'));
    expect(kept).toBeDefined();
    expect(restored.stdout).toBe(
      `restored ${archive} into ${data}; the previous database is kept in ${join(data, kept!)}\n`,
    );
    expect(await exists('first@example.test', data)).toBe(true);
    expect(await exists('second@example.test', data)).toBe(false);

    // Into a new directory, no --force needed.
    const fresh = join(dir, 'fresh');
    expect((await lifexp(['restore', archive], { DATA_DIR: fresh })).code).toBe(0);
    expect(await exists('first@example.test', fresh)).toBe(true);
  });

  it('never overwrites a backup file unless told to', async () => {
    const before = readFileSync(archive);
    const run = await lifexp(['backup', archive], { DATA_DIR: data });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `lifexp: ${archive} exists: choose another file, or pass --force to replace it\n`,
    );
    expect(readFileSync(archive).equals(before)).toBe(true);
  });

  it('refuses a file that is not a backup, changing nothing', async () => {
    const target = join(dir, 'untouched');
    for (const [name, content] of [
      ['text.tar.gz', Buffer.from('not an archive')],
      ['gzip-of-text.tar.gz', gzipSync(Buffer.from('hello'))],
      ['truncated.tar.gz', readFileSync(archive).subarray(0, 4096)],
    ] as const) {
      writeFileSync(join(dir, name), content);
      const run = await lifexp(['restore', name], { DATA_DIR: target });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(`^lifexp: ${join(dir, name)} is not a backup of the embedded database`),
      );
      expect(run.stderr.split('\n')).toHaveLength(2);
      expect(existsSync(join(target, 'pglite'))).toBe(false);
    }
    const missing = await lifexp(['restore', 'nowhere.tar.gz'], { DATA_DIR: target });
    expect(missing.stderr).toBe(`lifexp: ${join(dir, 'nowhere.tar.gz')} does not exist\n`);
  });

  it('says what is wrong with the command', async () => {
    const empty = await lifexp(['backup', 'empty.tar.gz'], { DATA_DIR: join(dir, 'empty') });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe(`lifexp: there is no embedded database in ${join(dir, 'empty')}\n`);
    expect(existsSync(join(dir, 'empty.tar.gz'))).toBe(false);

    const noFile = await lifexp(['backup'], { DATA_DIR: data });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/^lifexp: backup takes one FILE\n\nUsage:/);

    for (const command of ['backup', 'restore']) {
      const onPostgres = await lifexp([command, 'x.tar.gz'], {
        DATABASE_URL: 'postgres://u@127.0.0.1:1/none',
      });
      expect(onPostgres.code).toBe(1);
      expect(onPostgres.stderr).toBe(
        `lifexp: ${command} is for the embedded database; with DATABASE_URL use pg_dump and pg_restore (docs/deploy.md#backups)\n`,
      );
    }
  });
});
