import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lifexp } from '../../apps/cli/test/lifexp';
import {
  allowSlowMachines,
  closeDevices,
  createMetric,
  device,
  freePort,
  listening,
  removeTempDirs,
  signIn,
  signUp,
  spawnServer,
  stopServerProcesses,
  tempDir,
} from './support';

// `pnpm lifexp backup` while the server runs on the embedded database (through its backup socket),
// and a restore: refused into the live directory, then brought up by a new server.

allowSlowMachines();

afterAll(async () => {
  await closeDevices();
  await stopServerProcesses();
  removeTempDirs();
});

describe('backup while the server runs on the embedded database', () => {
  it('is consistent under writes, cannot be restored over the live directory, and restores elsewhere', async () => {
    const root = tempDir('lifexp-backup-');
    const live = join(root, 'live');
    const server = spawnServer({ DATA_DIR: live, PORT: String(await freePort()) });
    const url = await listening(server);
    expect(statSync(join(live, 'admin.sock')).mode & 0o777).toBe(0o600);

    const account = await signUp(url);
    const laptop = device(url, account.token);
    const metricId = await createMetric(laptop, 'Focus');
    for (let index = 0; index < 20; index++) {
      await laptop.trpc.entries.create.mutate({ metricId, value: index, date: '2026-03-01' });
    }
    // Writes keep coming while the backup is taken.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing && written < 300) {
        await laptop.trpc.entries.create.mutate({ metricId, value: 1000 + written, date: '2026-03-02' });
        written += 1;
      }
    })();
    const archive = join(root, 'backup.tar.gz');
    // Awaited together: a write that fails while the backup runs is observed at once, not left unhandled.
    const [backup] = await Promise.all([
      lifexp(['backup', archive], { DATA_DIR: live }).finally(() => {
        writing = false;
      }),
      writer,
    ]);
    expect(backup.stderr).toBe('');
    expect(backup.stdout).toMatch(/, through the running server\)\n$/);
    expect(written).toBeGreaterThan(0);
    const atEnd = await laptop.trpc.entries.list.query({ metricId, limit: 500 });

    // Never over a live directory: refused, the server unaffected.
    const refused = await lifexp(['restore', archive, '--force'], { DATA_DIR: live });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^lifexp: refusing to restore into a live directory: the data directory .* is in use/,
    );
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await laptop.trpc.entries.list.query({ metricId, limit: 500 })).toEqual(atEnd);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(join(live, 'admin.sock'))).toBe(false);

    // Restored elsewhere, a new server serves the data as of the backup: the 20 entries made before
    // it, and a prefix of the ones written during it (never a torn write).
    const restoredDir = join(root, 'restored');
    const restore = await lifexp(['restore', archive], { DATA_DIR: restoredDir });
    expect(restore.stderr).toBe('');
    const second = spawnServer({ DATA_DIR: restoredDir, PORT: String(await freePort()) });
    const secondUrl = await listening(second);
    const token = await signIn(secondUrl, account.email);
    const phone = device(secondUrl, token);
    const restored = await phone.trpc.entries.list.query({ metricId, limit: 500 });
    const numbers = restored.items.map((entry) => Number(entry.value)).sort((a, b) => a - b);
    const before = numbers.filter((value) => value < 1000);
    const during = numbers.filter((value) => value >= 1000);
    expect(before).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect(during).toEqual(Array.from({ length: during.length }, (_, index) => 1000 + index));
    expect(during.length).toBeLessThanOrEqual(written);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
