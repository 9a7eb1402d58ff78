import { defineConfig } from 'prisma/config';

// Prisma 7 reads no .env itself; `generate` needs no URL, so a placeholder keeps it working
// on machines where DATABASE_URL is unset (npm start then uses the embedded PostgreSQL).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/meshflow' },
});
