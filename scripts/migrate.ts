/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (npm start does this itself). */
import { applyMigrations } from '../prisma/migrator';
import { describeDbError } from '../runtime/worker/db-errors';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('db:migrate: set DATABASE_URL to the database to migrate');
  process.exit(2);
}
try {
  const applied = await applyMigrations(url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the schema is up to date');
} catch (error) {
  const e = error as { code?: string; message: string };
  console.error(`db:migrate: ${e.code ? describeDbError(error, url) : e.message}`);
  process.exit(1);
}
