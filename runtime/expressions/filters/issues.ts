/** A problem in a filter or transform definition, located by a JSON Pointer into it. */
export interface DefinitionIssue {
  /** JSON Pointer (RFC 6901) to the offending value; '' is the whole definition. */
  path: string;
  message: string;
}

export class DefinitionError extends Error {
  constructor(
    readonly what: string,
    readonly issues: DefinitionIssue[],
  ) {
    super(`invalid ${what}:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'DefinitionError';
  }
}

export function formatIssue(issue: DefinitionIssue): string {
  return `${issue.path || '/'}: ${issue.message}`;
}

export function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
