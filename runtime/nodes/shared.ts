/**
 * Building blocks shared by node kinds: expression wrapping, durations, and the two families
 * of connector nodes (event sources and broker publishers) that differ only in their fields.
 */
import { z } from 'zod';
import {
  defineSourceNode,
  defineTaskNode,
  linearPorts,
  sourcePorts,
  type Binding,
  type CompileContext,
  type DslTask,
  type Ports,
  type SourceNodeDefinition,
  type TaskNodeDefinition,
} from './types.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const wrapped = /^\s*\$\{([\s\S]*)\}\s*$/;

/** Users type bare jq in the inspector; the DSL wants runtime expressions as `${ … }`. */
export function toRuntimeExpression(jq: string): string {
  const inner = wrapped.exec(jq);
  return `\${ ${(inner ? inner[1]! : jq).trim()} }`;
}

/** The jq inside a `${ … }` expression, or undefined when the value is not one. */
export function fromRuntimeExpression(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const inner = wrapped.exec(value);
  return inner ? inner[1]!.trim() : undefined;
}

/** ISO 8601 durations as the DSL accepts them (`PT5S`, `P1D`, `PT1H30M`). */
export const isoDuration = z
  .string()
  .regex(/^P(?!$)(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/, 'an ISO 8601 duration such as PT5S or P1DT2H');

/**
 * How a string field is read, for the inspector's expression editor (completion of the input's
 * fields, evaluation against the sample event): `jq` is bare jq on the node's input; `runtime`
 * is a literal unless it is a whole `${ … }` expression.
 */
export type ExpressionMeta = { expression: 'jq' | 'runtime' };
export const jqExpression: ExpressionMeta = { expression: 'jq' };
export const runtimeExpression: ExpressionMeta = { expression: 'runtime' };

/** A jq expression field: non-empty; its syntax is checked by the compiler's diagnostics. */
export const jqField = (fallback: string) => z.string().min(1, 'a jq expression').default(fallback).meta(jqExpression);

/** A URI the DSL accepts in `source`/`endpoint`: scheme and `://` (`urn:` forms are rejected by the schema). */
export const dslUri = z.string().regex(/^[A-Za-z][A-Za-z0-9+\-.]*:\/\/.*/, 'a URI with a scheme, such as https://example.com/orders');

/**
 * Attribute filters every event source applies to the events its connector produces. The DSL
 * wants at least one attribute; messages that are not CloudEvents get the type
 * `io.meshflow.<system>.message` from ingress, hence the default.
 */
function eventFilterFields(system: Binding['system']) {
  return {
    eventType: z.string().min(1).default(`io.meshflow.${system}.message`).describe('Only events of this CloudEvents type'),
    eventSource: dslUri.optional().describe('Only events from this CloudEvents source'),
  };
}

export function eventFilterWith(config: { eventType: string; eventSource?: string | undefined }): Record<string, unknown> {
  return config.eventSource ? { type: config.eventType, source: config.eventSource } : { type: config.eventType };
}

/**
 * A connector source: its connection fields have no place in the DSL and travel in metadata;
 * what the flow consumes is the `schedule.on` filter on the events the connector produces.
 */
export function connectorSource<Shape extends z.ZodRawShape>(spec: {
  kind: string;
  title: string;
  icon: string;
  description: string;
  system: Binding['system'];
  fields: Shape;
}): SourceNodeDefinition {
  const schema = z.object({ ...spec.fields, ...eventFilterFields(spec.system) });
  const connectionKeys = Object.keys(spec.fields);
  return defineSourceNode({
    kind: spec.kind,
    title: spec.title,
    category: 'source',
    icon: spec.icon,
    description: spec.description,
    schema,
    ports: () => sourcePorts,
    binding: { system: spec.system, direction: 'source' },
    compileSource(config) {
      const record = config as Record<string, unknown>;
      const connection = Object.fromEntries(connectionKeys.filter((key) => record[key] !== undefined).map((key) => [key, record[key]]));
      return { schedule: { on: { one: { with: eventFilterWith(config as { eventType: string; eventSource?: string }) } } }, meta: { connection } };
    },
    decompileSource(schedule, meta) {
      const filter = readOneFilter(schedule);
      if (!filter || !isRecord(meta.connection)) return undefined;
      return { ...meta.connection, eventType: filter.type, eventSource: filter.source };
    },
  });
}

/** The `with` of a `schedule.on.one` consumption strategy, if that is what the fragment holds. */
export function readOneFilter(schedule: Record<string, unknown>): Record<string, unknown> | undefined {
  const on = schedule.on;
  if (!isRecord(on) || !isRecord(on.one) || !isRecord(on.one.with)) return undefined;
  return on.one.with;
}

const payloadField = jqField('.').describe('jq expression for the message payload');

/**
 * A broker publisher: `call: asyncapi` with the channel and protocol. The DSL wants the payload
 * as an object, so the jq result sits under `data`, as in a CloudEvent; the connector sends
 * `data` as the message body. The topic is a server variable: the schema's `channel` (AsyncAPI
 * 2.6 only) makes a publish match two of its alternatives and fail. Broker options (QoS,
 * routing key…) have no DSL place: metadata.
 */
export function brokerTarget<Shape extends z.ZodRawShape>(spec: {
  kind: string;
  title: string;
  icon: string;
  description: string;
  system: Binding['system'];
  protocol: string;
  defaultConnection: string;
  channelField: string;
  channelDefault: string;
  options: Shape;
}): TaskNodeDefinition {
  const schema = z.object({
    connection: z.string().min(1).default(spec.defaultConnection).describe('Broker URL or the name of a configured connector'),
    [spec.channelField]: z.string().min(1).default(spec.channelDefault),
    payload: payloadField,
    ...spec.options,
  });
  const optionKeys = Object.keys(spec.options);
  return defineTaskNode({
    kind: spec.kind,
    title: spec.title,
    category: 'target',
    icon: spec.icon,
    description: spec.description,
    schema,
    ports: () => linearPorts,
    binding: { system: spec.system, direction: 'target' },
    compile(config) {
      const record = config as Record<string, unknown>;
      const options = Object.fromEntries(optionKeys.filter((key) => record[key] !== undefined).map((key) => [key, record[key]]));
      const task: DslTask = {
        call: 'asyncapi',
        with: {
          document: { name: `meshflow-${spec.system}`, endpoint: `meshflow://connectors/${spec.system}` },
          operation: 'publish',
          server: { name: 'meshflow', variables: { url: record.connection, channel: record[spec.channelField] } },
          protocol: spec.protocol,
          message: { payload: { data: toRuntimeExpression(String(record.payload)) } },
        },
      };
      return optionKeys.length > 0 ? { task, meta: { options } } : { task };
    },
    decompile(task, meta) {
      const args = task.with;
      if (task.call !== 'asyncapi' || !isRecord(args) || !isRecord(args.server) || !isRecord(args.server.variables) || !isRecord(args.message)) return undefined;
      return {
        connection: args.server.variables.url,
        [spec.channelField]: args.server.variables.channel,
        payload: isRecord(args.message.payload) ? fromRuntimeExpression(args.message.payload.data) : undefined,
        ...(isRecord(meta.options) ? meta.options : {}),
      };
    },
  });
}

/** Filters keep matching events on their `out` port; unmatched ones stop this path. */
export const filterPorts: Ports = { input: true, outputs: [{ id: 'out', label: 'Match', role: 'jump' }] };

/** A filter is a `switch`: on a match it jumps to its successor, otherwise the path stops. */
export function filterTask(jq: string, ctx: CompileContext): DslTask {
  return { switch: [{ match: { when: toRuntimeExpression(jq), then: ctx.jump('out') } }, { otherwise: { then: ctx.stop() } }] };
}

/** The jq condition of a task written by filterTask, or undefined if the task is something else. */
export function readFilterCondition(task: DslTask): string | undefined {
  if (!Array.isArray(task.switch) || task.switch.length !== 2) return undefined;
  const first = task.switch[0] as unknown;
  return isRecord(first) && isRecord(first.match) ? fromRuntimeExpression(first.match.when) : undefined;
}
