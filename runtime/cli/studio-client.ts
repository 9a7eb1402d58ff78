/**
 * The studio's API as the CLI sees it: tRPC over HTTP with an API token. Only the router's
 * type comes from server/; the code talks HTTP, so the CLI works against any studio it can reach.
 */
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from '../../server/routers/root.ts';

export interface StudioOptions {
  server: string;
  token: string;
}

export type StudioClient = ReturnType<typeof createTRPCClient<AppRouter>>;

/** `--server` / `--token`, falling back to MESHFLOW_SERVER / MESHFLOW_TOKEN; a string saying what is missing otherwise. */
export function studioOptions(values: { server?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): StudioOptions | string {
  const server = (values.server ?? env.MESHFLOW_SERVER ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = values.token ?? env.MESHFLOW_TOKEN;
  if (!/^https?:\/\//.test(server)) return `--server must be the studio's http(s) URL, not "${server}"`;
  if (!token) return 'no API token: pass --token mf_… or set MESHFLOW_TOKEN (create one in the studio under Settings → API tokens)';
  return { server, token };
}

export function studioClient(options: StudioOptions): StudioClient {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${options.server}/api/trpc`, transformer: superjson, headers: { authorization: `Bearer ${options.token}` } })],
  });
}

/** One line saying what went wrong talking to the studio, and what to do about it. */
export function describeStudioError(error: unknown, server: string): string {
  if (!(error instanceof TRPCClientError)) return error instanceof Error ? error.message : String(error);
  const data = error.data as { code?: string; httpStatus?: number } | undefined;
  if (data?.code === 'UNAUTHORIZED') {
    return `the studio at ${server} refused the API token (401): check --token / MESHFLOW_TOKEN, or create a new token under Settings → API tokens`;
  }
  if (data?.code === 'FORBIDDEN') return `the studio at ${server} refused (403): ${error.message}`;
  if (data?.code) return `the studio at ${server} answered ${data.httpStatus ?? ''} ${data.code}: ${error.message}`.replace(/\s+/g, ' ');
  const cause = (error.cause as { cause?: { code?: string } } | undefined)?.cause?.code ?? (error.cause as { code?: string } | undefined)?.code;
  if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN' || cause === 'ECONNRESET' || /fetch failed/.test(error.message)) {
    return `cannot reach the studio at ${server}${cause ? ` (${cause})` : ''}: is it running? set --server or MESHFLOW_SERVER`;
  }
  return `${server} did not answer as a Meshflow studio: ${error.message}`;
}
