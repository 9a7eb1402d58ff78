/** Liveness of the studio process (Kubernetes livenessProbe): answers while the server runs, touching nothing else. */
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return Response.json({ status: 'ok' });
}
