/** Model sources: the committed manifest, the models directory, and Hearth's tfjs→ONNX converter. */
export { loadManifestModel, modelsDir, readManifest, repoRoot, type ModelManifest, type ModelSource, type ModelSpec } from './registry.js';
export { ConversionError, convertTfjsGraphToOnnx, type ConversionResult } from './tfjs-to-onnx.js';
