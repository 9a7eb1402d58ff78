/**
 * The egress policy's address rules: which addresses it refuses and why, in IPv4, IPv6 and
 * the IPv6 forms that carry an IPv4 address, with exceptions. Pure: the resolver is a stub
 * and the machine's addresses are given, so nothing here opens a connection.
 */
import { describe, expect, it } from 'vitest';
import { EgressPolicy, EgressRefused, egressPolicyFromEnv, egressSettings, embeddedIPv4, parseAllowEntry, type EgressOptions } from '@/runtime/net/egress';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

const names: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '169.254.169.254'],
  'public.test': ['93.184.216.34', '2606:2800:220:1::1'],
  'db.internal': ['10.0.0.7'],
};
const resolve = async (host: string) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};
const policy = (options: EgressOptions = {}) => new EgressPolicy({ resolve, localAddresses: () => ['192.168.1.20', 'fe80::1'], ...options });

describe('egress policy: the default ranges', () => {
  const p = policy();

  it.each([
    ['169.254.169.254', /link-local range 169\.254\.0\.0\/16/],
    ['169.254.0.1', /169\.254\.0\.0\/16/],
    ['0.0.0.0', /0\.0\.0\.0\/8/],
    ['0.1.2.3', /0\.0\.0\.0\/8/],
    ['fe80::1', /fe80::\/10/],
    ['febf:ffff::1', /fe80::\/10/],
    ['fd00:ec2::254', /fd00:ec2::254/],
    ['::', /unspecified/],
  ])('refuses %s', async (ip, reason) => {
    expect(await p.reasonFor('x', ip, 80)).toMatch(reason);
  });

  it.each([
    ['IPv4-mapped', '::ffff:169.254.169.254'],
    ['IPv4-mapped, hex', '::ffff:a9fe:a9fe'],
    ['IPv4-translated', '::ffff:0:169.254.169.254'],
    ['NAT64', '64:ff9b::169.254.169.254'],
    ['6to4', '2002:a9fe:a9fe::1'],
    ['IPv4-compatible', '::169.254.169.254'],
  ])('refuses the metadata address in its %s form', async (_form, ip) => {
    expect(await p.reasonFor('x', ip, 80)).toMatch(/169\.254\.0\.0\/16/);
  });

  it('allows public, private and loopback addresses on other ports', async () => {
    for (const ip of ['93.184.216.34', '2606:2800:220:1::1', '10.1.2.3', '172.20.0.1', '192.168.0.9', '127.0.0.1', '::1', '::ffff:127.0.0.1', 'fd12::1', '100.64.0.1', '169.253.255.255', '169.255.0.0']) {
      expect(await p.reasonFor('x', ip, 9999), ip).toBeUndefined();
    }
  });

  it('reads the IPv4 address an IPv6 form carries, and none from a plain IPv6 address', () => {
    const inner = (ip: string) => embeddedIPv4(ipaddr.parse(ip) as ipaddr.IPv6)?.toString();
    expect(inner('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(inner('64:ff9b::a00:1')).toBe('10.0.0.1');
    expect(inner('2002:0a00:0001::')).toBe('10.0.0.1');
    expect(inner('2606:2800:220:1::1')).toBeUndefined();
    expect(inner('::1')).toBeUndefined();
    expect(inner('::')).toBeUndefined();
  });
});

describe("egress policy: the product's own services", () => {
  const env = { DATABASE_URL: 'postgresql://postgres@localhost:5432/meshflow', PORT: '3000', WORKER_PORT: '8080' };
  const p = egressPolicyFromEnv(env, { resolve: async (h) => (h === 'localhost' ? ['127.0.0.1', '::1'] : resolve(h)), localAddresses: () => ['192.168.1.20'] });

  it('refuses the database, the studio and the worker on every local address', async () => {
    for (const ip of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '192.168.1.20', '0.0.0.0']) {
      expect(await p.reasonFor('x', ip, 5432), ip).toBe("the product's database");
    }
    expect(await p.reasonFor('x', '127.0.0.1', 3000)).toBe('the studio');
    expect(await p.reasonFor('x', '::1', 8080)).toBe('the worker');
  });

  it('allows the same ports on other machines, and other ports here', async () => {
    expect(await p.reasonFor('x', '10.0.0.7', 5432)).toBeUndefined();
    expect(await p.reasonFor('x', '127.0.0.1', 5433)).toBeUndefined();
  });

  it('refuses a remote database at its own addresses only', async () => {
    const remote = egressPolicyFromEnv({ DATABASE_URL: 'postgresql://db.internal:6543/meshflow' }, { resolve, localAddresses: () => [] });
    expect(await remote.reasonFor('x', '10.0.0.7', 6543)).toBe("the product's database");
    expect(await remote.reasonFor('x', '10.0.0.8', 6543)).toBeUndefined();
    expect(await remote.reasonFor('x', '127.0.0.1', 6543)).toBeUndefined();
  });

  it('takes the embedded database port and the worker URL as own addresses too', async () => {
    const q = egressPolicyFromEnv({ MESHFLOW_EMBEDDED_PG_PORT: '54329', MESHFLOW_WORKER_URL: 'http://127.0.0.1:8312', WORKER_PORT: '0' }, { resolve, localAddresses: () => [] });
    expect(await q.reasonFor('x', '127.0.0.1', 54329)).toBe("the product's database");
    expect(await q.reasonFor('x', '127.0.0.1', 8312)).toBe('the worker');
  });

  it("refuses the JetStream event backend's servers when that backend is chosen, and only then", async () => {
    const js = egressPolicyFromEnv({ MESHFLOW_EVENT_BACKEND: 'jetstream', MESHFLOW_NATS_URL: 'nats://127.0.0.1:4222,nats://10.0.0.9:4333', WORKER_PORT: '0' }, { resolve, localAddresses: () => [] });
    expect(await js.reasonFor('x', '127.0.0.1', 4222)).toBe("the product's event backend (NATS JetStream)");
    expect(await js.reasonFor('x', '10.0.0.9', 4333)).toBe("the product's event backend (NATS JetStream)");
    const pg = egressPolicyFromEnv({ MESHFLOW_NATS_URL: 'nats://127.0.0.1:4222', WORKER_PORT: '0' }, { resolve, localAddresses: () => [] });
    expect(await pg.reasonFor('x', '127.0.0.1', 4222)).toBeUndefined();
  });

  it('adds the port a worker bound once it is known', async () => {
    const q = egressPolicyFromEnv({ WORKER_PORT: '0' }, { resolve, localAddresses: () => [] });
    expect(await q.reasonFor('x', '127.0.0.1', 41234)).toBeUndefined();
    q.addOwn({ what: 'the worker', host: '0.0.0.0', port: 41234 });
    expect(await q.reasonFor('x', '127.0.0.1', 41234)).toBe('the worker');
  });
});

describe('egress policy: MESHFLOW_EGRESS_DENY_PRIVATE and MESHFLOW_EGRESS_ALLOW', () => {
  it('refuses loopback and private ranges when asked, naming the setting', async () => {
    const p = policy({ denyPrivate: true });
    for (const [ip, range] of [
      ['127.0.0.1', '127.0.0.0/8'],
      ['::1', '::1'],
      ['::ffff:127.0.0.1', '127.0.0.0/8'],
      ['10.9.8.7', '10.0.0.0/8'],
      ['172.31.255.255', '172.16.0.0/12'],
      ['192.168.1.1', '192.168.0.0/16'],
      ['100.100.100.200', '100.64.0.0/10'],
      ['fd12:3456::1', 'fc00::/7'],
    ]) {
      const reason = await p.reasonFor('x', ip!, 80);
      expect(reason, ip).toContain(range);
      expect(reason, ip).toContain('MESHFLOW_EGRESS_DENY_PRIVATE');
    }
    expect(await p.reasonFor('x', '172.32.0.1', 80)).toBeUndefined();
    expect(await p.reasonFor('x', '93.184.216.34', 443)).toBeUndefined();
  });

  it('makes exceptions by CIDR, by address, by host:port and by host', async () => {
    const p = policy({ denyPrivate: true, allow: ['10.1.0.0/16', 'fd12::/16', '127.0.0.1:9000', 'metadata.test:80', '[::1]:7000', '192.168.5.5'] });
    expect(await p.reasonFor('x', '10.1.200.3', 5432)).toBeUndefined();
    expect(await p.reasonFor('x', '10.2.0.1', 5432)).toMatch(/10\.0\.0\.0\/8/);
    expect(await p.reasonFor('x', 'fd12::9', 80)).toBeUndefined();
    expect(await p.reasonFor('x', '::ffff:10.1.0.1', 80)).toBeUndefined();
    expect(await p.reasonFor('x', '127.0.0.1', 9000)).toBeUndefined();
    expect(await p.reasonFor('x', '127.0.0.1', 9001)).toMatch(/loopback/);
    expect(await p.reasonFor('x', '::1', 7000)).toBeUndefined();
    expect(await p.reasonFor('x', '192.168.5.5', 1)).toBeUndefined();
    // A name on the list is allowed at whatever it resolves to: the exception is the administrator's.
    expect(await p.reasonFor('metadata.test', '169.254.169.254', 80)).toBeUndefined();
    expect(await p.reasonFor('metadata.test', '169.254.169.254', 81)).toMatch(/169\.254/);
  });

  it("opens one of the product's own services to an exact host:port exception only", async () => {
    const exact = egressPolicyFromEnv({ DATABASE_URL: 'postgresql://127.0.0.1:5432/x', MESHFLOW_EGRESS_ALLOW: '127.0.0.1:5432' }, { resolve, localAddresses: () => [] });
    expect(await exact.reasonFor('x', '127.0.0.1', 5432)).toBeUndefined();
    expect(await exact.reasonFor('x', '::1', 5432)).toBe("the product's database");
    // A range or a bare host allowed for other reasons does not open the database inside it.
    const broad = egressPolicyFromEnv({ DATABASE_URL: 'postgresql://db.internal:5432/x', MESHFLOW_EGRESS_DENY_PRIVATE: 'true', MESHFLOW_EGRESS_ALLOW: '10.0.0.0/8,db.internal' }, { resolve, localAddresses: () => [] });
    expect(await broad.reasonFor('x', '10.0.0.9', 5432)).toBeUndefined();
    expect(await broad.reasonFor('db.internal', '10.0.0.7', 5432)).toBe("the product's database");
    expect(await broad.reasonFor('db.internal', '10.0.0.7', 80)).toBeUndefined();
  });

  it('rejects an exception it cannot read, saying what it accepts', () => {
    expect(() => parseAllowEntry('10.0.0.0/33')).toThrow(/not a CIDR range/);
    expect(() => parseAllowEntry('host:99999')).toThrow(/host:port, a host, an address or a CIDR range/);
    expect(() => parseAllowEntry('a b:80')).toThrow(/host:port/);
    const schema = z.object(egressSettings);
    const parsed = schema.safeParse({ MESHFLOW_EGRESS_ALLOW: 'ok.test:80, 10.0.0.0/99', MESHFLOW_EGRESS_DENY_PRIVATE: 'yes' });
    expect(parsed.success).toBe(false);
    const messages = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^MESHFLOW_EGRESS_ALLOW: "10\.0\.0\.0\/99" is not a CIDR range/), expect.stringMatching(/^MESHFLOW_EGRESS_DENY_PRIVATE: must be true or false/)]));
  });
});

describe('egress policy: names', () => {
  it('checks every address a name resolves to, and refuses the name when one is refused', async () => {
    const p = policy();
    await expect(p.check('public.test', 443)).resolves.toEqual(['93.184.216.34', '2606:2800:220:1::1']);
    const refused = await p.check('mixed.test', 80).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EgressRefused);
    expect((refused as Error).message).toBe('egress policy refuses mixed.test:80 → 169.254.169.254:80 (link-local range 169.254.0.0/16, where cloud metadata services answer)');
  });

  it('names an address target the way it was given', async () => {
    const p = egressPolicyFromEnv({ DATABASE_URL: 'postgresql://127.0.0.1:5432/x' }, { resolve, localAddresses: () => [] });
    await expect(p.check('127.0.0.1', 5432)).rejects.toThrow("egress policy refuses 127.0.0.1:5432 (the product's database)");
    await expect(p.check('[::1]', 5432)).rejects.toThrow("egress policy refuses [::1]:5432 (the product's database)");
  });
});
