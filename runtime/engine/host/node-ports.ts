/**
 * Real ports for running workflows in-process (the CLI, studio test runs): wall clock,
 * fetch for HTTP under the egress policy, an in-memory event bus, secrets from a map given
 * explicitly (never the environment), MCP calls through the official SDK. Scripts only when the
 * caller passes a script runner (see script-runner.ts: a separate locked-down process).
 */
import { randomUUID } from 'node:crypto';
import { egressPolicy, type EgressPolicy } from '../../net/egress.ts';
import type { EnginePorts, HttpPort, ScriptPort, Timers, WorkflowResolver } from '../ports.ts';
import type { Json, WorkflowDocument } from '../types.ts';
import { undefinedSecretsMessage } from '../../secrets/names.ts';
import { SdkMcpClient } from './mcp-client.ts';
import { MemoryEventBus } from './memory-events.ts';

export const realTimers: Timers = {
  sleep(until, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      // setTimeout caps at ~24.8 days; longer waits re-arm.
      const arm = () => {
        const left = until - Date.now();
        if (left <= 0) return finish();
        timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
      };
      const finish = () => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      signal.addEventListener('abort', abort, { once: true });
      arm();
    });
  },
};

/** HTTP through an egress policy: every connection and every redirect hop is checked (runtime/net/egress.ts). */
export function egressHttp(policy: () => EgressPolicy = egressPolicy): HttpPort {
  return {
    async request(request, signal) {
      const response = await policy().fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: typeof request.body === 'string' ? request.body : new Uint8Array(request.body) }),
        redirect: request.followRedirects ? 'follow' : 'manual',
        signal,
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
    },
  };
}

/** `fetch` under the process's egress policy, for clients that take a fetch of their own (MCP). */
const egressFetch = ((input: string | URL | Request, init?: RequestInit) =>
  egressPolicy().fetch(input instanceof Request ? input.url : input, init as Parameters<EgressPolicy['fetch']>[1])) as unknown as typeof fetch;

/** HTTP under the process's egress policy. */
export const fetchHttp: HttpPort = egressHttp();

export function mapResolver(workflows: WorkflowDocument[]): WorkflowResolver {
  return {
    async resolve(ref) {
      const found = workflows.find((w) => w.document.namespace === ref.namespace && w.document.name === ref.name && (w.document.version ?? '') === ref.version);
      if (!found) throw new Error(`workflow ${ref.namespace}/${ref.name}@${ref.version} is not known`);
      return found;
    },
  };
}

export interface NodePortsOptions {
  secrets?: Record<string, Json>;
  workflows?: WorkflowDocument[];
  events?: MemoryEventBus;
  /** Binds `run: script`; without it scripts fail with an error saying how to enable them. */
  scripts?: ScriptPort;
}

export function createNodePorts(options: NodePortsOptions = {}): EnginePorts & { events: MemoryEventBus } {
  const secrets = options.secrets ?? {};
  return {
    clock: { now: () => Date.now() },
    timers: realTimers,
    ids: { next: () => randomUUID() },
    http: fetchHttp,
    events: options.events ?? new MemoryEventBus(),
    secrets: {
      resolve: async (names) => {
        const missing = names.filter((n) => !Object.hasOwn(secrets, n));
        if (missing.length > 0) throw new Error(undefinedSecretsMessage(missing));
        return Object.fromEntries(names.map((n) => [n, secrets[n]!]));
      },
    },
    ...(options.scripts ? { scripts: options.scripts } : {}),
    // MCP over HTTP goes through the same egress policy as every other outbound call.
    mcp: new SdkMcpClient({ fetch: egressFetch }),
    workflows: mapResolver(options.workflows ?? []),
  };
}
