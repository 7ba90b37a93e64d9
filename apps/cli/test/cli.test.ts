import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifexp } from './lifexp';

for (const driver of testDrivers) {
  describe(`the lifexp command [${driver}]`, { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifexp-cli-'));
    const env: Record<string, string> = { INIT_CWD: dir };
    let url: string | undefined;
    beforeAll(async () => {
      if (driver === 'postgres') {
        url = await createPostgresDatabase();
        env.DATABASE_URL = url;
      } else {
        env.DATA_DIR = join(dir, 'data');
      }
    });
    afterAll(async () => {
      if (url) await dropPostgresDatabase(url);
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates a user and prints a working session token', async () => {
      const run = await lifexp(
        [
          'create-user',
          '--email',
          'Ada@Example.test',
          '--password',
          'analytical engine',
          '--timezone',
          'Europe/London',
        ],
        env,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        email: 'ada@example.test',
        timezone: 'Europe/London',
        token: expect.stringMatching(/^[a-z2-9]{24}\.[a-z2-9]{24}$/),
      });
      const again = await lifexp(
        ['create-user', '--email', 'ada@example.test', '--password', 'analytical engine'],
        env,
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toBe('lifexp: an account with this email already exists\n');
      const weak = await lifexp(
        ['create-user', '--email', 'bob@example.test', '--password', 'password1'],
        env,
      );
      expect(weak.code).toBe(1);
      expect(weak.stderr).toMatch(/^lifexp: the password is too common/);
    });

    it('creates a demo account, exports it as JSON and CSV, and imports both elsewhere', async () => {
      const demo = await lifexp(['demo', '--email', 'demo@example.test', '--days', '60'], env);
      expect(demo.code, demo.stderr).toBe(0);
      const report = JSON.parse(demo.stdout);
      expect(report.metrics.created).toBe(7);
      expect(report.entries.created).toBeGreaterThan(250);

      const json = await lifexp(['export', '--email', 'demo@example.test', '--out', 'demo.json'], env);
      expect(json.code, json.stderr).toBe(0);
      const document = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'));
      expect(document.entries).toHaveLength(report.entries.created);
      const csv = await lifexp(
        ['export', '--email', 'demo@example.test', '--format', 'csv', '--out', 'demo.csv'],
        env,
      );
      expect(csv.code, csv.stderr).toBe(0);
      expect(readFileSync(join(dir, 'demo.csv'), 'utf8').trim().split('\n').length).toBeGreaterThan(
        report.entries.created,
      );

      await lifexp(['create-user', '--email', 'copy@example.test', '--password', 'copy of the demo'], env);
      const dry = await lifexp(
        ['import', '--email', 'copy@example.test', '--file', 'demo.json', '--dry-run'],
        env,
      );
      expect(JSON.parse(dry.stdout)).toMatchObject({
        dryRun: true,
        entries: { created: report.entries.created },
      });
      const imported = await lifexp(['import', '--email', 'copy@example.test', '--file', 'demo.json'], env);
      expect(JSON.parse(imported.stdout)).toMatchObject({
        dryRun: false,
        entries: { created: report.entries.created },
      });
      const again = await lifexp(['import', '--email', 'copy@example.test', '--file', 'demo.csv'], env);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).metrics).toEqual({ created: 0, updated: 0, skipped: 7 });

      const insights = await lifexp(['recompute-insights', '--email', 'demo@example.test'], env);
      expect(insights.code, insights.stderr).toBe(0);
      expect(insights.stdout).toMatch(/^demo@example\.test: \d+ insights\n$/);
    });

    it('prints clear errors with a non-zero exit', async () => {
      writeFileSync(
        join(dir, 'broken.json'),
        '{"format":"lifexp","version":1,"metrics":[],"entries":[{"id":"x"}]}',
      );
      writeFileSync(join(dir, 'cut.json'), '{"format":"lifexp","version":1,"metrics":[],"entries":[{"id"');
      await lifexp(['create-user', '--email', 'err@example.test', '--password', 'errors are fine'], env);
      const cases: [string[], RegExp][] = [
        [['frobnicate'], /^lifexp: unknown command "frobnicate"/],
        [
          ['export', '--email', 'nobody@example.test', '--out', 'x.json'],
          /^lifexp: no account with the email nobody@example.test\n$/,
        ],
        [['export', '--email', 'err@example.test'], /^lifexp: --out is required/],
        [
          ['import', '--email', 'err@example.test', '--file', 'missing.json'],
          /^lifexp: cannot read .*missing\.json: ENOENT/,
        ],
        [
          ['import', '--email', 'err@example.test', '--file', 'broken.json'],
          /^lifexp: the import was refused; nothing was written:\n {2}entries\[0\]\.id: must be a UUID/,
        ],
        [['export', '--bogus'], /^lifexp: Unknown option '--bogus'/],
        // The file is streamed: a path that opens but cannot be read is still one clear line.
        [['import', '--email', 'err@example.test', '--file', '.'], /^lifexp: cannot read .*: EISDIR/],
        [
          ['import', '--email', 'err@example.test', '--file', 'cut.json'],
          /^lifexp: the import was refused; nothing was written:\n {2}\(document\): not valid JSON: unexpected end of JSON input/,
        ],
      ];
      for (const [args, message] of cases) {
        const run = await lifexp(args, env);
        expect(run.code, args.join(' ')).toBe(1);
        expect(run.stderr).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
    });
  });
}

describe('the lifexp command without a database', () => {
  it('fails with one line when DATABASE_URL points at nothing', async () => {
    const run = await lifexp(['create-user', '--email', 'a@example.test', '--password', 'whatever works'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^lifexp: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none: .*\n$/);
  });
});
