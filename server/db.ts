/** The Prisma client, one per process (Next.js dev reloads modules, hence the global). */
import { PrismaPg } from '@prisma/adapter-pg';
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
