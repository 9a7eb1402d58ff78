'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { authClient } from '@/components/auth-client';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { ErrorState } from '@/components/ui/states';

export function SetupForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [signInError, setSignInError] = useState<string | null>(null);
  const createOwner = useMutation(
    trpc.account.createOwner.mutationOptions({
      onSuccess: async () => {
        const result = await authClient.signIn.email({ email: form.email, password: form.password });
        if (result.error) {
          setSignInError(result.error.message ?? 'sign-in failed');
          return;
        }
        router.push('/flows');
        router.refresh();
      },
    }),
  );
  const fieldErrors = (createOwner.error?.data as { fieldErrors?: Record<string, string[]> } | undefined)?.fieldErrors;
  return (
    <form
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        createOwner.mutate(form);
      }}
    >
      <Field id="name" label="Your name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={fieldErrors?.name?.[0]} />
      <Field id="email" label="Email" type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={fieldErrors?.email?.[0]} />
      <Field
        id="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        value={form.password}
        onChange={(e) => setForm({ ...form, password: e.target.value })}
        error={fieldErrors?.password?.[0]}
      />
      {createOwner.error && !fieldErrors ? <ErrorState message={createOwner.error.message} /> : null}
      {signInError ? <ErrorState message={signInError} /> : null}
      <Button type="submit" className="w-full justify-center" disabled={createOwner.isPending}>
        {createOwner.isPending ? 'Creating…' : 'Create owner account'}
      </Button>
    </form>
  );
}
