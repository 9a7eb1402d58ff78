/**
 * The node registry: every kind the palette offers, the inspector edits, the compiler
 * compiles and the worker binds. Adding a kind is one `*.node.ts` file and one line here.
 */
import attributeFilter from './attribute-filter.node.ts';
import callSubflow from './call-subflow.node.ts';
import cesqlFilter from './cesql-filter.node.ts';
import cloudeventsEndpoint from './cloudevents-endpoint.node.ts';
import dataPattern from './data-pattern.node.ts';
import { genericScheduleNode, genericTaskNodes } from './dsl-task.node.ts';
import emitEvent from './emit-event.node.ts';
import fieldMapping from './field-mapping.node.ts';
import forEach from './for-each.node.ts';
import httpRequest from './http-request.node.ts';
import httpWebhook from './http-webhook.node.ts';
import jqFilter from './jq-filter.node.ts';
import jqTransform from './jq-transform.node.ts';
import kafkaPublish from './kafka-publish.node.ts';
import kafkaSource from './kafka-source.node.ts';
import log from './log.node.ts';
import mqttPublish from './mqtt-publish.node.ts';
import mqttSource from './mqtt-source.node.ts';
import natsPublish from './nats-publish.node.ts';
import natsSource from './nats-source.node.ts';
import parallel from './parallel.node.ts';
import rabbitmqPublish from './rabbitmq-publish.node.ts';
import rabbitmqSource from './rabbitmq-source.node.ts';
import raiseError from './raise-error.node.ts';
import redisPublish from './redis-publish.node.ts';
import redisStreamSource from './redis-stream-source.node.ts';
import schedule from './schedule.node.ts';
import switchNode from './switch.node.ts';
import templateTransform from './template-transform.node.ts';
import tryCatch from './try-catch.node.ts';
import wait from './wait.node.ts';
import type { NodeCategory, NodeDefinition } from './types.ts';

export const nodeDefinitions: readonly NodeDefinition[] = [
  // sources
  httpWebhook,
  cloudeventsEndpoint,
  schedule,
  mqttSource,
  natsSource,
  rabbitmqSource,
  redisStreamSource,
  kafkaSource,
  // filters
  attributeFilter,
  dataPattern,
  cesqlFilter,
  jqFilter,
  // transforms
  jqTransform,
  templateTransform,
  fieldMapping,
  // control
  switchNode,
  parallel,
  forEach,
  wait,
  tryCatch,
  raiseError,
  // targets
  httpRequest,
  mqttPublish,
  natsPublish,
  rabbitmqPublish,
  redisPublish,
  kafkaPublish,
  emitEvent,
  callSubflow,
  log,
  // raw DSL, for documents Meshflow did not write
  genericScheduleNode,
  ...genericTaskNodes,
];

const byKind = new Map(nodeDefinitions.map((def) => [def.kind, def]));
if (byKind.size !== nodeDefinitions.length) throw new Error('two node definitions share a kind');

export function getNodeDefinition(kind: string): NodeDefinition | undefined {
  return byKind.get(kind);
}

/** What the palette lists, in registry order: everything except the generic DSL kinds. */
export function paletteDefinitions(category?: NodeCategory): NodeDefinition[] {
  return nodeDefinitions.filter((def) => !def.generic && (category === undefined || def.category === category));
}

/** The configuration a freshly dropped node starts with. */
export function defaultConfig(kind: string): Record<string, unknown> | undefined {
  const def = byKind.get(kind);
  return def ? (def.schema.parse({}) as Record<string, unknown>) : undefined;
}

export * from './types.ts';
export { genericKind, taskTypeOf } from './dsl-task.node.ts';
