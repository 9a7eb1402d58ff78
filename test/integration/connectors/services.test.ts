import { randomBytes, randomUUID } from 'node:crypto';
import { Parser } from '@asyncapi/parser';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import {
  diffVersions,
  exportAsyncApi,
  getEventType,
  importAsyncApi,
  listEventTypes,
  registerEventType,
  updateEventType,
} from '@/server/services/catalog';
import { createConnector, listConnectorKinds, setDeployed, testConnection } from '@/server/services/connectors';
import { connectionBinding } from '@/runtime/connectors';
import { decryptSecrets } from '@/server/services/secrets';

const key = randomBytes(32);

describe('catalog and connector services', () => {
  let db: PrismaClient;
  const run = randomUUID().slice(0, 8);
  const order = `com.example.${run}.order.created`;
  const refund = `com.example.${run}.refund.issued`;

  beforeAll(async () => {
    db = createDb(inject('databaseUrl'));
    await registerEventType(db, {
      type: order,
      source: '/shop/orders',
      description: 'A customer placed an order',
      owner: 'checkout team',
      schema: { type: 'object', properties: { orderId: { type: 'string' }, total: { type: 'number' } }, required: ['orderId'] },
    });
    await registerEventType(db, { type: refund, source: '/shop/refunds', schema: { type: 'object', properties: { refundReason: { type: 'string' } } } });
  });

  afterAll(async () => {
    await db.eventType.deleteMany({ where: { type: { contains: run } } });
    await db.connectorInstance.deleteMany({ where: { name: { contains: run } } });
    await db.$disconnect();
  });

  it('search finds a type by its name, its source or one of its field names', async () => {
    expect((await listEventTypes(db, { search: `${run}.order` })).map((t) => t.type)).toEqual([order]);
    expect((await listEventTypes(db, { search: '/shop/refunds' })).map((t) => t.type)).toEqual([refund]);
    const byField = await listEventTypes(db, { search: 'refundreason' });
    expect(byField.map((t) => [t.type, t.matchedField])).toEqual([[refund, 'refundReason']]);
  });

  it('editing the schema makes a new version; the diff names the change', async () => {
    const edited = await updateEventType(db, {
      type: order,
      schema: { type: 'object', properties: { orderId: { type: 'string' }, total: { type: 'number' }, currency: { type: 'string' } }, required: ['orderId', 'currency'] },
    });
    expect(edited.newVersion).toBe(2);
    expect((await diffVersions(db, { type: order, from: 1, to: 2 })).changes).toEqual(['added field currency (string)']);
    const page = await getEventType(db, { type: order });
    expect(page.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(page.fields).toContainEqual({ path: 'currency', type: 'string', required: true, format: null });
    await expect(updateEventType(db, { type: `${order}.missing`, description: 'x' })).rejects.toThrow(/no event type/);
  });

  it('exports a valid AsyncAPI 3.0 document (checked by @asyncapi/parser) that imports back as the same types', async () => {
    const { yaml, count } = await exportAsyncApi(db, { type: `com.example.${run}.*` });
    expect(count).toBe(2);
    const { document, diagnostics } = await new Parser().parse(yaml);
    expect(diagnostics.filter((d) => d.severity === 0)).toEqual([]);
    expect(document?.channels().all().map((c) => c.address()).sort()).toEqual([order, refund]);
    const payload = document!.allMessages().all().find((m) => m.name() === order)!.payload()!.json();
    expect(payload).toMatchObject({ required: ['orderId', 'currency'] });

    // Import into a renamed copy: new types, same schemas.
    const copy = yaml.replaceAll(`com.example.${run}`, `com.example.${run}.copy`);
    const imported = await importAsyncApi(db, { document: copy });
    expect(imported.imported.map((i) => [i.type, i.created, i.newVersion])).toEqual([
      [`com.example.${run}.copy.order.created`, true, 1],
      [`com.example.${run}.copy.refund.issued`, true, 1],
    ]);
    const page = await getEventType(db, { type: `com.example.${run}.copy.order.created` });
    expect(page).toMatchObject({ source: '/shop/orders', owner: 'checkout team', description: 'A customer placed an order' });
    expect(page.schema).toEqual((parseYaml(yaml) as { components: { messages: Record<string, { payload: unknown }> } }).components.messages[order]!.payload);
    await expect(importAsyncApi(db, { document: 'asyncapi: 3.0.0\ninfo: {}\n' })).rejects.toThrow(/not a valid AsyncAPI document/);
  });

  it('gallery kinds carry a form schema; URL credentials are moved into the encrypted secrets', async () => {
    const kinds = listConnectorKinds();
    const mqtt = kinds.find((k) => k.kind === 'mqtt-source')!;
    expect(mqtt.form).toMatchObject({ type: 'object', properties: { topic: { type: 'string', default: 'meshflow/#' } } });
    const created = await createConnector(db, key, { name: `rabbit-${run}`, kind: 'rabbitmq-source', config: { connection: 'amqp://guest:guest@127.0.0.1:5672', queue: `q-${run}` } });
    const row = await db.connectorInstance.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.config).toMatchObject({ connection: 'amqp://127.0.0.1:5672', username: 'guest' });
    expect(decryptSecrets(key, row.secrets!, connectionBinding(row.kind, row.config))).toEqual({ password: 'guest' });
    await expect(createConnector(db, key, { name: `rabbit-${run}`, kind: 'rabbitmq-source' })).rejects.toThrow(/exists already/);
    await expect(createConnector(db, key, { name: `bad-${run}`, kind: 'mqtt-source', config: { qos: 3 } })).rejects.toThrow(/^qos: /);

    expect(await testConnection(db, key, { id: created.id })).toMatchObject({ ok: true });
    const refused = await testConnection(db, key, { kind: 'redis-stream-source', config: { connection: 'redis://127.0.0.1:1' } });
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/^Redis redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/) });

    expect(await setDeployed(db, created.id, true)).toMatchObject({ deployed: true, status: 'connecting' });
    const sink = await createConnector(db, key, { name: `sink-${run}`, kind: 'http-sink' });
    await expect(setDeployed(db, sink.id, true)).rejects.toThrow(/only sources are deployed/);
  });
});
