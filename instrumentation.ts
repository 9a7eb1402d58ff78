/**
 * Runs once when the studio server starts: a bad environment stops it here with a readable
 * list, rather than failing on the first request with a stack trace.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { checkStudioEnv } = await import('./server/env-check');
    checkStudioEnv();
  }
}
