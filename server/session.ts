/** The signed-in user for server components, and where to send someone who is not. */
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { auth } from './auth';
import { db } from './db';
import { needsOwner } from './services/accounts';
import type { Role } from './services/roles';
import type { CurrentUser } from './trpc';

export async function requireUser(): Promise<CurrentUser> {
  if (await needsOwner(db())) redirect('/setup');
  const session = await auth().api.getSession({ headers: await headers() });
  if (!session) redirect('/sign-in');
  const u = session.user as { id: string; name: string; email: string; role?: string };
  return { id: u.id, name: u.name, email: u.email, role: (u.role ?? 'viewer') as Role };
}
