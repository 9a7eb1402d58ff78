/**
 * Runs once when the studio server starts: a bad environment stops it here with a readable
 * list, rather than failing on the first request with a stack trace.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { checkStudioEnv } = await import('./server/env-check');
    checkStudioEnv();
    // Every request gets the client address the login limits rely on, before Next sees it.
    const [{ Server }, { parseTrustProxy, stampAllServers }] = await Promise.all([
      import('node:http'),
      import('./server/client-address'),
    ]);
    stampAllServers(Server, parseTrustProxy(process.env.MESHFLOW_TRUST_PROXY));
  }
}
