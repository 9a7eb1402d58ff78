'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import type { ReactNode } from 'react';
import { authClient } from '@/components/auth-client';
import { CurrentUserProvider, type StudioUser } from './current-user';
import { WorkerHealth } from './worker-health';

const nav = [
  { href: '/overview', label: 'Overview' },
  { href: '/flows', label: 'Flows' },
  { href: '/catalog', label: 'Catalog' },
  { href: '/connectors', label: 'Connectors' },
  { href: '/secrets', label: 'Secrets' },
  { href: '/runs', label: 'Runs' },
  { href: '/events', label: 'Events' },
  { href: '/dead-letters', label: 'Dead letters' },
  { href: '/settings', label: 'Settings' },
];

export function StudioShell({ user, children }: { user: StudioUser; children: ReactNode }) {
  const pathname = usePathname();
  const router = useRouter();
  return (
    <CurrentUserProvider value={user}>
      <div className="flex min-h-screen">
        <aside className="flex w-56 shrink-0 flex-col bg-slate-900 text-slate-200">
          <div className="px-5 py-5 text-lg font-semibold tracking-tight text-white">
            <span aria-hidden className="mr-2 text-indigo-400">◆</span>Meshflow
          </div>
          <nav aria-label="Main" className="flex-1 space-y-1 px-3">
            {nav.map((item) => {
              const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
              return (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={active ? 'page' : undefined}
                  className={`block rounded-md px-3 py-2 text-sm ${active ? 'bg-slate-800 font-medium text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'}`}
                >
                  {item.label}
                </Link>
              );
            })}
          </nav>
          <div className="border-t border-slate-800 px-5 py-4 text-xs text-slate-400">
            <div className="truncate text-slate-200" data-testid="current-user">
              {user.name}
            </div>
            <div className="truncate">
              {user.email} · <span data-testid="current-role">{user.role}</span>
            </div>
            <button
              type="button"
              className="mt-2 text-slate-300 underline hover:text-white"
              onClick={async () => {
                await authClient.signOut();
                router.push('/sign-in');
                router.refresh();
              }}
            >
              Sign out
            </button>
          </div>
        </aside>
        <div className="flex min-w-0 flex-1 flex-col">
          <header className="flex items-center justify-end border-b border-slate-200 bg-white px-6 py-2">
            <WorkerHealth />
          </header>
          <main className="flex-1 px-8 py-6">{children}</main>
        </div>
      </div>
    </CurrentUserProvider>
  );
}
