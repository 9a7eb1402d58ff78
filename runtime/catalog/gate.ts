/**
 * The catalog where events enter the log (HTTP ingress and broker connectors):
 *
 * - **validation**, per event type (`event_type.validation`): `reject` refuses an event whose
 *   data does not match the type's newest schema, naming the failing field; `flag` keeps it
 *   with an extension attribute `schemaerror` saying what failed; `off` (the default) does
 *   nothing. Settings are re-read every few seconds, never per event.
 * - **discovery**: committed events are summarised in memory (one merged schema per type)
 *   and written every second — each type's first OBSERVE_ALL events of each second, and then
 *   one in OBSERVE_ONE_IN at random, so that a busy type costs a fraction of its events while
 *   a field any share of them carries is still found within seconds: an unknown type is registered as discovered, and a shape not
 *   covered by the newest schema version creates the next version, naming what changed.
 *   Types registered by hand with a schema, and types validated at ingress, keep theirs:
 *   traffic does not rewrite a contract (nor would a flagged event widen it).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type pg from 'pg';
import { IngressError, type CloudEventRecord } from '../events/cloudevent.ts';
import { canonicalJson, diffSchemas, inferSchema, mergeSchemas, type JsonSchema } from './schema.ts';

const REFRESH_MS = 2_000;
const FLUSH_MS = 1_000;
const MAX_EXAMPLES = 3;
/** Events of a type summarised in full per flush… */
const OBSERVE_ALL = 32;
/** …and beyond them, one in this many. */
const OBSERVE_ONE_IN = 8;

type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

interface Rule {
  mode: 'flag' | 'reject';
  version: number;
  validate: ValidateFunction;
}

interface Observed {
  /** Events of the type seen since the last flush. */
  seen: number;
  schema: JsonSchema;
  source: string;
  example: unknown;
}

/** An event's data as JSON Schema sees it: absent data is `null`. */
function dataOf(event: CloudEventRecord): unknown {
  if ('data' in event) return event.data ?? null;
  return event.data_base64 === undefined ? null : event.data_base64;
}

// Own properties only: by default Ajv sees a `toString` field in every object (the prototype's).
const ajv = new Ajv({ allErrors: false, strict: false, ownProperties: true });

/** A validator for a type's JSON Schema; throws when the schema itself is invalid. */
export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

/** `data.customer.email must be string`, from Ajv's first error. */
export function describeSchemaError(error: ErrorObject): { field: string; message: string } {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') path.push(String((error.params as { missingProperty: string }).missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String((error.params as { additionalProperty: string }).additionalProperty));
  const field = ['data', ...path].join('.');
  const message = error.keyword === 'required' ? 'is required' : error.keyword === 'additionalProperties' ? 'is not allowed' : (error.message ?? 'is invalid');
  return { field, message };
}

export class CatalogGate {
  private rules = new Map<string, Rule>();
  private compiled = new Map<string, ValidateFunction>();
  private observed = new Map<string, Observed>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_MS);
    this.refreshTimer.unref();
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearInterval(this.flushTimer);
    await this.flush();
  }

  /**
   * Applies validation to events about to be stored: throws an IngressError (400) for the
   * first one a `reject` type refuses, marks those of `flag` types. `at` prefixes the field
   * (`[2].` for a batch member).
   */
  check(events: CloudEventRecord[]): void {
    if (this.rules.size === 0) return;
    events.forEach((event, i) => {
      const rule = this.rules.get(event.type);
      if (!rule || rule.validate(dataOf(event))) return;
      const { field, message } = describeSchemaError(rule.validate.errors![0]!);
      const text = `${field} ${message} (schema version ${rule.version} of ${event.type})`;
      if (rule.mode === 'flag') {
        event.schemaerror = text;
        return;
      }
      const at = events.length > 1 ? `[${i}].` : '';
      throw new IngressError(400, 'Event does not match its schema', `${at}${text}`, `${at}${field}`);
    });
  }

  /** Committed events, summarised for discovery. */
  observe(events: CloudEventRecord[], random: () => number = Math.random): void {
    for (const event of events) {
      const known = this.observed.get(event.type);
      if (known && ++known.seen > OBSERVE_ALL && random() * OBSERVE_ONE_IN >= 1) continue;
      const data = dataOf(event);
      const schema = inferSchema(data);
      if (known) known.schema = mergeSchemas(known.schema, schema);
      else this.observed.set(event.type, { seen: 1, schema, source: event.source, example: data });
    }
  }

  private async refresh(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ type: string; validation: 'flag' | 'reject'; version: number; schema: JsonSchema; id: string }>(
        `SELECT t.type, t.validation, s.version, s.schema, s.id
           FROM event_type t
           JOIN LATERAL (SELECT id, version, schema FROM event_schema WHERE "eventTypeId" = t.id ORDER BY version DESC LIMIT 1) s ON true
          WHERE t.validation IN ('flag', 'reject')`,
      );
      const rules = new Map<string, Rule>();
      for (const row of rows) {
        let validate = this.compiled.get(row.id);
        if (!validate) {
          try {
            validate = compileSchema(row.schema);
          } catch (error) {
            this.log('warn', 'event type schema does not compile; not validating it', { type: row.type, version: row.version, error: (error as Error).message });
            continue;
          }
          this.compiled.set(row.id, validate);
        }
        rules.set(row.type, { mode: row.validation, version: row.version, validate });
      }
      this.rules = rules;
    } catch (error) {
      this.log('warn', 'reading event type validation failed', { error: (error as Error).message });
    }
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch((error: Error) => this.log('warn', 'schema discovery failed', { error: error.message }));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.observed.size === 0) return;
    const batch = this.observed;
    this.observed = new Map();
    for (const [type, seen] of batch) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO event_type (id, type, source, discovered, examples, "lastSeenAt", "updatedAt")
           VALUES (gen_random_uuid(), $1, $2, true, $3::jsonb, now(), now())
           ON CONFLICT (type) DO UPDATE SET "lastSeenAt" = now(),
             examples = CASE WHEN jsonb_array_length(event_type.examples) < ${MAX_EXAMPLES} THEN event_type.examples || $3::jsonb ELSE event_type.examples END`,
          [type, seen.source, JSON.stringify([seen.example])],
        );
        const { rows } = await client.query<{ id: string; discovered: boolean; validation: string; version: number | null; schema: JsonSchema | null }>(
          `SELECT t.id, t.discovered, t.validation, s.version, s.schema FROM event_type t
             LEFT JOIN LATERAL (SELECT version, schema FROM event_schema WHERE "eventTypeId" = t.id ORDER BY version DESC LIMIT 1) s ON true
            WHERE t.type = $1 FOR UPDATE OF t`,
          [type],
        );
        const row = rows[0]!;
        if (row.schema && (!row.discovered || row.validation !== 'off')) {
          await client.query('COMMIT');
          continue;
        }
        const latest = row.schema ?? undefined;
        const merged = latest ? mergeSchemas(latest, seen.schema) : seen.schema;
        if (!latest || canonicalJson(merged) !== canonicalJson(latest)) {
          const changes = diffSchemas(latest, merged).join('; ');
          await client.query(`INSERT INTO event_schema (id, "eventTypeId", version, schema, changes) VALUES (gen_random_uuid(), $1, $2, $3, $4)`, [
            row.id,
            (row.version ?? 0) + 1,
            JSON.stringify(merged),
            changes,
          ]);
          this.log('info', 'event schema discovered', { type, version: (row.version ?? 0) + 1, changes });
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    }
  }
}
