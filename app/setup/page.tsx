import { redirect } from 'next/navigation';
import { AuthCard } from '@/components/layout/auth-card';
import { SetupForm } from '@/components/layout/setup-form';
import { db } from '@/server/db';
import { needsOwner } from '@/server/services/accounts';

export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  if (!(await needsOwner(db()))) redirect('/sign-in');
  return (
    <AuthCard title="Welcome to Meshflow" subtitle="Create the owner account. You can invite others from Settings.">
      <SetupForm />
    </AuthCard>
  );
}
