/**
 * Which address a request comes from, for the login limits and session records.
 *
 * Next.js keeps a client's own `X-Forwarded-For` and only fills it in when absent, so that
 * header alone lets anyone claim any address. The studio's HTTP server therefore stamps every
 * request with a header of its own, named per process and unknown to clients, holding the
 * address worked out from the socket's peer and — only as far as MESHFLOW_TRUST_PROXY
 * allows — the forwarded chain. better-auth reads that header (advanced.ipAddress).
 *
 * MESHFLOW_TRUST_PROXY (same meaning as Express' "trust proxy"):
 *   unset, `false`, `0`   X-Forwarded-For is ignored; the peer address counts.
 *   `true`                every hop is trusted: the leftmost forwarded address counts.
 *   a number N            the N proxies nearest the studio are trusted.
 *   a comma list          addresses/CIDR ranges of the proxies, or `loopback`, `linklocal`,
 *                         `uniquelocal`; hops from those are skipped right to left.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

export type TrustProxy = (address: string, hop: number) => boolean;

const trustSchema = z
  .string()
  .trim()
  .transform((raw, ctx): TrustProxy => {
    const value = raw.toLowerCase();
    if (value === '' || value === 'false') return () => false;
    if (value === 'true') return () => true;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      return (_address, hop) => hop < hops;
    }
    try {
      return proxyaddr.compile(value.split(',').map((v) => v.trim()).filter(Boolean));
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `${(error as Error).message}; expected true, false, a number of proxy hops, or a comma list of proxy addresses/CIDR ranges (or loopback, linklocal, uniquelocal)`,
      });
      return z.NEVER;
    }
  });

export function parseTrustProxy(value: string | undefined): TrustProxy {
  const result = trustSchema.safeParse(value ?? '');
  if (!result.success) throw new Error(`MESHFLOW_TRUST_PROXY: ${result.error.issues[0]?.message}`);
  return result.data;
}

export const trustProxySetting = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    const result = trustSchema.safeParse(value ?? '');
    if (!result.success) ctx.addIssue({ code: 'custom', message: result.error.issues[0]?.message ?? 'invalid' });
  });

/** The client address of a Node request under the given trust; the peer when nothing is trusted. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string | undefined {
  if (!req.socket?.remoteAddress) return undefined;
  return proxyaddr(req, trust);
}

const globalForAddress = globalThis as unknown as { meshflowClientAddressHeader?: string };

/**
 * The header carrying the stamped address. Random per process, so a client cannot send it;
 * when nothing stamps requests (no hook installed), better-auth finds no address and falls
 * back to one shared bucket rather than trusting what the client says.
 */
export function clientAddressHeader(): string {
  globalForAddress.meshflowClientAddressHeader ??= `x-meshflow-client-${randomBytes(8).toString('hex')}`;
  return globalForAddress.meshflowClientAddressHeader;
}

/** Sets the stamped header on a request, replacing anything the client sent under that name. */
export function stampClientAddress(req: IncomingMessage, trust: TrustProxy): void {
  const header = clientAddressHeader();
  delete req.headers[header];
  const address = clientAddress(req, trust);
  if (address) req.headers[header] = address;
}

const stamped = Symbol.for('meshflow.clientAddressStamp');

/** Stamps every request of every HTTP server in this process before its handlers see it. */
export function stampAllServers(serverClass: typeof Server, trust: TrustProxy): void {
  const proto = serverClass.prototype as Server & { [stamped]?: true };
  if (proto[stamped]) return;
  const emit = proto.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  proto.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request') stampClientAddress(args[0] as IncomingMessage, trust);
    return emit.call(this, event, ...args);
  } as Server['emit'];
  proto[stamped] = true;
}
