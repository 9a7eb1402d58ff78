import { randomBytes, randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectionBinding } from '@/runtime/connectors';
import { encryptSecrets } from '@/runtime/connectors/secrets';
import { waitFor } from '@/test/helpers/databases';
import { startSink, startWorker, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';
import { bodiesAt, deploySourceFlow, waitForConnected, waitForSink } from '@/test/integration/connectors/helpers';

const KEY = randomBytes(32);

async function status(pool: pg.Pool, id: string): Promise<{ status: string; lastError: string | null; eventsIn: number }> {
  const { rows } = await pool.query(`SELECT status, "lastError", "eventsIn" FROM connector_instance WHERE id = $1`, [id]);
  return rows[0];
}

describe('connectors deployed from the gallery, and PostgreSQL table changes', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const table = `orders_${run}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, total numeric NOT NULL)`);
    sink = await startSink();
    await deploySourceFlow(pool, { kind: 'postgres-source', connection: { connection: inject('databaseUrl'), table }, type: 'io.meshflow.postgres.insert', sink, path: 'pg' });
    // The watched table lives on the product's own database server, which the egress policy
    // refuses unless an administrator lists it as an exception.
    worker = await startWorker(inject('databaseUrl'), { MESHFLOW_SECRET_KEY: KEY.toString('base64'), MESHFLOW_EGRESS_ALLOW: new URL(inject('databaseUrl')).host });
    await waitForConnected(worker.running.output, 1);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.query(`DELETE FROM connector_instance WHERE name LIKE $1`, [`%${run}`]);
    await pool.end();
    const c = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    await (await c.createChannel()).deleteQueue(`mf-secret-${run}`);
    await c.close();
  });

  it('an INSERT into a watched table arrives at the flow target as io.meshflow.postgres.insert', async () => {
    await pool.query(`INSERT INTO ${table} (total) VALUES (42.5)`);
    await pool.query(`UPDATE ${table} SET total = 1`);
    await waitForSink(sink, 'pg', 1);
    const [change] = bodiesAt(sink, 'pg') as { op: string; table: string; row: { id: number; total: number } }[];
    expect(change).toMatchObject({ op: 'INSERT', table, row: { id: 1, total: 42.5 } });
    // The flow listens to inserts only: the update is in the log but not delivered.
    await waitFor(async () => ((await pool.query(`SELECT 1 FROM event WHERE type = 'io.meshflow.postgres.update' AND subject = $1`, [`public.${table}`])).rowCount ? true : undefined), 10_000, 'the update in the log');
    expect(bodiesAt(sink, 'pg')).toHaveLength(1);
  });

  it('deploy from the gallery: the worker starts the connector, reports it live and counts its events; undeploy stops it', async () => {
    const id = randomUUID();
    const topic = `gallery/${run}`;
    await pool.query(
      `INSERT INTO connector_instance (id, name, kind, direction, config, deployed, "updatedAt") VALUES ($1, $2, 'mqtt-source', 'source', $3, true, now())`,
      [id, `sensors-${run}`, JSON.stringify({ connection: 'mqtt://127.0.0.1:1883', topic, qos: 1 })],
    );
    await waitFor(async () => ((await status(pool, id)).status === 'connected' ? true : undefined), 15_000, 'the gallery connector to connect');
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    await client.publishAsync(topic, JSON.stringify({ humidity: 40 }), { qos: 1 });
    await client.endAsync();
    const stored = await waitFor(async () => (await pool.query(`SELECT data FROM event WHERE ingress = $1`, [`connector:${id}`])).rows[0], 10_000, 'the event in the log');
    expect(stored.data).toEqual({ humidity: 40 });
    await waitFor(async () => ((await status(pool, id)).eventsIn === 1 ? true : undefined), 10_000, 'the counter');

    await pool.query(`UPDATE connector_instance SET deployed = false WHERE id = $1`, [id]);
    await waitFor(async () => ((await status(pool, id)).status === 'stopped' ? true : undefined), 10_000, 'the connector to stop');
  });

  it('secrets: a RabbitMQ connector whose password is stored encrypted connects; a wrong one is reported', async () => {
    const good = randomUUID();
    const bad = randomUUID();
    const config = { connection: 'amqp://127.0.0.1:5672', queue: `mf-secret-${run}`, username: 'guest' };
    // Bound to the connection, as the studio stores them.
    const insert = (id: string, name: string, password: string) =>
      pool.query(
        `INSERT INTO connector_instance (id, name, kind, direction, config, secrets, deployed, "updatedAt") VALUES ($1, $2, 'rabbitmq-source', 'source', $3, $4, true, now())`,
        [id, name, JSON.stringify(config), encryptSecrets(KEY, { password }, connectionBinding('rabbitmq-source', config))],
      );
    await insert(good, `rabbit-${run}`, 'guest');
    await insert(bad, `rabbit-bad-${run}`, 'not-the-password');
    await waitFor(async () => ((await status(pool, good)).status === 'connected' ? true : undefined), 15_000, 'the connector with the right password');
    const failed = await waitFor(async () => {
      const s = await status(pool, bad);
      return s.status === 'reconnecting' && s.lastError ? s : undefined;
    }, 15_000, 'the connector with the wrong password to report its error');
    expect(failed.lastError).toMatch(/ACCESS_REFUSED|auth/i);
    expect(failed.lastError).not.toContain('not-the-password');
    await pool.query(`UPDATE connector_instance SET deployed = false WHERE id IN ($1, $2)`, [good, bad]);
  });
});
