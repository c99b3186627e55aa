/** Runs one `hearth` command in-process, as the CLI would, and returns what it printed with console.log. */
import { Command } from 'commander';
import { vi } from 'vitest';

/** `register` is a command module's own; `argv` are the words after `hearth`. */
export async function runCommand(register: (program: Command) => void, ...argv: string[]): Promise<string[]> {
  const { out, error } = await runCommandResult(register, ...argv);
  if (error !== undefined) throw error;
  return out;
}

/** Like `runCommand`, but a command that throws still gives back what it printed, with the error. */
export async function runCommandResult(register: (program: Command) => void, ...argv: string[]): Promise<{ out: string[]; error: unknown }> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => {
    out.push(String(s));
  });
  try {
    const program = new Command('hearth').exitOverride();
    register(program);
    await program.parseAsync(['node', 'hearth', ...argv]);
    return { out, error: undefined };
  } catch (error) {
    return { out, error };
  } finally {
    spy.mockRestore();
  }
}
