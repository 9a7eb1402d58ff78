/**
 * Workflow definitions as the worker reads them from `flow_version`: loaded once per version
 * (a saved version never changes), and found by their DSL name for `run: workflow` subflows —
 * a deployed version first, else the latest saved one.
 */
import type pg from 'pg';
import { WorkflowError, type Json, type WorkflowDocument, type WorkflowResolver } from '../../engine/index.ts';
import { formatDiagnostics, loadWorkflow } from '../../engine/validate.ts';

/** The candidates whose text names the workflow, deployed versions first, newest first. */
const CANDIDATES = `
SELECT v.id FROM flow_version v
 WHERE v."dslYaml" LIKE '%' || $1 || '%' ESCAPE '\\'
 ORDER BY EXISTS (SELECT 1 FROM deployment d WHERE d."flowVersionId" = v.id AND d.status = 'active') DESC, v."createdAt" DESC
 LIMIT 50`;

export class FlowDefinitions implements WorkflowResolver {
  private readonly loaded = new Map<string, Promise<WorkflowDocument | string>>();

  constructor(private readonly pool: pg.Pool) {}

  /** A version's definition, or why it cannot run. */
  load(flowVersionId: string): Promise<WorkflowDocument | string> {
    let loading = this.loaded.get(flowVersionId);
    if (!loading) {
      loading = (async () => {
        const { rows } = await this.pool.query<{ dslYaml: string }>(`SELECT "dslYaml" FROM flow_version WHERE id = $1`, [flowVersionId]);
        if (!rows[0]) return `flow version ${flowVersionId} no longer exists`;
        // The full schema check ran when the version was saved; our own checks are enough here.
        const loaded = await loadWorkflow(rows[0].dslYaml, { schema: false });
        return loaded.document ?? `the workflow definition is not valid:\n${formatDiagnostics(loaded.diagnostics)}`;
      })();
      loading.catch(() => this.loaded.delete(flowVersionId));
      this.loaded.set(flowVersionId, loading);
    }
    return loading;
  }

  async resolve(ref: { namespace: string; name: string; version: string }): Promise<WorkflowDocument> {
    return (await this.find(ref)).definition;
  }

  /** A fire-and-forget subflow becomes a run of its own, which any worker claims. */
  async start(ref: { namespace: string; name: string; version: string }, input: Json, id: string): Promise<void> {
    const { flowVersionId } = await this.find(ref);
    await this.pool.query(
      `INSERT INTO run (id, "flowId", "flowVersionId", status, input)
       SELECT $1, v."flowId", v.id, 'pending', $3::jsonb FROM flow_version v WHERE v.id = $2
       ON CONFLICT (id) DO NOTHING`,
      [id, flowVersionId, JSON.stringify(input)],
    );
  }

  private async find(ref: { namespace: string; name: string; version: string }): Promise<{ definition: WorkflowDocument; flowVersionId: string }> {
    const { rows } = await this.pool.query<{ id: string }>(CANDIDATES, [ref.name.replace(/[\\%_]/g, (c) => `\\${c}`)]);
    for (const { id } of rows) {
      const definition = await this.load(id);
      if (typeof definition === 'string') continue;
      const { namespace, name, version } = definition.document;
      if (namespace === ref.namespace && name === ref.name && (version ?? '') === ref.version) return { definition, flowVersionId: id };
    }
    throw WorkflowError.of('configuration', `no deployed or saved flow defines workflow ${ref.namespace}/${ref.name} version ${ref.version}`, '/');
  }
}
