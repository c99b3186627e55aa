/** One problem found in a protocol file, with where it is and how to fix it. */
export interface ProtocolProblem {
  file: string;
  /** 1-based line; 0 when the problem concerns the whole file. */
  line: number;
  /** 1-based column; 0 when the problem concerns the whole file. */
  column: number;
  /** Path in the document, e.g. `schedule.sessions[0].window.start` (empty for the root). */
  path: string;
  message: string;
  hint: string;
}

/** Format one problem as `file:line:col path: message (hint)`. */
export function formatProblem(p: ProtocolProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  const path = p.path === '' ? '(document)' : p.path;
  return `${where} ${path}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`;
}

/** A protocol file that cannot be used: every problem found, one line each. Exit code 2 in the CLI. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly exitCode = 2;
  readonly problems: readonly ProtocolProblem[];
  constructor(problems: readonly ProtocolProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), options);
    this.problems = problems;
  }
}

/** A user mistake outside the protocol file (bad participant id, time zone, device folder…). Exit code 2. */
export class StudyError extends Error {
  override readonly name = 'StudyError';
  readonly exitCode = 2;
  /** The `ProvisionOptions` field at fault (e.g. `startDate`), so a CLI can name its own option. */
  readonly field?: string;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options);
    if (options?.field !== undefined) this.field = options.field;
  }
}
