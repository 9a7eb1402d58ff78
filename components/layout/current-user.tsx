'use client';

import { createContext, useContext } from 'react';

export interface StudioUser {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'editor' | 'viewer';
}

const CurrentUserContext = createContext<StudioUser | null>(null);
export const CurrentUserProvider = CurrentUserContext.Provider;

export function useCurrentUser(): StudioUser {
  const user = useContext(CurrentUserContext);
  if (!user) throw new Error('useCurrentUser outside the studio shell');
  return user;
}

/** Mirrors the server's role order; the server enforces, this only hides what would fail. */
export function canEdit(user: StudioUser): boolean {
  return user.role === 'editor' || user.role === 'admin';
}
