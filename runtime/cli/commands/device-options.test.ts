import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { hardwareOptions, liveOptions, type HardwareFlags } from './device-options.js';

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

  it('takes the site\'s transcription server with --microphone only, as an http(s) URL, with the model and the key from the environment', () => {
    const bad = parse('--microphone', '--stt-server', 'whisper.local:8000');
    expect(bad.error?.exitCode).toBe(2);
    expect(bad.error?.message).toBe('option --stt-server: "whisper.local:8000" must be an http or https URL');
    expect(parse('--stt-server', 'not a url').error?.message).toBe('option --stt-server: "not a url" is not a URL (e.g. http://10.0.0.5:8000/v1)');
    expect(() => liveOptions(parse('--stt-server', 'http://10.0.0.5:8000/v1').flags!)).toThrow('option --stt-server: speech to text needs --microphone (typed and scripted answers are not transcribed)');
    const saved = process.env.HEARTH_STT_API_KEY;
    process.env.HEARTH_STT_API_KEY = 'k-site';
    try {
      const o = liveOptions(parse('--microphone', '--stt-server', 'http://10.0.0.5:8000/v1', '--stt-model', 'Systran/faster-whisper-small').flags!);
      expect(o.stt).toEqual({ baseURL: 'http://10.0.0.5:8000/v1', model: 'Systran/faster-whisper-small', apiKey: 'k-site' });
      expect(liveOptions(parse('--microphone').flags!).stt).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.HEARTH_STT_API_KEY;
      else process.env.HEARTH_STT_API_KEY = saved;
    }
  });
});
