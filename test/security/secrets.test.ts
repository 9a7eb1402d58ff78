/**
 * Secrets (SECURITY.md, "Secrets"): `$secrets` holds only secrets users defined, and of those
 * only the names a workflow declares in `use.secrets` — never the worker's or the studio's
 * environment (MESHFLOW_SECRET_KEY, DATABASE_URL, MESHFLOW_SECRET_<NAME>), even for a flow
 * anyone can start with an unauthenticated POST /events. Values are write-only, viewers see
 * names only, run data shows values as ***, and a connector pointed at a new host loses its
 * stored secrets instead of sending them there.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import { createAccount } from '@/server/services/accounts';
import type { Context, CurrentUser } from '@/server/trpc';
import { waitFor } from '@/test/helpers/databases';
import { testSecretKey } from '@/test/helpers/secrets';
import { deploy, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

const KEY = testSecretKey();
const tag = randomUUID().slice(0, 8);
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const OTHER = `other-${randomBytes(12).toString('hex')}`;
/** What the old environment lookup would have handed `$secrets.shop_token`. */
const ENV_TOKEN = `env-${randomBytes(12).toString('hex')}`;
const header = (name: string) => ({ dsl: '1.0.0', namespace: 'security', name: `${name}-${tag}`, version: '0.1.0' });

/** A loopback HTTP listener that records the headers of every request. */
async function listener(host: string): Promise<{ url: string; seen: IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}/events`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('secrets', () => {
  let pool: pg.Pool;
  let db: PrismaClient;
  let sink: Sink;
  let worker: Worker;
  let editor: CurrentUser;
  let viewer: CurrentUser;
  const callerAs = (user: CurrentUser | null) => createCaller({ db, user, workerUrl: 'http://127.0.0.1:1', secretKey: KEY.key } satisfies Context);
  const runOf = (eventId: string) =>
    waitFor(
      async () => {
        const { rows } = await pool.query<{ id: string; status: string; output: unknown; error: unknown }>(
          `SELECT r.id, r.status::text AS status, r.output, r.error FROM run r JOIN event e ON e.seq = r."eventSeq" WHERE e.id = $1`,
          [eventId],
        );
        const run = rows[0];
        return run && ['completed', 'faulted'].includes(run.status) ? run : undefined;
      },
      20_000,
      `the run of ${eventId}: ${worker.running.output()}`,
    );

  beforeAll(async () => {
    const databaseUrl = inject('databaseUrl');
    // The studio process's own environment, with what the old lookup would have exposed.
    process.env.DATABASE_URL = databaseUrl;
    process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
    process.env.MESHFLOW_SECRET_KEY = KEY.env;
    process.env.MESHFLOW_SECRET_SHOP_TOKEN = ENV_TOKEN;
    pool = new pg.Pool({ connectionString: databaseUrl });
    db = createDb(databaseUrl);
    const make = async (role: 'editor' | 'viewer') => {
      const email = `${role}-${tag}@example.com`;
      const account = await createAccount(db, { name: role, email, password: 'correct horse battery' }, role);
      return { id: account.id, name: role, email, role };
    };
    editor = await make('editor');
    viewer = await make('viewer');
    await callerAs(editor).secrets.create({ name: 'shop_token', value: TOKEN, description: 'the shop API' });
    await callerAs(editor).secrets.create({ name: 'other_token', value: OTHER });

    sink = await startSink();
    await deploy(pool, {
      document: header('reader'),
      use: { secrets: ['shop_token'] },
      schedule: { on: { one: { with: { type: `com.example.reader.${tag}` } } } },
      do: [
        { remember: { set: { echoed: '${ $secrets.shop_token }' } } },
        // A Log node: its line is the run's log, kept in the event log.
        { say: { emit: { event: { with: { source: 'meshflow://log', type: 'io.meshflow.log', data: { level: 'info', message: '${ "run " + $workflow.input.id + " uses " + $secrets.shop_token }' } } } } } },
        { tell: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/reader`, body: '${ { secrets: $secrets, echoed: $secrets.shop_token } }' } } },
        { finish: { set: { echoed: '${ $secrets.shop_token }', names: '${ $secrets | keys }' } } },
      ],
    });
    // `key` is what the environment lookup turned into MESHFLOW_SECRET_KEY. Written straight to
    // the database: the studio refuses to deploy a flow whose secrets are not defined, but a
    // secret can be deleted after its flow went live.
    await deploy(pool, {
      document: header('master-key'),
      use: { secrets: ['key'] },
      schedule: { on: { one: { with: { type: `com.example.master.${tag}` } } } },
      do: [{ leak: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/master`, body: '${ $secrets }' } } }],
    });
    worker = await startWorker(databaseUrl, { MESHFLOW_SECRET_KEY: KEY.env, MESHFLOW_SECRET_SHOP_TOKEN: ENV_TOKEN, MESHFLOW_RUN_POLL_MS: '50' });
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    delete process.env.MESHFLOW_SECRET_SHOP_TOKEN;
    await db?.$disconnect();
    await pool?.end();
  });

  /** Every value that must never leave as `$secrets`. */
  const forbidden = () => [KEY.env, inject('databaseUrl'), ENV_TOKEN, OTHER];

  it('a deployed flow started by an unauthenticated POST /events gets only the user secrets it declares', async () => {
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/attacker', type: `com.example.reader.${tag}` }))).status).toBe(202);
    const received = await waitFor(async () => sink.received.find((r) => r.url === '/reader'), 20_000, `the reader's call: ${worker.running.output()}`);
    expect(JSON.parse(received.body)).toEqual({ secrets: { shop_token: TOKEN }, echoed: TOKEN });
    for (const value of forbidden()) expect(received.body).not.toContain(value);
    expect((await runOf(id)).status).toBe('completed');
  });

  it('a flow naming the master key (use.secrets: [key]) faults with an error naming it, and sends nothing', async () => {
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/attacker', type: `com.example.master.${tag}` }))).status).toBe(202);
    const run = await runOf(id);
    expect(run.status).toBe('faulted');
    expect(JSON.stringify(run.error)).toMatch(/use\.secrets names \\?"key\\?", not defined as a secret/);
    for (const value of forbidden()) expect(JSON.stringify(run.error)).not.toContain(value);
    expect(sink.received.filter((r) => r.url === '/master')).toEqual([]);
  });

  it('run output and recorded steps show secret values as ***', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/masking', type: `com.example.reader.${tag}` }));
    const run = await runOf(id);
    expect(run.output).toEqual({ echoed: '***', names: ['shop_token'] });
    const { rows } = await pool.query<{ taskName: string; input: unknown; output: unknown }>(`SELECT "taskName", input, output FROM run_step WHERE "runId" = $1 ORDER BY "startedAt"`, [run.id]);
    expect(rows.map((r) => r.taskName)).toEqual(['remember', 'say', 'tell', 'finish']);
    expect(rows[0]!.output).toEqual({ echoed: '***' });
    expect(JSON.stringify(rows)).not.toContain(TOKEN);
    const logLine = await waitFor(
      async () => (await pool.query<{ data: { message: string } }>(`SELECT data FROM event WHERE type = 'io.meshflow.log' AND data->>'message' LIKE $1`, [`run ${id} %`])).rows[0],
      10_000,
      'the log line',
    );
    expect(logLine.data.message).toBe(`run ${id} uses ***`);
    // What the studio's run page reads.
    const detail = await callerAs(viewer).runs.get({ id: run.id });
    expect(JSON.stringify(detail)).not.toContain(TOKEN);
  });

  it('a studio test run gets only the declared user secrets, never the studio environment, and shows them masked', async () => {
    const graph = (secrets: string[], expression: string) => ({
      document: { name: `probe-${tag}` },
      workflow: { use: { secrets } },
      nodes: [{ id: 'probe', kind: 'jq-transform', config: { expression } }],
      edges: [],
    });
    const event = { specversion: '1.0', id: 'e1', source: '/studio', type: 'com.example.probe' };
    const probe = `{ names: ($secrets | keys), token: $secrets.shop_token, real: ($secrets.shop_token == "${TOKEN}") }`;
    const result = await callerAs(editor).designer.testRun({ graph: graph(['shop_token'], probe), event });
    expect(result).toMatchObject({ ok: true, status: 'completed', output: { names: ['shop_token'], token: '***', real: true } });
    expect((result as { nodes: Record<string, { output?: unknown }> }).nodes.probe?.output).toEqual({ names: ['shop_token'], token: '***', real: true });
    for (const value of [TOKEN, ...forbidden()]) expect(JSON.stringify(result)).not.toContain(value);

    const master = await callerAs(editor).designer.testRun({ graph: graph(['key'], '$secrets'), event });
    expect(master).toMatchObject({ ok: true, status: 'faulted' });
    expect(JSON.stringify((master as { error: unknown }).error)).toMatch(/use\.secrets names \\?"key\\?", not defined as a secret/);
    for (const value of forbidden()) expect(JSON.stringify(master)).not.toContain(value);
  });

  it('a flow that names an undefined secret is not deployed; the refusal names it', async () => {
    const studio = callerAs(editor);
    const saved = await studio.flows.create({
      name: `needs-secret-${tag}`,
      graph: { document: { name: `needs-secret-${tag}` }, nodes: [{ id: 'probe', kind: 'jq-transform', config: { expression: '{ a: $secrets.shop_token, b: $secrets.nowhere_defined }' } }], edges: [] },
    });
    if (!saved.ok) throw new Error(JSON.stringify(saved.diagnostics));
    expect(saved.yaml).toMatch(/secrets:\n\s+- nowhere_defined\n\s+- shop_token/);
    await expect(studio.flows.deploy({ flowId: saved.flowId })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: 'cannot deploy: the flow reads the secret "nowhere_defined", not defined; define it on the Secrets page first',
    });
    expect(await db.deployment.count({ where: { flowId: saved.flowId } })).toBe(0);
  });

  it('values are encrypted at rest and never returned; a viewer sees names only and cannot change secrets', async () => {
    const stored = await db.secret.findUniqueOrThrow({ where: { name: 'shop_token' } });
    expect(stored.value).not.toContain(TOKEN);
    expect(stored.value).toMatch(/^v1\./);

    const listed = await callerAs(viewer).secrets.list();
    expect(listed.map((s) => s.name)).toEqual(expect.arrayContaining(['other_token', 'shop_token']));
    expect(JSON.stringify(listed)).not.toContain(TOKEN);
    expect(JSON.stringify(listed)).not.toContain(stored.value);
    expect(listed.every((s) => !('value' in s))).toBe(true);

    await expect(callerAs(viewer).secrets.create({ name: 'viewer_made', value: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerAs(viewer).secrets.update({ name: 'shop_token', value: 'replaced' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerAs(viewer).secrets.delete({ name: 'shop_token' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerAs(null).secrets.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await db.secret.findUnique({ where: { name: 'viewer_made' } })).toBeNull();

    // What an editor gets back after writing a value does not carry it either.
    const created = await callerAs(editor).secrets.create({ name: `made_${tag}`, value: 'fresh-value-123' });
    expect(JSON.stringify(created)).not.toContain('fresh-value-123');
    const updated = await callerAs(editor).secrets.update({ name: `made_${tag}`, value: 'newer-value-456' });
    expect(JSON.stringify(updated)).not.toContain('newer-value-456');
    await expect(callerAs(editor).secrets.create({ name: '$bad name', value: 'x' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('pointing a connector at a new host drops its stored secrets; test connection there never sends the old password', async () => {
    const original = await listener('127.0.0.1');
    const moved = await listener('127.0.0.2');
    try {
      const studio = callerAs(editor);
      const { id } = await studio.connectors.create({ name: `sink-${tag}`, kind: 'http-sink', config: { connection: original.url }, secrets: { authorization: 'Bearer old-password' } });
      expect((await studio.connectors.test({ id })).ok).toBe(true);
      expect(original.seen.map((h) => h.authorization)).toEqual(['Bearer old-password']);

      // Same host, another setting: the secret stays.
      expect(await studio.connectors.update({ id, config: { connection: original.url, format: 'structured' } })).toMatchObject({ secretsDropped: [] });
      expect((await studio.connectors.list()).find((c) => c.id === id)).toMatchObject({ hasSecrets: true });

      const update = await studio.connectors.update({ id, config: { connection: moved.url } });
      expect(update.secretsDropped).toEqual(['authorization']);
      expect(update.message).toMatch(/connection changed, so the stored authorization was dropped/);
      expect((await studio.connectors.list()).find((c) => c.id === id)).toMatchObject({ hasSecrets: false });

      await studio.connectors.test({ id });
      expect(moved.seen).toHaveLength(1);
      expect(moved.seen[0]!.authorization).toBeUndefined();
      expect(JSON.stringify(moved.seen)).not.toContain('old-password');

      // A new secret given with the move goes to the new host.
      const back = await studio.connectors.update({ id, config: { connection: original.url }, secrets: { authorization: 'Bearer for-original' } });
      expect(back.secretsDropped).toEqual([]);
      await studio.connectors.test({ id });
      expect(original.seen.at(-1)!.authorization).toBe('Bearer for-original');
      expect(moved.seen).toHaveLength(1);

      // Moved behind the studio's back (straight in the database): the secrets do not open for the new host.
      await pool.query(`UPDATE connector_instance SET config = jsonb_set(config, '{connection}', to_jsonb($2::text)) WHERE id = $1`, [id, moved.url]);
      await expect(studio.connectors.test({ id })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/stored for another connection/) });
      expect(moved.seen).toHaveLength(1);
    } finally {
      await original.close();
      await moved.close();
    }
  });
});
