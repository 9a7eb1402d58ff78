import { describe, expect, it } from 'vitest';
import { compile, toYaml } from '@/runtime/compiler/compile';
import { Deployment, deploymentOf } from '@/runtime/compiler/deployment';
import { META_KEY, documentMetaSchema, sourceMetaSchema, taskMetaSchema } from '@/runtime/compiler/metadata';
import { planFromDocument } from '@/runtime/events/plan';

const graph = {
  document: { name: 'orders' },
  nodes: [
    { id: 'hook', kind: 'http-webhook', label: 'Shop', config: { path: 'shop', mode: 'cloudevents' } },
    { id: 'only-orders', kind: 'attribute-filter', position: { x: 1, y: 2 }, config: { filters: [{ prefix: { type: 'com.example.' } }] } },
    { id: 'shape', kind: 'template-transform', config: { values: { id: '$.id' }, template: '{"id": "${id}"}', parseJson: true } },
    { id: 'send', kind: 'http-request', config: { url: 'http://127.0.0.1:9/in' } },
  ],
  edges: [
    { id: 'a', source: 'hook', target: 'only-orders' },
    { id: 'b', source: 'only-orders', target: 'shape' },
    { id: 'c', source: 'shape', target: 'send' },
  ],
};

describe('what the compiler writes under metadata.meshflow', () => {
  it('fits the one schema every reader uses', () => {
    const { document } = compile(graph);
    expect(documentMetaSchema.safeParse(document!.document.metadata?.[META_KEY as never]).success).toBe(true);
    for (const item of document!.do) {
      const [task] = Object.values(item);
      expect(taskMetaSchema.safeParse((task as { metadata: Record<string, unknown> }).metadata[META_KEY]).success).toBe(true);
    }
  });

  it('is read back as the deployment’s sources', () => {
    const deployment = Deployment.parse(compile(graph).yaml);
    expect(deployment.isDsl).toBe(true);
    expect(deployment.sources).toEqual([expect.objectContaining({ id: 'hook', kind: 'http-webhook', label: 'Shop', connection: expect.objectContaining({ path: 'shop' }) })]);
    expect(planFromDocument(deployment).hooks.map((h) => h.id)).toEqual(['shop']);
  });

  it('leaves out a source entry that does not fit, and keeps the others', () => {
    const { document } = compile(graph);
    const meta = (document!.document.metadata as Record<string, { sources: unknown[] }>)[META_KEY]!;
    meta.sources.push({ kind: 'mqtt-source' }, 'not a source', { id: 'bus', kind: 'nats-source', connection: { subject: 'orders' } });
    const deployment = Deployment.of(document);
    expect(deployment.sources.map((s) => s.id)).toEqual(['hook', 'bus']);
    expect(sourceMetaSchema.safeParse({ kind: 'mqtt-source' }).success).toBe(false);
  });

  it('is no DSL document when the text is not one', () => {
    expect(Deployment.parse('just text').isDsl).toBe(false);
    expect(planFromDocument(Deployment.parse('- a list')).kind).toBe('workflow');
  });
});

describe('a deployment in the worker', () => {
  it('is parsed once per deployment and text, and again when its text changes', () => {
    const yaml = toYaml(compile(graph).document);
    const first = deploymentOf({ id: 'dep-1', dslYaml: yaml });
    expect(deploymentOf({ id: 'dep-1', dslYaml: yaml })).toBe(first);
    const changed = deploymentOf({ id: 'dep-1', dslYaml: yaml.replace('path: shop', 'path: store') });
    expect(changed).not.toBe(first);
    expect(planFromDocument(changed).hooks.map((h) => h.id)).toEqual(['store']);
  });

  it('says why it cannot be read, each time it is asked', () => {
    const row = { id: 'dep-2', dslYaml: 'document: [unclosed' };
    expect(() => deploymentOf(row)).toThrow();
    expect(() => deploymentOf(row)).toThrow();
  });
});
