/** A mistake in how a command was called; printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Errors that are the user's to fix (bad file, bad option): one line, exit 2, no stack. */
export function isUserError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  return (e as { exitCode?: unknown }).exitCode === 2 || ['StoreError', 'ScriptError', 'ProtocolError', 'StoryLibraryError', 'ModelError'].includes(e.name);
}

/** Parse a positive integer option, naming the option when it is wrong. */
export function positiveInt(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(`option ${name}: expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/** Parse a non-negative number option. */
export function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`option ${name}: expected a non-negative number, got "${value}"`);
    return n;
  };
}
