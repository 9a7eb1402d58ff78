/** Roles, weakest first: each includes what the ones before it may do. */
export const roles = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof roles)[number];

export function hasRole(actual: string | null | undefined, needed: Role): boolean {
  const have = roles.indexOf((actual ?? 'viewer') as Role);
  return have >= roles.indexOf(needed);
}
