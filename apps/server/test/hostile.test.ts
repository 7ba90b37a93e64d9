import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { describe, expect, it } from 'vitest';

// Pathological accounts against the analytics service with its default limits, each driver in a
// child process with a heap limit: if memory were unbounded, that process dies and this test fails —
// the test runner itself stays up.

const script = fileURLToPath(new URL('./hostile-account.ts', import.meta.url));

interface Report {
  outcomes: { name: string; outcome: string; detail?: unknown }[];
  peakRssMb: number;
}

function runChild(
  databaseUrl: string | undefined,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--max-old-space-size=512', '--import', 'tsx', script],
      {
        env: { ...process.env, DATABASE_URL: databaseUrl ?? '', NODE_OPTIONS: '' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 280_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const expected: Record<string, string> = {
  'metrics over the limit: correlations': 'BAD_REQUEST',
  'metrics over the limit: trends': 'BAD_REQUEST',
  'metrics over the limit: recompute': 'BAD_REQUEST',
  'metrics at the limit: correlations, worst parameters': 'ok',
  'metrics at the limit: correlations, last page': 'ok',
  'metrics at the limit: maxLag beyond': 'BAD_REQUEST',
  'metrics at the limit: limit beyond': 'BAD_REQUEST',
  'metrics at the limit: trends': 'ok',
  'metrics at the limit: recompute': 'ok',
  'century span: trends, open-ended': 'ok',
  'century span: trends from 1900': 'BAD_REQUEST',
  'century span: trends to 2500': 'BAD_REQUEST',
  'century span: to tomorrow': 'ok',
  'century span: to the day after tomorrow': 'BAD_REQUEST',
  'century span: a window of the limit': 'ok',
  'century span: a window one day longer': 'BAD_REQUEST',
  'century span: correlations, open-ended': 'ok',
  'century span: recompute': 'ok',
  'all tied: trends': 'ok',
  'all tied: correlations': 'ok',
  'all tied: recompute': 'ok',
  'zero-filled decades: trends': 'ok',
  'zero-filled decades: correlations': 'ok',
  'zero-filled decades: recompute': 'ok',
};

describe('hostile accounts', () => {
  for (const driver of testDrivers) {
    it(`answer within the limits or with a clear 4xx, in bounded memory [${driver}]`, async () => {
      const url = driver === 'postgres' ? await createPostgresDatabase() : undefined;
      try {
        const child = await runChild(url);
        expect(child.code, child.stderr.slice(-2000)).toBe(0);
        const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Report;
        const byName = Object.fromEntries(report.outcomes.map((o) => [o.name, o]));
        expect(Object.keys(byName).sort()).toEqual(Object.keys(expected).sort());
        for (const [name, outcome] of Object.entries(expected)) {
          expect(byName[name]!.outcome, `${name}: ${JSON.stringify(byName[name]!.detail)}`).toBe(outcome);
        }
        const detail = (name: string) => byName[name]!.detail as Record<string, number | number[] | null>;
        // At the limits: a full page of the strongest findings, the rest paged, never one list.
        const worst = detail('metrics at the limit: correlations, worst parameters');
        expect(worst.findings).toBe(200);
        expect(worst.total).toBe(worst.testsRun);
        expect(worst.total).toBe(200 * 199 * 3 + (200 * 199) / 2);
        expect(worst.nextCursor).toBe(200);
        expect(worst.bytes).toBeLessThanOrEqual(1024 * 1024);
        expect(detail('metrics at the limit: correlations, last page')).toMatchObject({
          findings: 1,
          nextCursor: null,
        });
        expect(detail('metrics at the limit: trends').trends).toBe(200);
        // The analysed window: never longer than ANALYTICS_MAX_DAYS, however far back the data go.
        expect(detail('century span: a window of the limit').n).toEqual([3660]);
        expect(detail('all tied: trends').n).toEqual([3660, 3660]);
        for (const n of detail('zero-filled decades: trends').n as number[])
          expect(n).toBeLessThanOrEqual(3660);
      } finally {
        if (url) await dropPostgresDatabase(url);
      }
    }, 300_000);
  }
});
