import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, readMigrations } from '@/prisma/migrator';

describe('committed migrations', () => {
  it('cover prisma/schema.prisma (run `npm run db:new-migration -- <name>` after editing it)', () => {
    const newest = readMigrations().at(-1);
    expect(newest).toBeDefined();
    const snapshot = readFileSync(join(MIGRATIONS_DIR, newest!.name, 'schema.prisma.snapshot'), 'utf8');
    const schema = readFileSync(join(MIGRATIONS_DIR, '..', 'schema.prisma'), 'utf8');
    expect(schema).toBe(snapshot);
  });

  it('are ordered by their timestamp prefix', () => {
    const names = readMigrations().map((m) => m.name);
    expect(names.every((n) => /^\d{14}_[a-z0-9_]+$/.test(n))).toBe(true);
    expect([...names].sort()).toEqual(names);
  });
});
