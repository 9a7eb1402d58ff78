/**
 * The catalog and the connector gallery in a real Chromium against `npm start`: search the
 * catalog by a field name and open a type's page; deploy an MQTT source from the gallery,
 * watch it go live, and see messages published to the real Mosquitto on the Events page.
 * It runs after the first-visit project (studio.spec.ts) has created the owner, and removes
 * the connector and events it made, so the studio's other pages stay as that project left them.
 */
import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { signInAsOwner } from '@/test/e2e/helpers';
import mqtt from 'mqtt';
import pg from 'pg';

test.describe.configure({ mode: 'serial' });

const run = randomUUID().slice(0, 8);
const topic = `e2e/${run}`;
const connectorName = `sensors-${run}`;
// The embedded database of playwright.config.ts (user and password of scripts/embedded-postgres.ts).
const databaseUrl = `postgresql://postgres:meshflow-local@127.0.0.1:${process.env.MESHFLOW_E2E_PG_PORT ?? 54339}/meshflow`;

test.afterAll(async () => {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM connector_instance WHERE name = $1`, [connectorName]);
    const ingress = rows.map((r) => `connector:${r.id}`);
    await db.query(`DELETE FROM connector_instance WHERE name = $1`, [connectorName]);
    await db.query(`DELETE FROM event WHERE ingress = ANY($1)`, [ingress]);
    await db.query(`DELETE FROM event_type WHERE type = 'io.meshflow.mqtt.message' AND discovered`);
  } finally {
    await db.end();
  }
});

test('search the catalog by a field name and open the type page', async ({ page }) => {
  await signInAsOwner(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).click();
  await page.getByLabel('Search event types').fill('trackingid');
  const row = page.getByRole('row').filter({ hasText: 'com.example.order.shipped' });
  await expect(row).toContainText('field: trackingId');
  await expect(page.getByRole('link', { name: 'com.example.order.created' })).toHaveCount(0);
  await row.getByRole('link', { name: 'com.example.order.shipped' }).click();

  await expect(page.getByRole('heading', { name: 'com.example.order.shipped', level: 1 })).toBeVisible();
  const tree = page.getByRole('tree', { name: 'Schema fields' });
  await expect(tree.getByRole('treeitem')).toHaveText([/^carrier string$/, /^orderId string$/, /^trackingId string optional$/]);
  await expect(page.getByRole('region', { name: 'Example' })).toContainText('"trackingId": "JD0146"');
  await expect(page.getByRole('region', { name: 'Versions' })).toContainText('v1');

  // The seeded demo flow listens to order.created: its page names the flow as a consumer.
  await page.goto(`/catalog/${encodeURIComponent('com.example.order.created')}`);
  await expect(page.getByRole('region', { name: 'Producers and consumers' }).getByRole('link', { name: 'Demo: big orders to fulfilment' })).toBeVisible();
});

test('deploy an MQTT source from the gallery; it goes live and its messages appear on the Events page', async ({ page }) => {
  await signInAsOwner(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connectors' }).click();
  const card = page.getByTestId('gallery-mqtt-source');
  await expect(card).toContainText('Subscribes to an MQTT topic');
  await card.getByRole('button', { name: 'Deploy MQTT subscribe' }).click();
  const form = page.getByRole('form', { name: 'Deploy MQTT subscribe' });
  await form.getByLabel('Name', { exact: true }).fill(connectorName);
  await form.getByLabel('connection', { exact: true }).fill('mqtt://127.0.0.1:1883');
  await form.getByLabel('topic', { exact: true }).fill(`${topic}/#`);
  await form.getByRole('button', { name: 'Test connection' }).click();
  await expect(form.getByTestId('test-result')).toContainText('✓ connected to mqtt://127.0.0.1:1883');
  await form.getByRole('button', { name: 'Deploy', exact: true }).click();

  const row = page.getByTestId(`connector-${connectorName}`);
  await expect(row.getByTestId('connector-status')).toHaveText('connected', { timeout: 20_000 });

  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
  for (const room of ['kitchen', 'hall']) await client.publishAsync(`${topic}/${room}`, JSON.stringify({ room, celsius: 21 }), { qos: 1 });
  await client.endAsync();
  await expect(row.getByTestId('connector-events-in')).toHaveText('2', { timeout: 15_000 });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
  const events = page.getByRole('table', { name: 'Events' });
  await expect(events.getByRole('row').filter({ hasText: `${topic}/kitchen` })).toContainText('io.meshflow.mqtt.message', { timeout: 15_000 });
  await expect(events.getByRole('row').filter({ hasText: `${topic}/hall` })).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Connectors' }).click();
  await row.getByRole('button', { name: 'Undeploy' }).click();
  await expect(row.getByTestId('connector-status')).toHaveText('stopped', { timeout: 15_000 });
});
