import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, pendingMigrations, readMigrations } from '@/prisma/migrator';
import { createScratchDatabase } from '@/test/helpers/databases';

describe('migrations on a fresh database', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let client: pg.Client;

  beforeAll(async () => {
    scratch = await createScratchDatabase(inject('adminUrl'));
    client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await scratch.drop();
  });

  it('applies every committed migration once, and none on the second run', async () => {
    const all = readMigrations().map((m) => m.name);
    expect(await pendingMigrations(client)).toEqual(all);
    expect(await applyMigrations(scratch.url)).toEqual(all);
    expect(await applyMigrations(scratch.url)).toEqual([]);
    expect(await pendingMigrations(client)).toEqual([]);
  });

  it("records them in Prisma's history table with the file checksums", async () => {
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows).toEqual(
      readMigrations().map((m) => ({
        migration_name: m.name,
        checksum: createHash('sha256').update(m.sql).digest('hex'),
      })),
    );
  });

  it('creates the catalog tables', async () => {
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const tables = rows.map((r) => r.table_name);
    for (const t of ['flow', 'flow_version', 'deployment', 'connector_instance', 'event_type', 'event_schema', 'event', 'run', 'run_step', 'dead_letter', 'user', 'session', 'api_token']) {
      expect(tables).toContain(t);
    }
  });

  it('lets concurrent starters race without applying anything twice', async () => {
    const other = await createScratchDatabase(inject('adminUrl'));
    try {
      const results = await Promise.all([applyMigrations(other.url), applyMigrations(other.url), applyMigrations(other.url)]);
      expect(results.flat().sort()).toEqual(readMigrations().map((m) => m.name).sort());
    } finally {
      await other.drop();
    }
  });
});
