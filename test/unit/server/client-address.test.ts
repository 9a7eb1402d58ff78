/**
 * Which address a login attempt counts against, under each MESHFLOW_TRUST_PROXY setting.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, clientAddressHeader, parseTrustProxy, stampClientAddress } from '@/server/client-address';
import { parseEnv, studioEnvSchema } from '@/server/env';

function request(peer: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  } as unknown as IncomingMessage;
}

const chain = '203.0.113.9, 198.51.100.7, 10.0.0.5';

describe('client address', () => {
  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    for (const setting of [undefined, '', 'false', '0']) {
      expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy(setting))).toBe('10.0.0.2');
    }
  });

  it('walks the forwarded chain only as far as the setting trusts', () => {
    expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy('true'))).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy('1'))).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy('2'))).toBe('198.51.100.7');
    expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy('10.0.0.0/24'))).toBe('198.51.100.7');
    expect(clientAddress(request('10.0.0.2', chain), parseTrustProxy('10.0.0.2, 10.0.0.5, 198.51.100.7'))).toBe('203.0.113.9');
    // A peer that is not a listed proxy: its header is not believed.
    expect(clientAddress(request('192.0.2.50', chain), parseTrustProxy('10.0.0.0/24'))).toBe('192.0.2.50');
    expect(clientAddress(request('127.0.0.1', '198.51.100.1'), parseTrustProxy('loopback'))).toBe('198.51.100.1');
  });

  it('replaces a stamped header the client sent itself', () => {
    const req = request('192.0.2.50');
    req.headers[clientAddressHeader()] = '198.51.100.99';
    stampClientAddress(req, parseTrustProxy(undefined));
    expect(req.headers[clientAddressHeader()]).toBe('192.0.2.50');
    expect(clientAddressHeader()).toMatch(/^x-meshflow-client-[0-9a-f]{16}$/);
  });

  it('rejects a malformed setting with what would be accepted', () => {
    const base = {
      DATABASE_URL: 'postgresql://127.0.0.1/x',
      MESHFLOW_AUTH_SECRET: 'x'.repeat(32),
      MESHFLOW_SECRET_KEY: Buffer.alloc(32).toString('base64'),
    };
    expect(() => parseEnv(studioEnvSchema, { ...base, MESHFLOW_TRUST_PROXY: '10.0.0.300' }, 'meshflow studio')).toThrow(
      /MESHFLOW_TRUST_PROXY: .*expected true, false, a number of proxy hops, or a comma list of proxy addresses\/CIDR ranges/,
    );
    expect(() => parseEnv(studioEnvSchema, { ...base, MESHFLOW_TRUST_PROXY: '1' }, 'meshflow studio')).not.toThrow();
  });
});
