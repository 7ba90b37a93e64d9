import { randomUUID } from 'node:crypto';
import type { Database, Db } from '@lifexp/db';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** What the server is built from; created once at start-up. */
export interface AppDeps {
  config: Config;
  database: Database;
  log: Logger;
}

export interface Context {
  deps: AppDeps;
  db: Db;
  requestId: string;
  log: Logger;
  transport: 'http' | 'ws';
}

export function createContext(
  deps: AppDeps,
  transport: Context['transport'],
  requestId: string = randomUUID(),
): Context {
  return {
    deps,
    db: deps.database.db,
    requestId,
    log: deps.log.child({ reqId: requestId }),
    transport,
  };
}
