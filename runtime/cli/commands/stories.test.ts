import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundledStories } from '../../../behaviors/index.js';
import { register } from './stories.js';
import { runCommand } from '../../../test/support/run-command.js';

const run = async (...args: string[]): Promise<string> => (await runCommand(register, 'stories', ...args)).join('\n');
afterEach(() => vi.restoreAllMocks());

describe('hearth stories', () => {
  it('--json lists every bundled story with its fields', async () => {
    const list = JSON.parse(await run('--json')) as { id: string; reading_time_s: number; words: number; main_event: string }[];
    expect(list).toHaveLength(bundledStories().length);
    expect(list[0]).toMatchObject({ id: 'bread-on-sundays', title: 'Bread on Sundays', themes: expect.arrayContaining(['grief']) });
    expect(list.every((s) => s.words > 100 && s.main_event.length > 10)).toBe(true);
  });

  it('prints a table and a total by default, and filters by theme', async () => {
    const text = await run('--theme', 'grief');
    expect(text).toMatch(/^bread-on-sundays\s+\d+ s {2}Bread on Sundays — family, grief/m);
    expect(text).toMatch(/\d+ stories?, \d+ min of reading$/);
    expect(text).not.toMatch(/karaoke-night/);
  });

  it('checks a library file and names the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stories-'));
    const file = join(dir, 'lib.yaml');
    writeFileSync(file, '- id: a\n  title: A\n  themes: []\n  emotions: [joy]\n  main_event: x\n  reading_time_s: 10\n  text: hi\n');
    await expect(run('--file', file)).rejects.toThrow(/lib\.yaml: story #1 \(a\): "themes" must be a non-empty list/);
    await expect(run('--file', join(dir, 'missing.yaml'))).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/missing\.yaml: cannot read the story library \(ENOENT\)/) });
    await expect(run('--theme', 'no-such-theme')).rejects.toThrow(/no story has that theme/);
  });
});
