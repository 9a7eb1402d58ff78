/**
 * What a new user finds on first start: a demo flow (webhook → filter → transform → HTTP
 * target) and a few event types with schemas and examples. `npm run db:seed` runs it by hand;
 * `npm start` runs it once, on the database it has just created.
 */
import { compile } from '../runtime/compiler/compile';
import { documentNameFor } from '../runtime/compiler/document-name';
import { demoFlowGraph } from '../runtime/nodes/demo';
import type { PrismaClient } from './generated/client';

const eventTypes = [
  {
    type: 'com.example.order.created',
    source: '/shop/orders',
    description: 'A customer placed an order.',
    owner: 'shop-team',
    schema: {
      type: 'object',
      required: ['orderId', 'total', 'currency'],
      properties: {
        orderId: { type: 'string' },
        total: { type: 'number' },
        currency: { type: 'string', minLength: 3, maxLength: 3 },
        customer: { type: 'object', properties: { id: { type: 'string' }, tier: { type: 'string' } } },
      },
    },
    examples: [{ orderId: 'o-1001', total: 129.9, currency: 'EUR', customer: { id: 'c-7', tier: 'gold' } }],
  },
  {
    type: 'com.example.order.shipped',
    source: '/shop/fulfilment',
    description: 'An order left the warehouse.',
    owner: 'logistics',
    schema: {
      type: 'object',
      required: ['orderId', 'carrier'],
      properties: { orderId: { type: 'string' }, carrier: { type: 'string' }, trackingId: { type: 'string' } },
    },
    examples: [{ orderId: 'o-1001', carrier: 'dhl', trackingId: 'JD0146' }],
  },
  {
    type: 'io.meshflow.sensor.reading',
    source: 'mqtt://sensors',
    description: 'A temperature and humidity reading from a device.',
    owner: 'iot-platform',
    schema: {
      type: 'object',
      required: ['deviceId', 'temperature'],
      properties: { deviceId: { type: 'string' }, temperature: { type: 'number' }, humidity: { type: 'number' } },
    },
    examples: [{ deviceId: 'dev-42', temperature: 21.5, humidity: 40 }],
  },
];

export async function seed(db: PrismaClient): Promise<string[]> {
  const done: string[] = [];
  for (const t of eventTypes) {
    if (await db.eventType.findUnique({ where: { type: t.type } })) continue;
    await db.eventType.create({
      data: {
        type: t.type,
        source: t.source,
        description: t.description,
        owner: t.owner,
        examples: t.examples,
        schemas: { create: { version: 1, schema: t.schema } },
      },
    });
    done.push(`event type ${t.type}`);
  }
  const name = 'Demo: big orders to fulfilment';
  if (!(await db.flow.findFirst({ where: { name } }))) {
    // Named after its title, as every save names a flow's document.
    const demo = demoFlowGraph();
    const graph = { ...demo, document: { ...demo.document, name: documentNameFor(name) } };
    const compiled = compile(graph, { name: graph.document.name });
    if (compiled.diagnostics.some((d) => d.severity === 'error')) {
      throw new Error(`the demo flow does not compile: ${JSON.stringify(compiled.diagnostics)}`);
    }
    await db.flow.create({
      data: {
        name,
        description: 'Orders over 100 from the shop webhook, reshaped and posted to the fulfilment service.',
        versions: { create: { version: 1, graph: graph as object, dslYaml: compiled.yaml, note: 'seeded' } },
      },
    });
    done.push(`flow "${name}"`);
  }
  return done;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { createDb } = await import('../server/db');
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('db:seed: set DATABASE_URL (npm start seeds its own database on first start)');
    process.exit(2);
  }
  const db = createDb(url);
  const done = await seed(db);
  console.log(done.length ? `seeded: ${done.join(', ')}` : 'nothing to seed');
  await db.$disconnect();
}
