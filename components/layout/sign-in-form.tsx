'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { authClient } from '@/components/auth-client';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { ErrorState } from '@/components/ui/states';

export function SignInForm() {
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  return (
    <form
      className="space-y-4"
      onSubmit={async (e) => {
        e.preventDefault();
        setPending(true);
        setError(null);
        const result = await authClient.signIn.email({ email, password });
        setPending(false);
        if (result.error) {
          setError(result.error.message ?? 'sign-in failed');
          return;
        }
        router.push('/flows');
        router.refresh();
      }}
    >
      <Field id="email" label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <Field id="password" label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      {error ? <ErrorState message={error} /> : null}
      <Button type="submit" className="w-full justify-center" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </Button>
    </form>
  );
}
