import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { hardwareOptions, type HardwareFlags } from './device-options.js';

/** Parse `args` with the shared hardware options, as `hearth talk` does: the flags, or the error commander raised. */
function parse(...args: string[]): { flags?: HardwareFlags; error?: Error & { exitCode?: number } } {
  let flags: HardwareFlags | undefined;
  const program = new Command('hearth').exitOverride();
  hardwareOptions(program.command('talk').requiredOption('--device-dir <dir>')).action((o: HardwareFlags) => void (flags = o));
  try {
    program.parse(['node', 'hearth', 'talk', '--device-dir', 'd', ...args]);
    return { flags };
  } catch (error) {
    return { error: error as Error & { exitCode?: number } };
  }
}

describe('hardware options', () => {
  it('refuses --time-scale 0 (every reply would time out at once) and accepts a small positive scale', () => {
    for (const bad of ['0', '-1', '', 'fast']) {
      const r = parse('--time-scale', bad);
      expect(r.error?.exitCode).toBe(2);
      expect(r.error?.message).toBe(`option --time-scale: expected a number above 0 (e.g. 0.01 for 100x faster), got "${bad}"`);
    }
    expect(parse('--time-scale', '0.01').flags?.timeScale).toBe(0.01);
  });

  it('refuses a FIFO or a folder as --script in one line instead of waiting on it, and takes a regular file', () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-options-'));
    const fifo = join(root, 'script.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = parse('--script', fifo);
    expect(r.error?.exitCode).toBe(2);
    expect(r.error?.message).toBe(`option --script: ${fifo} is a named pipe (FIFO), not a regular file; give a script file (YAML or JSON)`);
    expect(parse('--script', root).error?.message).toBe(`option --script: ${root} is a folder, not a regular file; give a script file (YAML or JSON)`);
    const file = join(root, 'ok.yaml');
    writeFileSync(file, 'replies: [hello]\n');
    expect(parse('--script', file).flags?.script).toBe(file);
  });
});
