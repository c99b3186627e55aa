// Where the text tests find USE lite, and why they skip without it (setup always installs it, so CI runs them).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../models/registry.js';

/** The models directory the tests use. */
export const testModelsDir = modelsDir();
/** Undefined when USE lite is installed; else the reason the tests skip, for their titles. */
export const useLiteMissing: string | undefined = ['use-lite.onnx', 'use-lite-vocab.json'].every((f) => existsSync(join(testModelsDir, f)))
  ? undefined
  : `skipped: ${testModelsDir} has no use-lite.onnx / use-lite-vocab.json; run node scripts/setup-models.mjs`;
/** A describe title with the skip reason appended when the models are absent. */
export const titled = (title: string): string => (useLiteMissing ? `${title} (${useLiteMissing})` : title);
