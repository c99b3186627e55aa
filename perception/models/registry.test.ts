import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { ModelError } from '../onnx.js';
import { loadManifestModel, readManifest } from './registry.js';

const dir = modelsDirForTests();

describe('model manifest and registry', () => {
  it('records source package, version, licence and sha256 for every model', () => {
    const m = readManifest();
    expect(Object.keys(m.models).sort()).toEqual(['antispoof', 'blazeface-back', 'blazeface-front', 'blazeface-human', 'expression', 'face-descriptor', 'liveness', 'use-lite', 'use-lite-vocab']);
    for (const spec of Object.values(m.models)) {
      expect(spec.source.package).toMatch(/^(@vladmandic\/human|jp\.keijiro\.mediapipe\.blazeface|@energetic-ai\/model-embeddings-en)$/);
      expect(spec.licence).toMatch(/^(MIT|Apache-2\.0)$/);
    }
  });

  it('loads the installed models, whose hashes match', async () => {
    const m = await loadManifestModel('expression', { dir });
    expect(m.inputNames).toEqual(['input_1']);
    await m.release();
  });

  it('refuses a model whose bytes differ from the manifest, naming file and both hashes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hearth-models-'));
    const bytes = readFileSync(join(dir, 'emotion.onnx'));
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff; // one flipped byte inside the weights
    writeFileSync(join(tmp, 'emotion.onnx'), bytes);
    const err = await loadManifestModel('expression', { dir: tmp }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(new RegExp(`^${join(tmp, 'emotion.onnx')}: sha256 [0-9a-f]{64} does not match the manifest \\(${readManifest().models.expression!.sha256}\\); refusing to load it$`));
  });

  it('says how to get a missing model, and rejects unknown names', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hearth-models-'));
    copyFileSync(join(dir, 'emotion.onnx'), join(tmp, 'emotion.onnx'));
    await expect(loadManifestModel('blazeface-front', { dir: tmp })).rejects.toThrow(/blazeface-front-128\.onnx: model "blazeface-front" is missing; run `node scripts\/setup-models\.mjs`/);
    await expect(loadManifestModel('nope', { dir: tmp })).rejects.toThrow('model "nope" is not in the manifest (known: expression, blazeface-front, blazeface-back, blazeface-human, face-descriptor, antispoof, liveness, use-lite, use-lite-vocab)');
  });

  it('rejects a malformed manifest with the field at fault', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hearth-manifest-'));
    const bad = JSON.parse(readFileSync(join(import.meta.dirname, 'manifest.json'), 'utf8'));
    bad.models.expression.sha256 = 'abc';
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(bad));
    expect(() => readManifest(join(tmp, 'manifest.json'))).toThrow(`${join(tmp, 'manifest.json')}: models.expression.sha256 is not 64 hex digits`);
  });
});
