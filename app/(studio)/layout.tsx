import type { ReactNode } from 'react';
import { StudioShell } from '@/components/layout/studio-shell';
import { requireUser } from '@/server/session';

export const dynamic = 'force-dynamic';

export default async function StudioLayout({ children }: { children: ReactNode }) {
  const user = await requireUser();
  return <StudioShell user={user}>{children}</StudioShell>;
}
