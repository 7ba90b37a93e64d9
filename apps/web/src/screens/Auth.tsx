import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTRPC } from '../api';
import { browserTimeZone, fieldErrors } from '../lib/format';
import { InputField } from '../ui';

/** Sign in, or create an account (its time zone taken from the browser). */
export function AuthScreen() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const headingId = useId();
  const onSignedIn = () => queryClient.invalidateQueries();
  const login = useMutation(trpc.users.login.mutationOptions({ onSuccess: onSignedIn }));
  const register = useMutation(trpc.users.register.mutationOptions({ onSuccess: onSignedIn }));
  const active = mode === 'signin' ? login : register;
  const errors = fieldErrors(active.error, ['email', 'password'], {
    CONFLICT: 'email',
    UNAUTHORIZED: 'password',
  });

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (mode === 'signin') login.mutate({ email, password });
    else register.mutate({ email, password, timezone: browserTimeZone() });
  };
  const switchTo = (next: 'signin' | 'signup') => {
    setMode(next);
    login.reset();
    register.reset();
  };

  return (
    <div className="auth">
      <section className="card auth-card" aria-labelledby={headingId}>
        <div className="brand big" aria-hidden="true">
          <span className="logo">◆</span> Life XP
        </div>
        <h1 id={headingId}>{mode === 'signin' ? 'Welcome back' : 'Create your account'}</h1>
        <p className="muted">
          {mode === 'signin'
            ? 'Log your days in a tap; see what they say.'
            : `Your days will follow your time zone, ${browserTimeZone()}.`}
        </p>
        <form onSubmit={submit} noValidate>
          <InputField
            label="Email"
            error={errors.email}
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
          <InputField
            label="Password"
            error={errors.password}
            hint={mode === 'signup' ? 'At least 8 characters, not a common one.' : undefined}
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
          {errors.form && (
            <p className="error" role="alert">
              {errors.form}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={active.isPending}>
            {mode === 'signin' ? 'Sign in' : 'Create account'}
          </button>
        </form>
        <p className="switch">
          {mode === 'signin' ? (
            <>
              New here?{' '}
              <button type="button" className="link" onClick={() => switchTo('signup')}>
                Create an account instead
              </button>
            </>
          ) : (
            <>
              Have an account?{' '}
              <button type="button" className="link" onClick={() => switchTo('signin')}>
                Sign in instead
              </button>
            </>
          )}
        </p>
      </section>
    </div>
  );
}
