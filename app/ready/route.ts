/** Readiness of the studio (Kubernetes readinessProbe): its database answers. 503 with the reason otherwise. */
import { pool } from '@/server/db';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  try {
    await pool().query('SELECT 1');
    return Response.json({ status: 'ready', checks: { database: { ok: true, detail: 'reachable' } } });
  } catch (error) {
    // The cause goes to the log, not to an unauthenticated caller.
    console.error(`studio not ready: the database does not answer: ${(error as Error).message}`);
    return Response.json(
      { type: 'about:blank', title: 'Not ready', status: 503, detail: 'the database does not answer; the studio log names the cause' },
      { status: 503, headers: { 'content-type': 'application/problem+json' } },
    );
  }
}
