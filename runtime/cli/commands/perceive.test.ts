import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { iou } from '../../../perception/index.js';
import { FACES, makeFaceVideo, modelsDirForTests } from '../../../test/fixtures/faces/faces.js';
import { register } from './perceive.js';
import { runCommand } from '../../../test/support/run-command.js';

const models = modelsDirForTests();
const dir = mkdtempSync(join(tmpdir(), 'hearth-perceive-'));

interface Line {
  file: string;
  frame: number;
  faces: { id: string; box: [number, number, number, number]; expression: string; valence: number; arousal: number; confidence: number }[];
}

const run = async (...args: string[]): Promise<Line[]> => (await runCommand(register, 'perceive', '--models', models, ...args)).map((l) => JSON.parse(l) as Line);
afterEach(() => vi.restoreAllMocks());
const rect = ([x, y, w, h]: number[]) => ({ x: x!, y: y!, w: w!, h: h! });

describe('hearth perceive', () => {
  it('prints one JSON line per image with pixel boxes and hri expression names', async () => {
    const lines = await run(FACES.astronaut.image, FACES.messi.image);
    expect(lines.map((l) => [l.file, l.frame])).toEqual([[FACES.astronaut.image, 0], [FACES.messi.image, 0]]);
    const [astro] = lines[0]!.faces;
    expect(Object.keys(astro!).sort()).toEqual(['arousal', 'box', 'confidence', 'expression', 'id', 'valence']);
    expect(astro!.box.every((v) => Number.isInteger(v))).toBe(true);
    expect(iou(rect(astro!.box), rect(FACES.astronaut.box))).toBeGreaterThanOrEqual(0.5);
    expect(astro!.expression).toBe('happy');
    expect(Math.max(...lines[1]!.faces.map((f) => iou(rect(f.box), rect(FACES.messi.box))))).toBeGreaterThanOrEqual(0.5);
    for (const f of lines.flatMap((l) => l.faces)) {
      expect(['neutral', 'angry', 'sad', 'happy', 'surprised', 'disgusted', 'scared']).toContain(f.expression);
      expect(Math.abs(f.valence)).toBeLessThanOrEqual(1);
      expect(Math.abs(f.arousal)).toBeLessThanOrEqual(1);
    }
  });

  it('prints one line per video frame, with the face id kept across frames', async () => {
    const video = makeFaceVideo(dir, { astronautFrames: 4, messiFrames: 0 });
    const lines = await run(video);
    expect(lines.map((l) => l.frame)).toEqual([0, 1, 2, 3]);
    expect(new Set(lines.map((l) => l.faces[0]?.id)).size).toBe(1);
  });

  it('names the file and the problem for user mistakes (exit code 2)', async () => {
    const missing = join(dir, 'missing.png');
    await expect(run(missing)).rejects.toMatchObject({ exitCode: 2, message: `perceive: ${missing}: no such file` });
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a picture\n');
    await expect(run(text)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/^perceive: .*notes\.txt: cannot read video \(.*notes\.txt: Invalid data found when processing input\)$/) });
    await expect(run('--detector', 'haar', FACES.messi.image)).rejects.toMatchObject({ exitCode: 2, message: 'option --detector: expected one of cascade, blazeface-human, blazeface-back, blazeface-front, got "haar"' });
    await expect(run('--threshold', '2', FACES.messi.image)).rejects.toMatchObject({ exitCode: 2 });
  });
});
