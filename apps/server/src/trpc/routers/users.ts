import {
  changePasswordInput,
  deleteAccountInput,
  endedSessions,
  loginInput,
  ok,
  publicUser,
  registerInput,
  signedIn,
  updatePreferencesInput,
} from '@lifexp/contracts';
import {
  changePassword,
  deleteAccount,
  endSessions,
  getUser,
  type Requester,
  type SignedIn,
  signIn,
  signUp,
  toPublicUser,
  updatePreferences,
} from '@lifexp/db';
import { clearedSessionCookie, sessionCookie } from '../../auth/cookies';
import { deviceCookie, knownDevice } from '../../auth/device';
import type { Context } from '../context';
import { credentialProcedure, protectedCredentialProcedure, protectedProcedure, router } from '../init';

function requester(ctx: Context, email?: string): Requester {
  return {
    address: ctx.request.clientAddress,
    userAgent: ctx.request.headers.get('user-agent') ?? undefined,
    knownDevice:
      email === undefined
        ? undefined
        : knownDevice(ctx.deps.config, ctx.request.headers.get('cookie'), email),
  };
}

/** The new session goes back as a cookie (browsers) and in the answer (other clients). */
function withSessionCookie(ctx: Context, { user, token }: SignedIn) {
  const host = ctx.request.headers.get('host');
  ctx.request.resHeaders?.append('Set-Cookie', sessionCookie(token, host));
  // This browser is now a known device of the account (see auth/device).
  ctx.request.resHeaders?.append('Set-Cookie', deviceCookie(ctx.deps.config, user.email, host));
  return { user: toPublicUser(user), token };
}

/**
 * This instance forgets the user's cached sessions as soon as they change; the NOTIFY that tells the
 * other instances arrives here too, a moment later.
 */
function forgetSessions(ctx: Context & { auth: { user: { id: string } } }): void {
  ctx.deps.hub.sessions.forgetUser(ctx.auth.user.id);
}

function clearSessionCookie(ctx: Context): void {
  ctx.request.resHeaders?.append('Set-Cookie', clearedSessionCookie(ctx.request.headers.get('host')));
}

export const usersRouter = router({
  register: credentialProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/users/register',
        summary: 'Creates an account and signs in',
        tags: ['users'],
        protect: false,
      },
      created: true,
    })
    .input(registerInput)
    .output(signedIn)
    .mutation(async ({ ctx, input }) =>
      withSessionCookie(
        ctx,
        await signUp(ctx.db, input, requester(ctx), {
          registrationsPerAddress: ctx.deps.config.registrationsPerAddress,
        }),
      ),
    ),

  login: credentialProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/users/login',
        summary: 'Signs in',
        tags: ['users'],
        protect: false,
      },
    })
    .input(loginInput)
    .output(signedIn)
    .mutation(async ({ ctx, input }) =>
      withSessionCookie(ctx, await signIn(ctx.db, input, requester(ctx, input.email))),
    ),

  logout: protectedProcedure
    .meta({
      openapi: { method: 'POST', path: '/api/users/logout', summary: 'Ends this session', tags: ['users'] },
    })
    .output(ok)
    .mutation(async ({ ctx }) => {
      await endSessions(ctx.db, ctx.auth.user.id, { only: ctx.auth.session.id });
      forgetSessions(ctx);
      clearSessionCookie(ctx);
      return { ok: true as const };
    }),

  /** Signs out every other device; this one stays signed in. */
  logoutAll: protectedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/users/logout-all',
        summary: 'Signs out every other device',
        tags: ['users'],
      },
    })
    .output(endedSessions)
    .mutation(async ({ ctx }) => {
      const ended = await endSessions(ctx.db, ctx.auth.user.id, { allBut: ctx.auth.session.id });
      forgetSessions(ctx);
      return { ok: true as const, endedSessions: ended };
    }),

  profile: protectedProcedure
    .meta({
      openapi: { method: 'GET', path: '/api/users/profile', summary: 'The signed-in user', tags: ['users'] },
    })
    .output(publicUser)
    .query(async ({ ctx }) => toPublicUser(await getUser(ctx.db, ctx.auth.user.id))),

  updatePreferences: protectedProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/api/users/preferences',
        summary: 'Changes the time zone or preferences',
        tags: ['users'],
      },
    })
    .input(updatePreferencesInput)
    .output(publicUser)
    .mutation(async ({ ctx, input }) => {
      const user = await updatePreferences(ctx.db, ctx.auth.user.id, input);
      forgetSessions(ctx);
      return toPublicUser(user);
    }),

  /** Changes the password and signs out every other device. */
  changePassword: protectedCredentialProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/api/users/password',
        summary: 'Changes the password and signs out every other device',
        tags: ['users'],
      },
    })
    .input(changePasswordInput)
    .output(endedSessions)
    .mutation(async ({ ctx, input }) => {
      const ended = await changePassword(
        ctx.db,
        { user: ctx.auth.user, sessionId: ctx.auth.session.id },
        input,
      );
      forgetSessions(ctx);
      return { ok: true as const, endedSessions: ended };
    }),

  /** Removes the account with all its data and sessions. */
  deleteAccount: protectedCredentialProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/api/users/delete-account',
        summary: 'Removes the account with all its data',
        tags: ['users'],
      },
    })
    .input(deleteAccountInput)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      await deleteAccount(ctx.db, ctx.auth.user, input.password);
      forgetSessions(ctx);
      // Nothing of the account stays behind: its cached answers and its queued jobs go too.
      ctx.deps.analytics.forgetUser(ctx.auth.user.id);
      await ctx.deps.jobs.forgetUser(ctx.auth.user.id);
      await ctx.deps.notifications.forgetUser(ctx.auth.user.id);
      clearSessionCookie(ctx);
      return { ok: true as const };
    }),
});
