/** One line that says why the database cannot be used, without the password or a stack. */
export function describeDbError(error: unknown, connectionString: string): string {
  let where = 'the database';
  try {
    const u = new URL(connectionString);
    where = `PostgreSQL at ${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    // An unparsable URL is reported by the config check before we get here.
  }
  const e = error as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return `cannot reach ${where}: connection refused (is the server running? check DATABASE_URL)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach ${where}: unknown host (check DATABASE_URL)`;
    case '3D000':
      return `${where} does not exist (create it, or fix the database name in DATABASE_URL)`;
    case '28P01':
    case '28000':
      return `${where} refused the credentials in DATABASE_URL`;
    default:
      return `cannot use ${where}: ${e.message ?? String(error)}`;
  }
}
