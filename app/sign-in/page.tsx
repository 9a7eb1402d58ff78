import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/layout/auth-card';
import { SignInForm } from '@/components/layout/sign-in-form';
import { db } from '@/server/db';
import { needsOwner } from '@/server/services/accounts';

export const dynamic = 'force-dynamic';

export default async function SignInPage() {
  if (await needsOwner(db())) redirect('/setup');
  return (
    <AuthCard title="Sign in" subtitle="Design, deploy and observe your event flows.">
      <SignInForm />
    </AuthCard>
  );
}
