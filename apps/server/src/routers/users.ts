import {
  changePasswordInput,
  deleteAccountInput,
  loginInput,
  registerInput,
  updatePreferencesInput,
} from '@lifexp/contracts';
import {
  accountPolicy,
  addressPolicy,
  authenticate,
  checkPassword,
  createSession,
  DomainError,
  deleteUser,
  getUser,
  invalidateOtherSessions,
  invalidateSession,
  notifySessionsChanged,
  recordFailure,
  registerUser,
  resetThrottle,
  setPassword,
  throttleDelay,
  toPublicUser,
  updatePreferences,
} from '@lifexp/db';
import { clearedSessionCookie, sessionCookie } from '../auth/cookies';
import type { Context } from '../trpc/context';
import { protectedProcedure, publicProcedure, router } from '../trpc/init';

const INVALID_CREDENTIALS = 'invalid email or password';

async function refuseIfThrottled(ctx: Context, keys: string[]): Promise<void> {
  const wait = await throttleDelay(ctx.db, keys);
  if (wait > 0) {
    throw new DomainError('TOO_MANY_REQUESTS', `too many failed attempts; try again in ${wait} s`, {
      retryAfterSeconds: wait,
    });
  }
}

async function startSession(ctx: Context, userId: string): Promise<string> {
  const { token } = await createSession(ctx.db, userId, ctx.request.headers.get('user-agent') ?? undefined);
  ctx.request.resHeaders?.append('Set-Cookie', sessionCookie(token, ctx.request.headers.get('host')));
  return token;
}

/** Proves the signed-in person knows the password before a sensitive change; throttled like login. */
async function confirmPassword(ctx: Context, userId: string, email: string, password: string): Promise<void> {
  const key = `account:${email}`;
  await refuseIfThrottled(ctx, [key]);
  if (!(await checkPassword(ctx.db, userId, password))) {
    await recordFailure(ctx.db, key, accountPolicy);
    throw new DomainError('FORBIDDEN', 'the password is incorrect');
  }
}

export const usersRouter = router({
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    const user = await registerUser(ctx.db, input);
    const token = await startSession(ctx, user.id);
    return { user: toPublicUser(user), token };
  }),

  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const accountKey = `account:${input.email}`;
    const addressKey = `address:${ctx.request.clientAddress}`;
    await refuseIfThrottled(ctx, [accountKey, addressKey]);
    const user = await authenticate(ctx.db, input.email, input.password);
    if (!user) {
      await recordFailure(ctx.db, accountKey, accountPolicy);
      await recordFailure(ctx.db, addressKey, addressPolicy);
      throw new DomainError('UNAUTHORIZED', INVALID_CREDENTIALS);
    }
    await resetThrottle(ctx.db, accountKey);
    const token = await startSession(ctx, user.id);
    return { user: toPublicUser(user), token };
  }),

  logout: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateSession(ctx.db, ctx.auth.session.id);
    await notifySessionsChanged(ctx.db, ctx.auth.user.id);
    ctx.request.resHeaders?.append('Set-Cookie', clearedSessionCookie(ctx.request.headers.get('host')));
    return { ok: true as const };
  }),

  /** Signs out every other device; this one stays signed in. */
  logoutAll: protectedProcedure.mutation(async ({ ctx }) => {
    const ended = await invalidateOtherSessions(ctx.db, ctx.auth.user.id, ctx.auth.session.id);
    await notifySessionsChanged(ctx.db, ctx.auth.user.id);
    return { ok: true as const, endedSessions: ended };
  }),

  profile: protectedProcedure.query(async ({ ctx }) => toPublicUser(await getUser(ctx.db, ctx.auth.user.id))),

  updatePreferences: protectedProcedure.input(updatePreferencesInput).mutation(async ({ ctx, input }) => {
    return toPublicUser(await updatePreferences(ctx.db, ctx.auth.user.id, input));
  }),

  /** Changes the password and signs out every other device. */
  changePassword: protectedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const { user, session } = ctx.auth;
    await confirmPassword(ctx, user.id, user.email, input.currentPassword);
    await setPassword(ctx.db, user.id, input.newPassword);
    const ended = await invalidateOtherSessions(ctx.db, user.id, session.id);
    await notifySessionsChanged(ctx.db, user.id);
    return { ok: true as const, endedSessions: ended };
  }),

  /** Removes the account with all its data and sessions. */
  deleteAccount: protectedProcedure.input(deleteAccountInput).mutation(async ({ ctx, input }) => {
    const { user } = ctx.auth;
    await confirmPassword(ctx, user.id, user.email, input.password);
    await deleteUser(ctx.db, user.id);
    await notifySessionsChanged(ctx.db, user.id);
    ctx.request.resHeaders?.append('Set-Cookie', clearedSessionCookie(ctx.request.headers.get('host')));
    return { ok: true as const };
  }),
});
