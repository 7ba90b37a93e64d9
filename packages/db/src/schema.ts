import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  time,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * jsonb for a value that may be a bare JSON scalar. Drizzle's jsonb re-parses a string it reads back,
 * so the text "9" would come back as the number 9; both drivers already decode jsonb, so reading is
 * the identity here and writing is plain JSON.
 */
const jsonValue = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
});

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

/**
 * The key of a row that belongs to one user: its own uuid and its owner, whose deletion removes it
 * (metrics, entries, insights). A function, so that each table gets its own column builders.
 */
const ownedByUser = () => ({
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
});

/** users.nextNoticeAt that has the scheduler look at a user at its next tick, whatever its clock says. */
export const NOTICE_DUE_AT_ONCE = new Date(0);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Stored trimmed and lower-cased; the unique index on lower(email) also guards writes that forget to.
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    timezone: text('timezone').notNull().default('UTC'),
    preferences: jsonb('preferences').$type<Record<string, unknown>>().notNull().default({}),
    // When the notification scheduler next has to look at this user (null: nothing scheduled). New
    // notification settings or zone set NOTICE_DUE_AT_ONCE; the scheduler sets the next scheduled moment.
    nextNoticeAt: timestamp('next_notice_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
    index('users_next_notice_idx').on(t.nextNoticeAt).where(sql`${t.nextNoticeAt} is not null`),
  ],
);

// Sessions as in the Lucia guide: the token is `<id>.<secret>`, only SHA-256(secret) is stored.
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    secretHash: text('secret_hash').notNull(),
    userAgent: text('user_agent'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastVerifiedAt: timestamp('last_verified_at', { withTimezone: true, mode: 'date' })
      .notNull()
      .defaultNow(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

// Login throttling lives in the database so that it holds across server instances.
// One row per throttle key: `account:<email>` or `address:<ip>`.
export const loginThrottle = pgTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  lastFailureAt: timestamp('last_failure_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  blockedUntil: timestamp('blocked_until', { withTimezone: true, mode: 'date' }),
});

export const metricTypes = ['rating', 'duration', 'binary', 'number', 'text'] as const;

export const metrics = pgTable(
  'metrics',
  {
    ...ownedByUser(),
    name: text('name').notNull(),
    type: text('type', { enum: metricTypes }).notNull(),
    category: text('category').notNull(),
    config: jsonb('config').$type<Record<string, unknown>>().notNull().default({}),
    isActive: boolean('is_active').notNull().default(true),
    version: integer('version').notNull().default(1),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('metrics_user_idx').on(t.userId),
    index('metrics_deleted_idx').on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    // A person cannot have two live metrics of the same name; import matches on it.
    uniqueIndex('metrics_user_name_live_idx')
      .on(t.userId, sql`lower(${t.name})`)
      .where(sql`${t.deletedAt} is null`),
    check('metrics_type_check', sql`${t.type} in ('rating', 'duration', 'binary', 'number', 'text')`),
  ],
);

export const entries = pgTable(
  'entries',
  {
    ...ownedByUser(),
    metricId: uuid('metric_id')
      .notNull()
      .references(() => metrics.id, { onDelete: 'cascade' }),
    value: jsonValue('value').notNull(),
    // The number the analytics use: binary → 0/1, text → null.
    numericValue: doublePrecision('numeric_value'),
    // The user's local calendar date, never a UTC midnight.
    date: date('date', { mode: 'string' }).notNull(),
    time: time('time'),
    notes: text('notes'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    version: integer('version').notNull().default(1),
    ...timestamps,
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // Listing order is (date, time, id) descending, an entry without a time last in its day: this
    // index, scanned backwards, serves that order, its keyset cursor and the date-range filter.
    index('entries_user_date_idx')
      .on(t.userId, t.date, sql`coalesce(${t.time}, '00:00:00'::time)`, t.id)
      .where(sql`${t.deletedAt} is null`),
    index('entries_user_metric_date_idx').on(t.userId, t.metricId, t.date),
    index('entries_tags_idx').using('gin', t.tags),
    index('entries_deleted_idx').on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
  ],
);

export const insightTypes = ['correlation', 'trend', 'pattern', 'recommendation', 'streak'] as const;

export const insights = pgTable(
  'insights',
  {
    ...ownedByUser(),
    // One recompute writes one set; older sets are deactivated, not deleted.
    setId: uuid('set_id').notNull(),
    type: text('type', { enum: insightTypes }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    confidence: doublePrecision('confidence').notNull(),
    dateFrom: date('date_from', { mode: 'string' }),
    dateTo: date('date_to', { mode: 'string' }),
    isActive: boolean('is_active').notNull().default(true),
    ...timestamps,
  },
  (t) => [index('insights_user_active_idx').on(t.userId, t.isActive, t.type)],
);

// The per-user sequence behind change_log. `prunedThrough` is the highest seq that retention removed:
// a cursor below it cannot be replayed and gets a resync.
export const syncState = pgTable('sync_state', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  seq: bigint('seq', { mode: 'number' }).notNull().default(0),
  prunedThrough: bigint('pruned_through', { mode: 'number' }).notNull().default(0),
});

export const changeOps = ['upsert', 'delete'] as const;

export const changeLog = pgTable(
  'change_log',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    op: text('op', { enum: changeOps }).notNull(),
    data: jsonb('data').$type<unknown>(),
    // The client-supplied id of the write that caused this change, so a device recognizes its own writes.
    clientMutationId: text('client_mutation_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.seq] }), index('change_log_created_idx').on(t.createdAt)],
);

// Notices for a user. The unique (user, key, local date) makes each scheduled notice happen once per
// local day, whichever server instance's scheduler finds it first. Every notice is a row, whichever
// channels are on; the in-app list shows those with `in_app` once they are delivered.
export const notifications = pgTable(
  'notifications',
  {
    ...ownedByUser(),
    kind: text('kind').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    localDate: date('local_date', { mode: 'string' }).notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    link: text('link').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    inApp: boolean('in_app').notNull().default(true),
    // Not before this instant (the end of quiet hours).
    deliverAfter: timestamp('deliver_after', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    readAt: timestamp('read_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('notifications_once_idx').on(t.userId, t.dedupeKey, t.localDate),
    index('notifications_user_delivered_idx').on(t.userId, t.deliveredAt, t.id),
    index('notifications_pending_idx').on(t.deliverAfter).where(sql`${t.deliveredAt} is null`),
  ],
);

// Web Push subscriptions: an endpoint belongs to one browser, so it is unique across users.
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    ...ownedByUser(),
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('push_subscriptions_endpoint_idx').on(t.endpoint),
    index('push_subscriptions_user_idx').on(t.userId),
  ],
);

export const webhooks = pgTable(
  'webhooks',
  {
    ...ownedByUser(),
    url: text('url').notNull(),
    description: text('description'),
    // The Standard Webhooks signing secret (whsec_…), shown to the user once, when created.
    secret: text('secret').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    lastError: text('last_error'),
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [index('webhooks_user_idx').on(t.userId)],
);

// Secrets the server makes for itself on first start and every instance shares (VAPID keys, the key
// of unsubscribe links).
export const serverSecrets = pgTable('server_secrets', {
  name: text('name').primaryKey(),
  value: jsonb('value').$type<Record<string, string>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
