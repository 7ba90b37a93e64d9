import { expireThrottle, pruneChangeLog, purgeDeleted } from '@lifexp/db';
import type { AppDeps } from './deps';
import { safeError } from './errorLog';

/**
 * Periodic housekeeping: soft-deleted metrics and entries are purged once every device has had
 * time to sync their deletes, the change log is cut to its retention, and idle throttle rows expire. Idempotent, so several
 * instances may run it.
 */
export function startMaintenance(deps: AppDeps): { stop(): void; runOnce(): Promise<void> } {
  const { config, log } = deps;
  async function runOnce() {
    const before = new Date(Date.now() - config.purgeDeletedAfterDays * 86_400_000);
    const purged = await purgeDeleted(deps.database.db, before);
    if (purged.entries + purged.metrics > 0) log.info({ purged }, 'purged deleted rows');
    const pruned = await pruneChangeLog(deps.database.db, {
      keepDays: config.syncRetentionDays,
      keepEvents: config.syncRetentionEvents,
    });
    if (pruned > 0) log.info({ pruned }, 'pruned the change log');
    // Throttle rows whose window has passed and that block nothing any more.
    const expired = await expireThrottle(deps.database.db);
    if (expired > 0) log.info({ expired }, 'expired throttle rows');
  }
  const timer = setInterval(() => {
    runOnce().catch((error: unknown) => log.error({ error: safeError(error) }, 'maintenance failed'));
  }, config.maintenanceIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), runOnce };
}
