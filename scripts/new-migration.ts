/**
 * `npm run db:new-migration -- <name>` writes prisma/migrations/<stamp>_<name>/migration.sql:
 * the SQL that takes the schema as of the last migration to prisma/schema.prisma.
 *
 * The Prisma CLI cannot run here (it downloads a native engine first), so this drives
 * Prisma's own schema engine compiled to WebAssembly, diffing two schema texts: the "from"
 * text is the schema snapshot stored beside the newest migration. It needs a reachable
 * PostgreSQL (DATABASE_URL, or the machine's server on 127.0.0.1:5432) but changes nothing there.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { createRequire } from 'node:module';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';

const root = fileURLToPath(new URL('..', import.meta.url));
const migrationsDir = join(root, 'prisma', 'migrations');
const schemaPath = join(root, 'prisma', 'schema.prisma');
const SNAPSHOT = 'schema.prisma.snapshot';

// The package's entry imports its .wasm as an ES module, which Node 20 cannot do without a
// flag; instantiate it by hand against the generated bindings instead.
const require = createRequire(import.meta.url);
const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
  './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports,
});
bindings.__wbg_set_wasm(instance.exports);
(instance.exports.__wbindgen_start as () => void)();
const { SchemaEngine } = bindings;

const args = process.argv.slice(2);
const empty = args.includes('--empty');
const name = (args.find((a) => !a.startsWith('--')) ?? '').trim();
if (!/^[a-z0-9_]+$/.test(name)) {
  console.error(
    'Usage: npm run db:new-migration -- <name> [--empty]   (name: lower-case letters, digits, _;\n' +
      '  --empty writes a migration for hand-written SQL such as triggers)',
  );
  process.exit(2);
}

const previous = existsSync(migrationsDir)
  ? readdirSync(migrationsDir)
      .filter((d) => existsSync(join(migrationsDir, d, 'migration.sql')))
      .sort()
      .at(-1)
  : undefined;
const fromSchema = previous ? readFileSync(join(migrationsDir, previous, SNAPSHOT), 'utf8') : undefined;
const toSchema = readFileSync(schemaPath, 'utf8');

// The engine opens a connection even for a schema-to-schema diff (it only reads the server
// version), so it needs a reachable PostgreSQL; the adapter is bound the way Prisma binds
// adapters for its engines.
const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url }));
const engine = await SchemaEngine.new({ datamodels: undefined }, () => {}, adapter);
const result = await engine.diff({
  from: fromSchema
    ? { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: fromSchema }] }
    : { tag: 'empty' },
  to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: toSchema }] },
  script: true,
  exitCode: false,
  filters: { externalTables: [], externalEnums: [] },
});
const diff = result.stdout ?? '';
const noChange = !diff.trim() || /^-- This is an empty migration/.test(diff.trim());
const sql = empty ? `-- ${name}: hand-written SQL\n${noChange ? '' : diff}` : diff;
if (noChange && !empty) {
  console.log('No changes: prisma/schema.prisma matches the newest migration.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const dir = join(migrationsDir, `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql);
writeFileSync(join(dir, SNAPSHOT), toSchema);
if (!existsSync(join(migrationsDir, 'migration_lock.toml'))) {
  writeFileSync(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
}
console.log(`Wrote ${join('prisma', 'migrations', `${stamp}_${name}`, 'migration.sql')}`);
process.exit(0);
