/**
 * Files the designer reads and writes: DSL documents (YAML or JSON) and Meshflow flow files
 * (the graph itself, JSON, with the canvas layout and labels).
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { flowGraphSchema, type FlowGraph } from '@/runtime/nodes/index';
import { readFlowYaml, type YamlProblem } from './yaml-sync';

export const FLOW_FILE_FORMAT = 'meshflow.flow/v1';

const flowFileSchema = z.object({ format: z.literal(FLOW_FILE_FORMAT), name: z.string().optional(), graph: flowGraphSchema });

export function flowFile(name: string, graph: FlowGraph): string {
  return `${JSON.stringify({ format: FLOW_FILE_FORMAT, name, graph }, null, 2)}\n`;
}

/** A flow file or a DSL document, told apart by content rather than by file name. */
export function readImportedFile(text: string): { graph?: FlowGraph; name?: string; problems: YamlProblem[] } {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    return readFlowYaml(text);
  }
  if (parsed && typeof parsed === 'object' && 'format' in parsed) {
    const file = flowFileSchema.safeParse(parsed);
    if (!file.success) return { problems: file.error.issues.map((i) => ({ line: 1, from: 0, to: 1, severity: 'error', message: `${i.path.join('.')}: ${i.message}` })) };
    return { graph: file.data.graph, ...(file.data.name ? { name: file.data.name } : {}), problems: [] };
  }
  return readFlowYaml(text);
}

export function download(fileName: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  URL.revokeObjectURL(url);
}
