import type { ZodError } from 'zod';

/** One field's problem: its path (`entries.3.value`, or `input` for the whole) and what is wrong. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Every problem of a refused input, with the path of its field. */
export function fieldIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || 'input', message: issue.message }));
}

/** The problems of a refused input as one line: `name: must not be empty; value: …`. */
export function issuesMessage(error: ZodError): string {
  return fieldIssues(error)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}
