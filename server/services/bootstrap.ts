/** First-start chores shared by `npm start` and the tests: seed a new database, make the owner. */
import { createDb } from '../db';
import { seed } from '@/prisma/seed';
import { ensureOwnerFromEnv } from './accounts';

export async function bootstrap(
  databaseUrl: string,
  env: Record<string, string | undefined>,
  options: { seed: boolean },
): Promise<string[]> {
  const db = createDb(databaseUrl);
  const lines: string[] = [];
  try {
    if (options.seed) {
      const seeded = await seed(db);
      if (seeded.length) lines.push(`seeded ${seeded.join(', ')}`);
    }
    const owner = await ensureOwnerFromEnv(db, env);
    if (owner === 'created') lines.push(`created the owner account ${env.MESHFLOW_OWNER_EMAIL}`);
    if (owner === 'not-configured' && (await db.user.count()) === 0) {
      lines.push('no account yet: open the studio to create the owner (or set MESHFLOW_OWNER_EMAIL/PASSWORD)');
    }
  } finally {
    await db.$disconnect();
  }
  return lines;
}
