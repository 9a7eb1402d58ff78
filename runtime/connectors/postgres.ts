/**
 * PostgreSQL table changes: the connector installs a row trigger on the table that sends each
 * INSERT, UPDATE and DELETE through `pg_notify` (one JSON payload per row), and LISTENs on its
 * channel. NOTIFY is delivered only to sessions listening at commit time and never replayed,
 * so changes made while the connector is disconnected are not seen: this source cannot
 * redeliver. Payloads are capped by PostgreSQL at 8000 bytes; a larger row is sent without
 * its values (only its key columns would fit, and which they are is not known here).
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { EgressRefused, egressPolicy, egressRefusal } from '../net/egress.ts';
import { sourceUri } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets } from './types.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parts(config: ConnectorConfig): { schema: string; table: string; channel: string } {
  const [schema, table] = String(config.table).includes('.') ? String(config.table).split('.', 2) : ['public', String(config.table)];
  if (!schema || !table || !IDENTIFIER.test(schema) || !IDENTIFIER.test(table)) {
    throw new Error(`table "${String(config.table)}" is not a plain table name (letters, digits and _, optionally schema-qualified)`);
  }
  return { schema, table, channel: `meshflow_${schema}_${table}`.slice(0, 63).toLowerCase() };
}

/**
 * pg's socket, whose `connect(port, host)` goes through the egress policy: the host is resolved
 * and checked when pg connects, and the socket opens only to the checked addresses (pg then
 * upgrades this socket to TLS itself, with the host name). A Unix socket (`?host=/var/run/…`,
 * where pg connects to a path) cannot be checked, and could be the product's own database: it
 * is refused.
 */
function checkedStream(): net.Socket {
  const socket = new net.Socket();
  socket.connect = ((port: number | string, host?: string) => {
    if (host === undefined) socket.destroy(new EgressRefused(String(port), 'a Unix socket; the egress policy allows TCP connections only'));
    else egressPolicy().connectChecked(socket, host, Number(port));
    return socket;
  }) as typeof socket.connect;
  return socket;
}

async function open(config: ConnectorConfig, secrets: ConnectorSecrets): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: config.connection, connectionTimeoutMillis: 5_000, stream: checkedStream, ...(secrets.password ? { password: secrets.password } : {}) });
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    throw egressRefusal(error) ?? new Error(`PostgreSQL ${sourceUri(config.connection, '').replace(/\/$/, '')}: ${(error as Error).message}`);
  }
}

/** Creates (or replaces) the notify function and the row trigger; idempotent. */
async function installTrigger(client: pg.Client, schema: string, table: string, channel: string): Promise<void> {
  const fn = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(`${channel}_notify`)}`;
  const target = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
  await client.query(`
    CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE payload text;
    BEGIN
      payload := json_build_object('op', TG_OP, 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'txid', txid_current(),
        'row', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE row_to_json(NEW) END,
        'old', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE row_to_json(OLD) END)::text;
      IF octet_length(payload) > 7900 THEN
        payload := json_build_object('op', TG_OP, 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'txid', txid_current(), 'truncated', true)::text;
      END IF;
      PERFORM pg_notify(${client.escapeLiteral(channel)}, payload);
      RETURN NULL;
    END $$`);
  await client.query(`CREATE OR REPLACE TRIGGER ${client.escapeIdentifier(`${channel}_trigger`)} AFTER INSERT OR UPDATE OR DELETE ON ${target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
}

export const postgresDriver: ConnectorDriver = {
  system: 'postgres',
  async test(config, secrets) {
    const { schema, table } = parts(config);
    const client = await open(config, secrets);
    try {
      const { rows } = await client.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, [schema, table]);
      if (rows.length === 0) throw new Error(`PostgreSQL: table ${schema}.${table} does not exist`);
    } finally {
      await client.end().catch(() => {});
    }
  },
  async consume(ctx) {
    const { schema, table, channel } = parts(ctx.config);
    const client = await open(ctx.config, ctx.secrets);
    const ended = new Promise<Error | undefined>((resolve) => {
      client.on('error', (error) => resolve(error));
      client.on('end', () => resolve(undefined));
    });
    const source = sourceUri(ctx.config.connection, `${schema}.${table}`);
    let chain = Promise.resolve();
    try {
      await installTrigger(client, schema, table, channel);
      client.on('notification', (message) => {
        if (message.channel !== channel) return;
        chain = chain.then(async () => {
          let change: { op: string; txid: number; row: unknown; old: unknown };
          try {
            change = JSON.parse(message.payload ?? '') as typeof change;
          } catch (error) {
            ctx.unreadable(new Error(`notification on ${channel} is not JSON: ${(error as Error).message}`));
            return;
          }
          await ctx
            .deliver([
              {
                event: {
                  specversion: '1.0',
                  id: randomUUID(),
                  source,
                  type: `io.meshflow.postgres.${change.op.toLowerCase()}`,
                  subject: `${schema}.${table}`,
                  time: new Date().toISOString(),
                  datacontenttype: 'application/json',
                  data: change,
                },
                settle: () => {},
              },
            ])
            .catch((error: Error) => ctx.unreadable(new Error(`a change on ${schema}.${table} was lost: ${error.message}`)));
        });
      });
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      ctx.connected();
      const stop = () => void client.end().catch(() => {});
      ctx.signal.addEventListener('abort', stop, { once: true });
      const error = await ended;
      ctx.signal.removeEventListener('abort', stop);
      if (!ctx.signal.aborted) throw error ?? new Error(`PostgreSQL closed the LISTEN connection`);
    } finally {
      await chain;
      await client.end().catch(() => {});
    }
  },
};
