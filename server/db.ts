/** The Prisma client, one per process (Next.js dev reloads modules, hence the global). */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '@/prisma/generated/client';
import { env } from './env';

const globalForDb = globalThis as unknown as { meshflowDb?: PrismaClient };

export function createDb(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
}

export function db(): PrismaClient {
  globalForDb.meshflowDb ??= createDb(env().DATABASE_URL);
  return globalForDb.meshflowDb;
}

const globalForPool = globalThis as unknown as { meshflowPool?: pg.Pool };

/** A raw `pg` pool beside Prisma, for the runtime's own SQL functions (dead letters, run control, the event log). */
export function pool(): pg.Pool {
  globalForPool.meshflowPool ??= new pg.Pool({ connectionString: env().DATABASE_URL, max: 5 });
  return globalForPool.meshflowPool;
}
