/**
 * Connectors: the gallery of kinds (from the connector registry, itself fed by the node
 * registry), configured instances with their live status, test connection, deploy and
 * undeploy. Deploy only flips `deployed`: the workers learn of it through LISTEN/NOTIFY
 * (migration connectors_catalog) and write status and counters back. Secrets (passwords, and
 * credentials found in a connection URL) are stored encrypted, never returned, and bound to the
 * connection they were given for: pointing a connector elsewhere drops them.
 */
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { connectionBinding, connectorKind, connectorKinds, driverFor, parseConnectorConfig, type ConnectorConfig } from '@/runtime/connectors';
import { ServiceError } from './errors';
import { decryptSecrets, encryptSecrets } from './secrets';

const TEST_TIMEOUT_MS = 8_000;

/** The gallery: every connector kind with a JSON Schema of its form. */
export function listConnectorKinds() {
  return connectorKinds.map((k) => ({
    kind: k.kind,
    title: k.title,
    description: k.description,
    direction: k.direction,
    system: k.system,
    form: z.toJSONSchema(k.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    secretFields: k.secretFields,
  }));
}

export async function listConnectors(db: PrismaClient) {
  const rows = await db.connectorInstance.findMany({ orderBy: { createdAt: 'desc' } });
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    title: connectorKind(r.kind)?.title ?? r.kind,
    direction: r.direction,
    config: r.config as Record<string, unknown>,
    hasSecrets: r.secrets !== null,
    deployed: r.deployed,
    status: r.status,
    lastError: r.lastError,
    eventsIn: r.eventsIn,
    eventsOut: r.eventsOut,
    backlog: r.backlog,
    lastEventAt: r.lastEventAt,
    statusAt: r.statusAt,
    createdAt: r.createdAt,
  }));
}

/** Credentials in a URL (`amqp://user:pass@host`) move to `username` and the encrypted secrets. */
function splitCredentials(config: ConnectorConfig, secrets: Record<string, string>): { config: ConnectorConfig; secrets: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(config.connection);
  } catch {
    return { config, secrets };
  }
  if (!url.password) return { config, secrets };
  const password = decodeURIComponent(url.password);
  const username = decodeURIComponent(url.username);
  url.username = '';
  url.password = '';
  return { config: { ...config, connection: url.toString().replace(/\/$/, ''), ...(username ? { username } : {}) }, secrets: { password, ...secrets } };
}

function validated(kind: string, config: unknown, secrets: Record<string, string>) {
  const parsed = parseConnectorConfig(kind, config);
  if (!parsed.ok) throw new ServiceError('BAD_REQUEST', parsed.problem);
  const allowed = connectorKind(kind)!.secretFields;
  const unknown = Object.keys(secrets).find((k) => !allowed.includes(k));
  if (unknown) throw new ServiceError('BAD_REQUEST', `secrets.${unknown}: ${kind} keeps no secret of that name (it has ${allowed.join(', ')})`);
  return splitCredentials(parsed.config, secrets);
}

/** A connector's stored secrets: they open only for the connection they were given for. */
function stored(key: Buffer, row: { name: string; kind: string; config: unknown; secrets: string | null }): Record<string, string> {
  try {
    return decryptSecrets(key, row.secrets!, connectionBinding(row.kind, row.config));
  } catch (error) {
    throw new ServiceError('PRECONDITION_FAILED', `the stored secrets of connector ${row.name} cannot be read: ${(error as Error).message}`);
  }
}

export const newConnectorInput = z.object({
  name: z.string().trim().min(1, 'a name is required').max(120),
  kind: z.string().min(1),
  config: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.string()).default({}),
  /** Deploy at once (the gallery's one click). */
  deploy: z.boolean().default(false),
});

export async function createConnector(db: PrismaClient, key: Buffer, input: z.input<typeof newConnectorInput>) {
  const data = newConnectorInput.parse(input);
  const kind = connectorKind(data.kind);
  if (!kind) throw new ServiceError('BAD_REQUEST', `kind: no connector kind "${data.kind}"`);
  const { config, secrets } = validated(data.kind, data.config, Object.fromEntries(Object.entries(data.secrets).filter(([, v]) => v !== '')));
  if (await db.connectorInstance.findUnique({ where: { name: data.name } })) throw new ServiceError('CONFLICT', `name: a connector named "${data.name}" exists already`);
  return db.connectorInstance.create({
    data: {
      name: data.name,
      kind: data.kind,
      direction: kind.direction,
      config: config as object,
      secrets: Object.keys(secrets).length > 0 ? encryptSecrets(key, secrets, connectionBinding(data.kind, config)) : null,
      deployed: data.deploy && kind.direction === 'source',
      status: data.deploy && kind.direction === 'source' ? 'connecting' : 'stopped',
    },
    select: { id: true, name: true, kind: true, direction: true, status: true, deployed: true },
  });
}

export const updateConnectorInput = z.object({
  id: z.string().uuid(),
  config: z.record(z.string(), z.unknown()),
  /**
   * Only the secrets given change; an empty string removes one. When the change points the
   * connector elsewhere (a connection field differs), the stored secrets are dropped: only
   * those given here (or in the new connection URL) are kept.
   */
  secrets: z.record(z.string(), z.string()).default({}),
});

/** The connection fields whose value differs between two parsed configs. */
function movedFields(kind: string, before: ConnectorConfig, after: ConnectorConfig): string[] {
  return (connectorKind(kind)?.connectionFields ?? ['connection']).filter((f) => JSON.stringify(before[f] ?? null) !== JSON.stringify(after[f] ?? null));
}

export async function updateConnector(db: PrismaClient, key: Buffer, input: z.input<typeof updateConnectorInput>) {
  const data = updateConnectorInput.parse(input);
  const row = await db.connectorInstance.findUnique({ where: { id: data.id } });
  if (!row) throw new ServiceError('NOT_FOUND', `no connector ${data.id}`);
  const given = Object.fromEntries(Object.entries(data.secrets).filter(([, v]) => v !== ''));
  const next = validated(row.kind, data.config, given);
  const before = parseConnectorConfig(row.kind, row.config);
  // A stored config that no longer parses cannot show where the secrets were for: treat it as moved.
  const moved = before.ok ? movedFields(row.kind, before.config, next.config) : ['connection'];
  let current: Record<string, string> = {};
  try {
    if (row.secrets) current = stored(key, row);
  } catch (error) {
    // Secrets that no longer open are dropped by a move anyway; otherwise they must be read to be kept.
    if (moved.length === 0) throw error;
    current = Object.fromEntries((connectorKind(row.kind)?.secretFields ?? []).map((f) => [f, '']));
  }
  // Secrets are bound to where they were given for: a connector pointed elsewhere keeps none of them.
  const { config, secrets } = moved.length > 0 ? next : validated(row.kind, data.config, Object.fromEntries(Object.entries({ ...current, ...data.secrets }).filter(([, v]) => v !== '')));
  const dropped = moved.length > 0 ? Object.keys(current).filter((k) => !(k in secrets)) : [];
  await db.connectorInstance.update({
    where: { id: row.id },
    data: { config: config as object, secrets: Object.keys(secrets).length > 0 ? encryptSecrets(key, secrets, connectionBinding(row.kind, config)) : null },
  });
  return {
    id: row.id,
    secretsDropped: dropped,
    ...(dropped.length > 0
      ? { message: `${moved.join(', ')} changed, so the stored ${dropped.join(', ')} ${dropped.length === 1 ? 'was' : 'were'} dropped: secrets only go where they were given for. Enter ${dropped.length === 1 ? 'it' : 'them'} again for the new connection.` }
      : {}),
  };
}

export const connectorIdInput = z.object({ id: z.string().uuid() });

export async function setDeployed(db: PrismaClient, id: string, deployed: boolean) {
  const row = await db.connectorInstance.findUnique({ where: { id } });
  if (!row) throw new ServiceError('NOT_FOUND', `no connector ${id}`);
  if (deployed && row.direction !== 'source') {
    throw new ServiceError('BAD_REQUEST', `${row.name} is a ${row.kind} target: flows publish through it; only sources are deployed`);
  }
  // The worker reports the live state; until it does, the wanted one is shown.
  return db.connectorInstance.update({
    where: { id },
    data: deployed ? { deployed: true, status: 'connecting', lastError: null, statusAt: new Date() } : { deployed: false },
    select: { id: true, deployed: true, status: true },
  });
}

export async function deleteConnector(db: PrismaClient, id: string) {
  const row = await db.connectorInstance.findUnique({ where: { id } });
  if (!row) throw new ServiceError('NOT_FOUND', `no connector ${id}`);
  await db.connectorInstance.delete({ where: { id } });
  return { id };
}

export const testConnectionInput = z.union([
  z.object({ id: z.string().uuid() }),
  z.object({ kind: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}), secrets: z.record(z.string(), z.string()).default({}) }),
]);

/** Opens a connection with the given (or stored) settings and closes it: ok, or what failed. */
export async function testConnection(db: PrismaClient, key: Buffer, input: z.input<typeof testConnectionInput>): Promise<{ ok: boolean; message: string; ms: number }> {
  const data = testConnectionInput.parse(input);
  let kind: string;
  let config: ConnectorConfig;
  let secrets: Record<string, string>;
  if ('id' in data) {
    const row = await db.connectorInstance.findUnique({ where: { id: data.id } });
    if (!row) throw new ServiceError('NOT_FOUND', `no connector ${data.id}`);
    kind = row.kind;
    ({ config, secrets } = validated(row.kind, row.config, row.secrets ? stored(key, row) : {}));
  } else {
    kind = data.kind;
    ({ config, secrets } = validated(data.kind, data.config, Object.fromEntries(Object.entries(data.secrets).filter(([, v]) => v !== ''))));
  }
  const driver = driverFor(kind)!;
  const started = Date.now();
  try {
    await Promise.race([
      driver.test(config, secrets),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer from ${config.connection} within ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS).unref()),
    ]);
    return { ok: true, message: `connected to ${config.connection}`, ms: Date.now() - started };
  } catch (error) {
    return { ok: false, message: (error as Error).message, ms: Date.now() - started };
  }
}
