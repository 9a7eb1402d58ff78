/**
 * The Kubernetes manifests under deploy/, checked without a cluster: every YAML document is
 * validated by its apiVersion and kind against the Kubernetes schemas (kubernetes-models) or
 * KEDA's (@kubernetes-models/keda), and the pieces must fit together (selectors, probes,
 * the ScaledObject's target, the kustomization's list).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createMetrics } from '@/runtime/events/metrics';
import { repoRoot } from '@/test/helpers/processes';

const base = join(repoRoot, 'deploy/base');

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Model {
  validate: () => void;
}

/** The model class of an apiVersion and kind: `apps/v1` Deployment → kubernetes-models/apps/v1/Deployment. */
async function modelFor(apiVersion: string, kind: string): Promise<new (data: unknown) => Model> {
  if (!/^[a-z0-9.]*\/?v\d+(alpha\d+|beta\d+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z]+$/.test(kind)) throw new Error(`not an apiVersion/kind: ${apiVersion} ${kind}`);
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const specifier = group.endsWith('keda.sh') ? `@kubernetes-models/keda/${apiVersion}/${kind}` : `kubernetes-models/${apiVersion}/${kind}`;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${kind} in ${apiVersion} (looked for ${specifier})`);
  }
  const model = loaded[kind];
  if (typeof model !== 'function') throw new Error(`no schema for ${kind} in ${apiVersion}`);
  return model as new (data: unknown) => Model;
}

async function validate(doc: Manifest): Promise<void> {
  const { file: _file, ...data } = doc;
  const Model = await modelFor(doc.apiVersion, doc.kind);
  new Model(data).validate();
}

function load(): Manifest[] {
  const docs: Manifest[] = [];
  for (const file of readdirSync(base).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(base, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      docs.push({ ...(doc.toJS() as Manifest), file });
    }
  }
  return docs;
}

const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
type Probe = { httpGet?: { path?: string } };
type Container = { ports?: unknown; readinessProbe?: Probe; livenessProbe?: Probe };
type PodTemplate = { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
const template = (d: Manifest) => (d.spec as { template: PodTemplate }).template;
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/ manifests', () => {
  const docs = load();

  it('every document is valid against the Kubernetes or KEDA schema of its kind', async () => {
    expect(docs.length).toBeGreaterThan(8);
    for (const doc of docs) await expect(validate(doc), `${doc.file}: ${doc.kind} ${doc.metadata.name}`).resolves.toBeUndefined();
    expect(new Set(docs.map((d) => d.kind))).toEqual(new Set(['Namespace', 'ConfigMap', 'Job', 'Deployment', 'Service', 'PodDisruptionBudget', 'ScaledObject']));
  });

  it('refuses broken documents: a wrong type, a wrong ScaledObject, an unknown kind', async () => {
    const deployment = structuredClone(docs.find((d) => d.kind === 'Deployment')!);
    template(deployment).spec.containers[0]!.ports = [{ containerPort: 'eight thousand' }];
    await expect(validate(deployment)).rejects.toThrow(/containerPort/);
    const scaled = structuredClone(byKind(docs, 'ScaledObject')[0]!);
    delete (scaled.spec as Record<string, unknown>).scaleTargetRef;
    await expect(validate(scaled)).rejects.toThrow(/scaleTargetRef/);
    await expect(validate({ ...deployment, kind: 'Deploymnet' })).rejects.toThrow(/no schema for Deploymnet/);
  });

  it('services, disruption budgets and the ScaledObject select pods that exist; workers and studio have probes on /ready and /health', () => {
    const deployments = byKind(docs, 'Deployment');
    for (const d of deployments) {
      const selector = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(matches(selector, template(d).metadata.labels), d.metadata.name).toBe(true);
      const container = template(d).spec.containers[0]!;
      expect(container.readinessProbe?.httpGet?.path, d.metadata.name).toBe('/ready');
      expect(container.livenessProbe?.httpGet?.path, d.metadata.name).toBe('/health');
    }
    const pods = deployments.map((d) => template(d).metadata.labels);
    for (const s of byKind(docs, 'Service')) expect(pods.some((l) => matches((s.spec as { selector: Record<string, string> }).selector, l)), s.metadata.name).toBe(true);
    for (const p of byKind(docs, 'PodDisruptionBudget')) {
      expect(pods.some((l) => matches((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels, l)), p.metadata.name).toBe(true);
    }
    const scaled = byKind(docs, 'ScaledObject')[0]!;
    const spec = scaled.spec as { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: Array<{ type: string; metadata: { query: string } }> };
    expect(deployments.map((d) => d.metadata.name)).toContain(spec.scaleTargetRef.name);
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.triggers[0]!.type).toBe('prometheus');
    expect(spec.triggers[0]!.metadata.query).toContain('meshflow_delivery_backlog');
  });

  it('the scaled metric is one the worker exports: queued and in-flight deliveries', async () => {
    const metrics = createMetrics(async () => new Map([['d1', 3]]));
    expect(await metrics.registry.metrics()).toMatch(/^meshflow_delivery_backlog\{deployment="d1"\} 3$/m);
  });

  it('the kustomization lists every manifest file, and only existing ones', () => {
    const kustomization = parseAllDocuments(readFileSync(join(base, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...new Set(docs.map((d) => d.file))].sort());
  });
});
