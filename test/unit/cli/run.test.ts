/** `meshflow run` and `meshflow validate`: stdout, stderr and exit codes as documented. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@/runtime/cli/main';
import { HEADER } from '@/test/unit/engine/helpers';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshflow-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('meshflow run', () => {
  it('prints only the output JSON on stdout and exits 0', async () => {
    const path = await file('ok.yaml', `${HEADER}use:\n  secrets: [api]\ndo:\n  - greet:\n      set:\n        hello: \${ .name }\n        key: \${ $secrets.api.key }\n`);
    const secrets = await file('secrets.json', JSON.stringify({ api: { key: 'k1' } }));
    const { code, stdout, stderr } = await cli('run', path, '--input', '{"name":"Ann"}', '--secrets-file', secrets);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ hello: 'Ann', key: 'k1' });
  });

  it('gives $secrets only the declared names, from --secret and --secrets-file, never the environment', async () => {
    const path = await file('scoped.yaml', `${HEADER}use:\n  secrets: [api, flag]\ndo:\n  - show:\n      set:\n        seen: \${ $secrets }\n`);
    const secrets = await file('scoped.json', JSON.stringify({ api: 'from-file', flag: 'from-file', undeclared: 'never' }));
    process.env.MESHFLOW_SECRET_FLAG = 'from-env';
    try {
      const { code, stdout } = await cli('run', path, '--secrets-file', secrets, '--secret', 'flag=from-flag');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ seen: { api: 'from-file', flag: 'from-flag' } });
    } finally {
      delete process.env.MESHFLOW_SECRET_FLAG;
    }
  });

  it('names a declared secret that was not given, and exits 1', async () => {
    const path = await file('missing.yaml', `${HEADER}use:\n  secrets: [api, key]\ndo:\n  - show:\n      set:\n        seen: \${ $secrets }\n`);
    const { code, stdout, stderr } = await cli('run', path, '--secret', 'api=a');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toMatchObject({ status: 400, instance: '/use/secrets', detail: expect.stringContaining('use.secrets names "key", not defined as a secret') });
  });

  it('prints the fault as problem details on stderr and exits 1', async () => {
    const path = await file('fault.yaml', `${HEADER}do:\n  - boom:\n      raise:\n        error: { type: https://example.com/e, status: 422, title: Nope }\n`);
    const { code, stdout, stderr } = await cli('run', path);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({ type: 'https://example.com/e', status: 422, title: 'Nope', instance: '/do/0/boom' });
  });

  it('prints every validation problem and exits 2 for an invalid document', async () => {
    const path = await file('bad.yaml', `${HEADER}do:\n  - a:\n      set: { x: 1 }\n      then: b\n  - c:\n      wait: later\n`);
    const { code, stdout, stderr } = await cli('run', path);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('/do/0/a/then');
    expect(stderr).toContain('/do/1/c/wait');
  });

  it('fails with a timeout problem when --timeout passes', async () => {
    const path = await file('slow.yaml', `${HEADER}do:\n  - nap:\n      wait: PT1H\n`);
    const { code, stderr } = await cli('run', path, '--timeout', '50ms');
    expect(code).toBe(1);
    expect(JSON.parse(stderr)).toMatchObject({ status: 408 });
  });
});

describe('meshflow validate', () => {
  it('exits 0 for a valid file and 2 with problems otherwise', async () => {
    expect((await cli('validate', await file('v.yaml', `${HEADER}do:\n  - a:\n      set: { x: 1 }\n`))).code).toBe(0);
    const bad = await cli('validate', await file('v2.yaml', `${HEADER}do:\n  - a:\n      call: nowhere\n`));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/do/0/a/call');
  });

  it('warns, still valid, of retries the metadata asks of a call that states none', async () => {
    const call = `do:\n  - deliver:\n      call: http\n      with:\n        method: post\n        endpoint: http://127.0.0.1:9/down\n      metadata:\n        meshflow:\n          delivery:\n            retry: 5\n`;
    const result = await cli('validate', await file('plain.yaml', `${HEADER}${call}`));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('valid');
    expect(result.stderr).toContain('metadata.meshflow.delivery.retry is not read: a call without a catch.retry is tried once');
    // A document without such metadata says nothing more.
    expect((await cli('validate', await file('v3.yaml', `${HEADER}do:\n  - a:\n      set: { x: 1 }\n`))).stderr.trim()).toMatch(/: valid$/);
  });
});
