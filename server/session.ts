/** The signed-in user for server components, and where to send someone who is not. */
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { auth } from './auth';
import { db } from './db';
import { activeUser, needsOwner } from './services/accounts';
import type { CurrentUser } from './trpc';

export async function requireUser(): Promise<CurrentUser> {
  if (await needsOwner(db())) redirect('/setup');
  const session = await auth().api.getSession({ headers: await headers() });
  const user = session ? await activeUser(db(), session.user.id) : null;
  if (!user) redirect('/sign-in');
  return user;
}
