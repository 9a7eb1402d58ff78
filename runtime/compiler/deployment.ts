/**
 * What a deployment is, read in one place with one schema: its compiled DSL document and the
 * metadata the compiler writes under `metadata.meshflow` (metadata.ts). The worker parses a
 * deployment's YAML once (`deploymentOf`) and hands the same `Deployment` to everything that
 * reads it: the data plane's plan (runtime/events/plan.ts), the workflow trigger
 * (runtime/runs/triggers.ts), the scheduler and the broker connectors.
 */
import { parse as parseYaml } from 'yaml';
import { readDocumentMeta, type SourceMeta } from './metadata.ts';

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

export class Deployment {
  private constructor(
    /** The parsed document; `{}` when the text is not a DSL document at all. */
    readonly document: Obj,
    /** Whether it has the `document` header of a DSL document. */
    readonly isDsl: boolean,
    /** `document.metadata.meshflow.sources`: the flow's source nodes, each as the compiler listed it. */
    readonly sources: SourceMeta[],
  ) {}

  /** A parsed document (from YAML, JSON, or a compile result) read as a deployment. */
  static of(document: unknown): Deployment {
    if (document instanceof Deployment) return document;
    if (!isObject(document)) return new Deployment({}, false, []);
    return new Deployment(document, isObject(document.document), readDocumentMeta(document.document).sources);
  }

  /** Throws the YAML parser's error when the text is not YAML. */
  static parse(yaml: string): Deployment {
    return Deployment.of(parseYaml(yaml));
  }
}

/** One parse per deployment (and version of its text), shared by every reader in the worker. */
const parsed = new Map<string, { yaml: string; deployment: Deployment | Error }>();
const MAX_CACHED = 10_000;

/** The deployment's document, parsed once; throws (every time) when its YAML does not parse. */
export function deploymentOf(row: { id: string; dslYaml: string }): Deployment {
  let entry = parsed.get(row.id);
  if (!entry || entry.yaml !== row.dslYaml) {
    let deployment: Deployment | Error;
    try {
      deployment = Deployment.parse(row.dslYaml);
    } catch (error) {
      deployment = error as Error;
    }
    if (parsed.size >= MAX_CACHED) parsed.clear();
    entry = { yaml: row.dslYaml, deployment };
    parsed.set(row.id, entry);
  }
  if (entry.deployment instanceof Error) throw entry.deployment;
  return entry.deployment;
}
