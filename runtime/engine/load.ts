/** Reading workflow documents (YAML or JSON) and saved instance states, checked at the boundary. */
import { parseDocument } from 'yaml';
import { z } from 'zod';

export const instanceStateSchema = z.looseObject({
  version: z.literal(1),
  id: z.string().min(1),
  status: z.enum(['pending', 'running', 'waiting', 'suspended', 'cancelled', 'faulted', 'completed']),
  definition: z.looseObject({ document: z.looseObject({}), do: z.array(z.record(z.string(), z.unknown())) }),
  input: z.unknown(),
  context: z.unknown(),
  startedAt: z.number(),
  deadline: z.number().optional(),
  frames: z.record(z.string(), z.looseObject({ startedAt: z.number().optional(), deadline: z.number().optional(), step: z.record(z.string(), z.unknown()).optional() })),
});

/** A problem found in a workflow document (by parsing here, or by validate.ts). */
export interface Diagnostic {
  /** JSON pointer into the document, e.g. `/do/2/checkOrder/switch/0`. */
  path: string;
  message: string;
  /** What would be accepted there. */
  expected?: string;
}

/** Parses YAML or JSON text; syntax errors come back as diagnostics with their line. */
export function parseWorkflowText(text: string): { value?: unknown; diagnostics: Diagnostic[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      diagnostics: doc.errors.map((e) => ({
        path: '',
        message: `${e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : ''}${e.message.split('\n')[0]}`,
        expected: 'a YAML or JSON workflow document',
      })),
    };
  }
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, diagnostics: [] };
}
