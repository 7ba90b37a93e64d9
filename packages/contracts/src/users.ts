import { z } from 'zod';
import { commonPasswords } from './common-passwords';
import { notificationSettings } from './notifications';
import { text } from './primitives';

/** Trimmed and lower-cased; a practical shape check, not RFC 5322. */
export const email = text()
  .trim()
  .toLowerCase()
  .max(254, { error: 'must be at most 254 characters' })
  .pipe(z.email({ error: 'must be an email address' }));

/** 8 to 256 characters, bounded before anyone hashes it, and not one of the most common. */
export const password = text()
  .min(8, { error: 'must be at least 8 characters' })
  .max(256, { error: 'must be at most 256 characters' })
  .refine((value) => !commonPasswords.has(value.toLowerCase()), {
    error: 'is too common; choose a less guessable password',
  });

/** A password given to prove identity: only bounded, never judged (old passwords may be weak). */
export const passwordAttempt = text().min(1).max(256);

/** An IANA time zone known to this runtime (e.g. Europe/Berlin); stored in canonical form. */
export const timezone = text()
  .max(64)
  .regex(/^(UTC|[A-Za-z]+(\/[A-Za-z0-9_+-]+)+)$/, {
    error: 'must be an IANA time zone such as Europe/Berlin',
  })
  .transform((value, ctx) => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: 'custom', message: `unknown time zone "${value}"` });
      return z.NEVER;
    }
  });

const MAX_UI_BYTES = 8 * 1024;

const jsonValue: z.ZodType<unknown> = z
  .lazy(() =>
    z.union([
      text().max(1024),
      z.number().finite(),
      z.boolean(),
      z.null(),
      z.array(jsonValue).max(100),
      z.record(text().max(64), jsonValue),
    ]),
  )
  .meta({
    id: 'JsonValue',
    description: 'Any JSON value (strings up to 1024 characters, lists up to 100 items)',
  });

const preferenceFields = {
  theme: z.enum(['system', 'light', 'dark']),
  /** 0 = Sunday … 6 = Saturday. */
  weekStartsOn: z.number().int().min(0).max(6),
  /** Entries logged before this hour count for the previous day (night owls). */
  dayStartsAtHour: z.number().int().min(0).max(12),
  locale: text()
    .max(35)
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { error: 'must be a BCP 47 tag such as en-GB' }),
  units: z.enum(['metric', 'imperial']),
  /** The dashboard's own settings: any JSON up to 8 KiB. */
  ui: z.record(text().max(64), jsonValue).refine((value) => JSON.stringify(value).length <= MAX_UI_BYTES, {
    error: `must be at most ${MAX_UI_BYTES} bytes of JSON`,
  }),
  /** Reminders, streak and insight notices, the weekly summary, quiet hours and channels. */
  notifications: notificationSettings,
};
type Fields = typeof preferenceFields;

/** Known, typed keys, plus `ui` for the dashboard. */
export const preferences = z.strictObject(
  Object.fromEntries(Object.entries(preferenceFields).map(([key, field]) => [key, field.optional()])) as {
    [K in keyof Fields]: z.ZodOptional<Fields[K]>;
  },
);
export type Preferences = z.infer<typeof preferences>;

/** A change of preferences: merged key by key over the stored ones; a key set to null is removed. */
export const preferencesPatch = z.strictObject(
  Object.fromEntries(
    Object.entries(preferenceFields).map(([key, field]) => [key, field.nullable().optional()]),
  ) as { [K in keyof Fields]: z.ZodOptional<z.ZodNullable<Fields[K]>> },
);

export const registerInput = z.strictObject({
  email,
  password,
  timezone: timezone.optional(),
});

export const loginInput = z.strictObject({
  email: text().trim().toLowerCase().max(254),
  password: passwordAttempt,
});

export const updatePreferencesInput = z
  .strictObject({
    timezone: timezone.optional(),
    preferences: preferencesPatch.optional(),
  })
  .refine((value) => value.timezone !== undefined || value.preferences !== undefined, {
    error: 'give a timezone or preferences to change',
  });

export const changePasswordInput = z.strictObject({
  currentPassword: passwordAttempt,
  newPassword: password,
});

export const deleteAccountInput = z.strictObject({ password: passwordAttempt });

export const publicUser = z
  .object({
    id: z.string(),
    email: z.string(),
    timezone: z.string(),
    preferences: preferences,
    createdAt: z.string(),
  })
  .meta({
    id: 'User',
    example: {
      id: '3e1f5a7b-9c2d-4e6f-8a0b-1c2d3e4f5a6b',
      email: 'ada@example.com',
      timezone: 'Europe/Berlin',
      preferences: { theme: 'dark', weekStartsOn: 1 },
      createdAt: '2026-11-20T10:00:00.000Z',
    },
  });
export type PublicUser = z.infer<typeof publicUser>;

/** A new session: the token for `Authorization: Bearer`, also set as a cookie for browsers. */
export const signedIn = z.object({ user: publicUser, token: z.string() }).meta({
  id: 'Session',
  example: {
    user: {
      id: '3e1f5a7b-9c2d-4e6f-8a0b-1c2d3e4f5a6b',
      email: 'ada@example.com',
      timezone: 'Europe/Berlin',
      preferences: {},
      createdAt: '2026-11-20T10:00:00.000Z',
    },
    token: 'k3m9q2w7x4z8c5v6b2n7m4p9.<secret>',
  },
});

export const ok = z.object({ ok: z.literal(true) }).meta({ id: 'Ok' });

/** Sessions ended on other devices (logoutAll, changePassword). */
export const endedSessions = z
  .object({ ok: z.literal(true), endedSessions: z.number().int() })
  .meta({ id: 'EndedSessions' });
