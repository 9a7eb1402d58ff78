/**
 * The one egress policy: every outbound connection the product makes on a flow editor's
 * behalf (HTTP targets and sinks, `call: http`/`openapi`/`asyncapi` and the documents they
 * fetch, studio test runs, connector tests, broker connections) asks it first.
 *
 * By default it refuses link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10,
 * fd00:ec2::254), 0.0.0.0/8 and `::` (which reach this machine), and the product's own
 * services: its database, the studio and the worker, on any address of this machine. With
 * MESHFLOW_EGRESS_DENY_PRIVATE=true it also refuses loopback and private ranges.
 * MESHFLOW_EGRESS_ALLOW lists exceptions (`host:port`, `host`, an address or a CIDR); only a
 * `host:port` entry opens one of the product's own services.
 *
 * The check is on the resolved address, at connect time: the name is resolved once, every
 * address is checked, and the socket connects to exactly those addresses (a lookup that
 * hands back the checked list), so a name that resolves differently the second time
 * (DNS rebinding) gains nothing. IPv6 forms that carry an IPv4 address (mapped, translated,
 * NAT64, 6to4, compatible) are checked as that IPv4 address too. Redirects are followed by
 * hand, each hop connecting through the same check. Broker clients get the same: a checked
 * `lookup` for their sockets (`lookupFor`), or sockets that connect only once the check has
 * passed (`connectChecked`, `socket`), so every broker socket, including one to a server the
 * broker advertised, is checked on the address it connects to.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import tls from 'node:tls';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { Agent, buildConnector, fetch as undiciFetch, Headers, type Dispatcher, type RequestInit, type Response } from 'undici';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Addresses a host name stands for; tests stub it, the product uses the system resolver. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** One of the product's own services, which flows may not reach. */
export interface OwnEndpoint {
  /** How a refusal names it: "the product's database". */
  what: string;
  host: string;
  port: number;
}

export interface EgressOptions {
  own?: OwnEndpoint[];
  /** Also refuse loopback and private ranges. */
  denyPrivate?: boolean;
  /** Exceptions: `host:port`, `host`, `[v6]:port`, an address or a CIDR. */
  allow?: string[];
  resolve?: Resolver;
  /** This machine's addresses (default: its network interfaces), where a local service also listens. */
  localAddresses?: () => string[];
}

/** A connection the policy refused; `reason` says which rule, for runs, deliveries and test results. */
export class EgressRefused extends Error {
  override name = 'EgressRefused';
  readonly code = 'EGRESS_REFUSED';
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(`egress policy refuses ${target} (${reason})`);
  }
}

/** The policy refusal behind an error, however deep a client wrapped it (fetch's "fetch failed", AggregateError). */
export function egressRefusal(error: unknown): EgressRefused | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof EgressRefused) return e;
    if (e instanceof AggregateError) for (const inner of e.errors) if (inner instanceof EgressRefused) return inner;
  }
  return undefined;
}

interface Range {
  cidr: [Address, number];
  label: string;
}

function ranges(list: [string, string][]): Range[] {
  return list.map(([cidr, label]) => ({ cidr: ipaddr.parseCIDR(cidr), label }));
}

const ALWAYS_REFUSED = ranges([
  ['169.254.0.0/16', 'link-local range 169.254.0.0/16, where cloud metadata services answer'],
  ['0.0.0.0/8', 'range 0.0.0.0/8, which reaches this machine'],
  ['fe80::/10', 'IPv6 link-local range fe80::/10'],
  ['fd00:ec2::254/128', 'cloud metadata address fd00:ec2::254'],
  ['::/128', 'unspecified address ::, which reaches this machine'],
]);

const PRIVATE = ranges([
  ['127.0.0.0/8', 'loopback range 127.0.0.0/8'],
  ['::1/128', 'loopback address ::1'],
  ['10.0.0.0/8', 'private range 10.0.0.0/8'],
  ['172.16.0.0/12', 'private range 172.16.0.0/12'],
  ['192.168.0.0/16', 'private range 192.168.0.0/16'],
  ['100.64.0.0/10', 'shared address range 100.64.0.0/10'],
  ['fc00::/7', 'IPv6 unique local range fc00::/7'],
]);

const LOCAL = ranges([
  ['127.0.0.0/8', ''],
  ['::1/128', ''],
  ['0.0.0.0/8', ''],
  ['::/128', ''],
]);

function matches(address: Address, [base, bits]: [Address, number]): boolean {
  return address.kind() === base.kind() && address.match(base as never, bits);
}

function inRange(address: Address, range: Range): boolean {
  return matches(address, range.cidr);
}

/** The IPv4 address an IPv6 one carries: mapped, translated, NAT64 well-known prefix, 6to4, or compatible. */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const last = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && p[5] === 0xffff) return last(p[6]!, p[7]!);
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return last(p[6]!, p[7]!);
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return last(p[6]!, p[7]!);
  if (p[0] === 0x2002) return last(p[1]!, p[2]!);
  if (zeros(0, 6) && (p[6] !== 0 || p[7]! > 1)) return last(p[6]!, p[7]!);
  return undefined;
}

/** The address and, for IPv6 forms that carry one, its IPv4 address: a rule that matches either applies. */
function forms(ip: string): Address[] {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return [parsed];
  const inner = embeddedIPv4(parsed as ipaddr.IPv6);
  return inner ? [parsed, inner] : [parsed];
}

function display(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

interface AllowRule {
  cidr?: [Address, number];
  host?: string;
  port?: number;
}

/** One MESHFLOW_EGRESS_ALLOW entry; throws on one that is none of the accepted forms. */
export function parseAllowEntry(entry: string): AllowRule {
  const text = entry.trim();
  if (text.includes('/')) {
    try {
      return { cidr: ipaddr.parseCIDR(text) };
    } catch {
      throw new Error(`MESHFLOW_EGRESS_ALLOW: "${text}" is not a CIDR range (e.g. 10.1.0.0/16 or fd12::/64)`);
    }
  }
  if (ipaddr.isValid(text)) return { cidr: [ipaddr.parse(text), ipaddr.parse(text).kind() === 'ipv4' ? 32 : 128] };
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw new Error(`MESHFLOW_EGRESS_ALLOW: "${text}" is not host:port, a host, an address or a CIDR range`);
  }
  const host = (match[1] ?? match[2]!).toLowerCase();
  return { host: ipaddr.isValid(host) ? ipaddr.parse(host).toNormalizedString() : host, ...(port === undefined ? {} : { port }) };
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.replace(/%.*$/, '')));
}

export class EgressPolicy {
  private readonly own: OwnEndpoint[];
  private readonly allow: AllowRule[];
  private readonly denyPrivate: boolean;
  private readonly resolver: Resolver;
  private readonly localAddresses: () => string[];
  private readonly ownAddresses = new Map<string, Promise<Set<string> | 'local'>>();
  private agent: Agent | undefined;

  constructor(options: EgressOptions = {}) {
    this.own = [...(options.own ?? [])];
    this.allow = (options.allow ?? []).filter((e) => e.trim() !== '').map(parseAllowEntry);
    this.denyPrivate = options.denyPrivate ?? false;
    this.resolver = options.resolve ?? systemResolver;
    this.localAddresses = options.localAddresses ?? machineAddresses;
  }

  /** Adds one of the product's own services (the worker, once it knows the port it listens on). */
  addOwn(endpoint: OwnEndpoint): void {
    this.own.push(endpoint);
  }

  /** Whether an address is one of this machine's, where a service listening on all interfaces answers. */
  private isLocal(ip: string): boolean {
    const address = forms(ip);
    if (address.some((a) => LOCAL.some((r) => inRange(a, r)))) return true;
    const normal = address.map((a) => a.toNormalizedString());
    return this.localAddresses().some((l) => ipaddr.isValid(l) && normal.includes(ipaddr.parse(l).toNormalizedString()));
  }

  /** Where an own service can be reached: any local address when it runs here, else the addresses of its host. */
  private addressesOf(host: string): Promise<Set<string> | 'local'> {
    let found = this.ownAddresses.get(host);
    if (!found) {
      const bare = host.replace(/^\[|\]$/g, '');
      found = (ipaddr.isValid(bare) ? Promise.resolve([bare]) : this.resolver(bare))
        .then((list) => (list.some((ip) => this.isLocal(ip)) ? ('local' as const) : new Set(list.map((ip) => ipaddr.process(ip).toNormalizedString()))))
        .catch(() => new Set<string>());
      this.ownAddresses.set(host, found);
    }
    return found;
  }

  /** Whether an exception covers the target; `exact` takes only `host:port` entries. */
  private allowed(host: string, ip: string, port: number, exact: boolean): boolean {
    const address = forms(ip);
    const names = [host.toLowerCase(), ...address.map((a) => a.toNormalizedString())];
    return this.allow.some((rule) => {
      if (rule.cidr) return !exact && address.some((a) => matches(a, rule.cidr!));
      return names.includes(rule.host!) && (rule.port === undefined ? !exact : rule.port === port);
    });
  }

  /** Which of the product's own services listens at `ip:port`, if one does. */
  private async ownService(ip: string, port: number): Promise<string | undefined> {
    const address = forms(ip);
    for (const own of this.own) {
      if (own.port !== port) continue;
      const where = await this.addressesOf(own.host);
      if (where === 'local' ? this.isLocal(ip) : address.some((a) => where.has(a.toNormalizedString()))) return own.what;
    }
    return undefined;
  }

  /**
   * Why the policy refuses `ip:port` (reached for `host`), or undefined when it may connect.
   * The product's own services open only to an exact `host:port` exception, so that a range
   * allowed for other reasons (10.0.0.0/8) does not open the database inside it.
   */
  async reasonFor(host: string, ip: string, port: number): Promise<string | undefined> {
    if (!ipaddr.isValid(ip)) return `"${ip}" is not an IP address`;
    const own = await this.ownService(ip, port);
    if (own !== undefined) return this.allowed(host, ip, port, true) ? undefined : own;
    if (this.allowed(host, ip, port, false)) return undefined;
    const address = forms(ip);
    for (const range of this.denyPrivate ? [...ALWAYS_REFUSED, ...PRIVATE] : ALWAYS_REFUSED) {
      if (address.some((a) => inRange(a, range))) return this.denyPrivate && PRIVATE.includes(range) ? `${range.label}; MESHFLOW_EGRESS_DENY_PRIVATE is on` : range.label;
    }
    return undefined;
  }

  /**
   * Resolves `host` and checks every address it stands for; returns them to connect to, or
   * throws EgressRefused. A name with one refused address is refused whole.
   */
  async check(host: string, port: number): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    const addresses = ipaddr.isValid(bare) ? [ipaddr.parse(bare).toString()] : await this.resolver(bare);
    if (addresses.length === 0) throw new Error(`${bare} resolves to no address`);
    for (const ip of addresses) {
      const reason = await this.reasonFor(bare, ip, port);
      if (reason !== undefined) {
        const target = ip === bare ? display(ip, port) : `${bare}:${port} → ${display(ip, port)}`;
        throw new EgressRefused(target, reason);
      }
    }
    return addresses;
  }

  /** The addresses a name stands for, unchecked: for a client's own resolving, whose every connection is then checked. */
  resolve(host: string): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    return ipaddr.isValid(bare) ? Promise.resolve([bare]) : this.resolver(bare);
  }

  /** Checks every address of a URL's host at its port (the scheme's default when it gives none). */
  checkUrl(url: URL, defaultPort: number): Promise<string[]> {
    return this.check(url.hostname, url.port === '' ? defaultPort : Number(url.port));
  }

  /** The shared undici dispatcher whose every connection passes the check and goes to the checked addresses. */
  dispatcher(): Dispatcher {
    this.agent ??= this.undiciAgent();
    return this.agent;
  }

  /** A fresh undici agent (its own connection pools) whose every connection passes the check, as `dispatcher`'s. */
  undiciAgent(options: Omit<Agent.Options, 'connect'> = {}): Agent {
    return new Agent({
      ...options,
      connect: (connectOptions, callback) => {
        const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
        this.check(connectOptions.hostname, port).then(
          (addresses) => buildConnector({ lookup: checkedLookup(addresses) })(connectOptions, callback),
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  /**
   * fetch through the policy. Redirects (when `redirect` is "follow", the default) are followed
   * here, at most 20, each hop connecting through the same check; a refusal is thrown as
   * EgressRefused, not as fetch's bare "fetch failed".
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const follow = (init.redirect ?? 'follow') === 'follow';
    let url = new URL(input);
    let request: RequestInit = { ...init, redirect: 'manual', dispatcher: this.dispatcher() };
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} URLs are not fetched (${url.href}); use http or https`);
      let response: Response;
      try {
        response = await undiciFetch(url, request);
      } catch (error) {
        throw egressRefusal(error) ?? error;
      }
      const location = response.headers.get('location');
      if (!follow || ![301, 302, 303, 307, 308].includes(response.status) || location === null) return response;
      if (hop === 20) throw new Error(`${init.method ?? 'GET'} ${input.toString()}: more than 20 redirects`);
      await response.body?.cancel();
      const next = new URL(location, url);
      const method = (request.method ?? 'GET').toUpperCase();
      // As fetch does: 303 (and 301/302 after a POST) continue as a GET without a body.
      const toGet = response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST';
      const headers = new Headers(request.headers);
      if (next.origin !== url.origin) {
        headers.delete('authorization');
        headers.delete('cookie');
      }
      if (toGet) {
        headers.delete('content-type');
        headers.delete('content-length');
      }
      request = { ...request, headers, ...(toGet ? { method: 'GET', body: null } : {}) };
      url = next;
    }
  }

  /**
   * A `lookup` for `net.connect`/`tls.connect` to `port`: it resolves the name through the
   * policy and checks every address when the socket connects, so a client that resolves on
   * its own (a broker client) connects only to addresses checked at that moment. A refusal
   * fails the socket with the EgressRefused. Node skips `lookup` for an IP address: callers
   * check an address literal beforehand (a literal cannot change in between) or use
   * `connectChecked`.
   */
  lookupFor(port: number): LookupFunction {
    return (host, options, callback) => {
      this.check(host, port).then(
        (addresses) => checkedLookup(addresses)(host, options, callback),
        (error: Error) => callback(error as NodeJS.ErrnoException, []),
      );
    };
  }

  /**
   * Connects an unconnected socket to `host:port` once the check has passed, to the checked
   * addresses, IP literals included; a refusal destroys the socket with the EgressRefused
   * (its 'error' event) before anything is connected.
   */
  connectChecked(socket: net.Socket, host: string, port: number, onConnect?: () => void): void {
    const bare = host.replace(/^\[|\]$/g, '');
    this.check(bare, port).then(
      (addresses) => {
        // The prototype's connect: a caller may have replaced the socket's own with one that comes here.
        const connect = net.Socket.prototype.connect as (options: net.TcpSocketConnectOpts, listener?: () => void) => net.Socket;
        if (!socket.destroyed) connect.call(socket, { host: bare, port, lookup: checkedLookup(addresses) }, onConnect);
      },
      (error: Error) => socket.destroy(error),
    );
  }

  /**
   * A socket factory for broker clients: a socket to `host:port` (TLS when `secure` is given)
   * that connects only after the check, to the checked addresses. TLS keeps the name for SNI
   * and the certificate check. The socket is returned at once, unconnected; `onConnect` runs
   * once it is connected (after the handshake, for TLS).
   */
  socket(host: string, port: number, secure?: tls.ConnectionOptions, onConnect?: () => void): net.Socket {
    const plain = new net.Socket();
    if (!secure) {
      this.connectChecked(plain, host, port, onConnect);
      return plain;
    }
    const bare = host.replace(/^\[|\]$/g, '');
    const wrapped = tls.connect({ ...(net.isIP(bare) ? {} : { servername: bare }), ...secure, host: bare, port, socket: plain }, onConnect);
    this.connectChecked(plain, bare, port);
    return wrapped;
  }
}

type LookupFunction = (host: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => void;

/** A lookup that answers with addresses already checked, so the socket connects to nothing else. */
export function checkedLookup(addresses: string[]) {
  const entries: LookupAddress[] = addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
  return (_host: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    const wanted = options.family === 4 || options.family === 6 ? entries.filter((e) => e.family === options.family) : entries;
    if (wanted.length === 0) return callback(Object.assign(new Error(`no IPv${String(options.family)} address among ${addresses.join(', ')}`), { code: 'ENOTFOUND' }), []);
    if (options.all) callback(null, wanted);
    else callback(null, wanted[0]!.address, wanted[0]!.family);
  };
}

function ownEndpointsFrom(env: Record<string, string | undefined>): OwnEndpoint[] {
  const own: OwnEndpoint[] = [];
  const port = (value: string | undefined, fallback?: number) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : fallback);
  if (env.DATABASE_URL) {
    try {
      const url = new URL(env.DATABASE_URL);
      const host = decodeURIComponent(url.hostname) || 'localhost';
      // A socket-directory host (`/var/run/postgresql`) is not reachable over TCP.
      if (!host.startsWith('/')) own.push({ what: "the product's database", host, port: port(url.port, 5432)! });
    } catch {
      // The environment's own validation reports a malformed DATABASE_URL.
    }
  }
  if (env.MESHFLOW_EVENT_BACKEND === 'jetstream') {
    for (const entry of (env.MESHFLOW_NATS_URL ?? 'nats://127.0.0.1:4222').split(',')) {
      try {
        const url = new URL(entry.trim());
        own.push({ what: "the product's event backend (NATS JetStream)", host: url.hostname, port: port(url.port, 4222)! });
      } catch {
        // Reported by the worker's settings.
      }
    }
  }
  const embedded = port(env.MESHFLOW_EMBEDDED_PG_PORT);
  if (embedded) own.push({ what: "the product's database", host: '127.0.0.1', port: embedded });
  own.push({ what: 'the studio', host: '127.0.0.1', port: port(env.PORT, 3000)! });
  const workerPort = port(env.WORKER_PORT, 8080)!;
  if (workerPort > 0) own.push({ what: 'the worker', host: '127.0.0.1', port: workerPort });
  if (env.MESHFLOW_WORKER_URL) {
    try {
      const url = new URL(env.MESHFLOW_WORKER_URL);
      own.push({ what: 'the worker', host: url.hostname, port: port(url.port, url.protocol === 'https:' ? 443 : 80)! });
    } catch {
      // As above: reported by the environment's validation.
    }
  }
  return own;
}

/** The policy an environment describes (DATABASE_URL, PORT, WORKER_PORT, MESHFLOW_WORKER_URL, MESHFLOW_EGRESS_*). */
export function egressPolicyFromEnv(env: Record<string, string | undefined>, options: Pick<EgressOptions, 'resolve' | 'localAddresses'> = {}): EgressPolicy {
  const deny = (env.MESHFLOW_EGRESS_DENY_PRIVATE ?? 'false').trim().toLowerCase();
  if (!['true', 'false', ''].includes(deny)) throw new Error(`MESHFLOW_EGRESS_DENY_PRIVATE: "${deny}" must be true or false`);
  return new EgressPolicy({
    ...options,
    own: ownEndpointsFrom(env),
    denyPrivate: deny === 'true',
    allow: (env.MESHFLOW_EGRESS_ALLOW ?? '').split(','),
  });
}

/** The egress variables, for the studio's and the worker's environment schemas: checked at start, listed with the rest. */
export const egressSettings = {
  /** Also refuse loopback and private ranges (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7, 100.64/10). */
  MESHFLOW_EGRESS_DENY_PRIVATE: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  /** Exceptions to the egress policy, comma-separated: host:port, host, an address or a CIDR range. */
  MESHFLOW_EGRESS_ALLOW: z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      for (const entry of value.split(',').filter((e) => e.trim() !== '')) {
        try {
          parseAllowEntry(entry);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^MESHFLOW_EGRESS_ALLOW: /, '') });
        }
      }
    }),
};

let processPolicy: EgressPolicy | undefined;

/** The process's policy: built from its environment on first use, unless an entry point set one. */
export function egressPolicy(): EgressPolicy {
  processPolicy ??= egressPolicyFromEnv(process.env);
  return processPolicy;
}

/** For entry points (the worker adds its bound port) and tests (a stubbed resolver); undefined rebuilds from the environment. */
export function setEgressPolicy(policy: EgressPolicy | undefined): void {
  processPolicy = policy;
}
