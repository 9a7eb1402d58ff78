import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CatalogGate } from '@/runtime/catalog/gate';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';
import { waitFor } from '@/test/helpers/databases';
import { post, startWorker, structured, type Worker } from '@/test/integration/events/helpers';

describe('schema discovery and ingress validation at the worker', () => {
  let pool: pg.Pool;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const type = `com.example.order.${run}`;
  const send = (data: unknown) => post(worker.base, '/events', structured({ id: randomUUID(), source: '/shop', type, data }));

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    worker = await startWorker(inject('databaseUrl'));
  });

  afterAll(async () => {
    await worker?.running.stop();
    await pool.query(`DELETE FROM event_type WHERE type = $1`, [type]);
    await pool.end();
  });

  const versions = async () =>
    (await pool.query<{ version: number; changes: string; schema: unknown }>(`SELECT s.version, s.changes, s.schema FROM event_schema s JOIN event_type t ON t.id = s."eventTypeId" WHERE t.type = $1 ORDER BY s.version`, [type])).rows;

  it('registers an unseen type with its inferred schema, and a new field makes version 2 naming it', async () => {
    expect((await send({ id: 1, total: 9.5, customer: { name: 'Ada' } })).status).toBe(202);
    await waitFor(async () => ((await versions()).length === 1 ? true : undefined), 10_000, 'version 1');
    const [first] = await versions();
    expect(first!.schema).toMatchObject({ type: 'object', required: ['customer', 'id', 'total'], properties: { id: { type: 'integer' }, total: { type: 'number' } } });
    const row = (await pool.query(`SELECT discovered, source, examples FROM event_type WHERE type = $1`, [type])).rows[0];
    expect(row).toMatchObject({ discovered: true, source: '/shop', examples: [{ id: 1, total: 9.5, customer: { name: 'Ada' } }] });

    // The same shape again changes nothing.
    await send({ id: 2, total: 3, customer: { name: 'Bob' } });
    await send({ id: 3, total: 4, customer: { name: 'Cy', email: 'cy@example.com' } });
    await waitFor(async () => ((await versions()).length === 2 ? true : undefined), 10_000, 'version 2');
    const second = (await versions())[1]!;
    expect(second.changes).toBe('added field customer.email (string, optional)');
  });

  it('validation "reject" answers 400 naming the failing field and stores nothing; "flag" stores and marks', async () => {
    await pool.query(`UPDATE event_type SET validation = 'reject' WHERE type = $1`, [type]);
    let refusedId = '';
    const refused = await waitFor(async () => {
      refusedId = randomUUID();
      const res = await post(worker.base, '/events', structured({ id: refusedId, source: '/shop', type, data: { id: 'seven', total: 1, customer: { name: 'Eve' } } }));
      return res.status === 400 ? res : undefined;
    }, 10_000, 'validation to apply');
    expect(refused.body).toMatchObject({ title: 'Event does not match its schema', attribute: 'data.id' });
    expect(String(refused.body.detail)).toBe(`data.id must be integer (schema version 2 of ${type})`);
    expect((await send({ id: 8, total: 1 })).body).toMatchObject({ status: 400, attribute: 'data.customer' });
    expect((await send({ id: 9, total: 1, customer: { name: 'Ok' } })).status).toBe(202);

    await pool.query(`UPDATE event_type SET validation = 'flag' WHERE type = $1`, [type]);
    const flaggedId = randomUUID();
    await waitFor(async () => {
      const res = await post(worker.base, '/events', structured({ id: flaggedId, source: '/shop', type, data: { id: 'ten', total: 1, customer: {} } }));
      return res.status === 202 ? true : undefined;
    }, 10_000, 'flag mode');
    const stored = (await pool.query(`SELECT extensions FROM event WHERE id = $1`, [flaggedId])).rows[0];
    expect(stored.extensions.schemaerror).toMatch(/^data\.id must be integer/);
    expect((await pool.query(`SELECT count(*)::int AS n FROM event WHERE id = $1`, [refusedId])).rows[0].n).toBe(0);
    // A validated type's schema is a contract: the mismatching events did not widen it.
    expect(await versions()).toHaveLength(2);
  });

  it('summarises a busy type from a sample of each second, and a field the sample missed is found the next second', async () => {
    const busy = `com.example.busy.${run}`;
    const gate = new CatalogGate(pool, () => {});
    const event = (i: number, data: Record<string, unknown>): CloudEventRecord => ({ specversion: '1.0', id: `${run}-${i}`, source: '/busy', type: busy, data });
    try {
      const burst = Array.from({ length: 200 }, (_, i) => event(i, i === 100 ? { n: i, coupon: 'SAVE' } : { n: i }));
      // A sampler that never picks: only the first events of the second are summarised.
      gate.observe(burst, () => 0.99);
      await gate.flush();
      const schemas = async () =>
        (await pool.query<{ version: number; changes: string; schema: { properties: Record<string, unknown> } }>(
          `SELECT s.version, s.changes, s.schema FROM event_schema s JOIN event_type t ON t.id = s."eventTypeId" WHERE t.type = $1 ORDER BY s.version`,
          [busy],
        )).rows;
      expect((await schemas()).map((s) => Object.keys(s.schema.properties))).toEqual([['n']]);
      gate.observe([event(200, { n: 200, coupon: 'SAVE' })], () => 0.99);
      await gate.flush();
      const [, second] = await schemas();
      expect(Object.keys(second!.schema.properties).sort()).toEqual(['coupon', 'n']);
      expect(second!.changes).toContain('coupon');
    } finally {
      await pool.query(`DELETE FROM event_type WHERE type = $1`, [busy]);
    }
  });
});
