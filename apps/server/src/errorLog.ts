/**
 * What a log line may say about an error: its class, the driver's SQLSTATE and constraint, the
 * statement's shape (the SQL text with placeholders) and the stack frames — never its message, its
 * parameters or the database's detail line, which carry user content (notes, names, values).
 */
export interface SafeError {
  type: string;
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  routine?: string;
  statement?: string;
  frames?: string;
  cause?: SafeError;
}

const MAX_DEPTH = 4;

export function safeError(error: unknown, depth = 0): SafeError {
  if (error === null || typeof error !== 'object') return { type: typeof error };
  const source = error as Record<string, unknown>;
  const described: SafeError = { type: (error as Error).constructor?.name ?? 'Object' };
  const code = source.code;
  if (typeof code === 'string' && /^[\w-]{1,40}$/.test(code)) described.code = code;
  for (const key of ['constraint', 'table', 'column', 'routine'] as const) {
    const value = source[key] ?? source[`${key}_name`];
    if (typeof value === 'string' && /^[\w.]{1,128}$/.test(value)) described[key] = value;
  }
  // Drizzle's DrizzleQueryError carries the statement as `query` (placeholders only; the values are in `params`).
  if (typeof source.query === 'string') described.statement = source.query.slice(0, 2_000);
  if (typeof (error as Error).stack === 'string') {
    // Frames only: the stack's first line repeats the message.
    described.frames = (error as Error)
      .stack!.split('\n')
      .filter((line) => line.trimStart().startsWith('at '))
      .slice(0, 12)
      .join('\n');
  }
  if (source.cause !== undefined && depth < MAX_DEPTH) described.cause = safeError(source.cause, depth + 1);
  return described;
}
