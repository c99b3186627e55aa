// The only module that imports onnxruntime-node.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';

/** A model that failed to load or failed its integrity check; the message names the file. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A dense tensor handed to or returned by a model. */
export interface TensorData {
  type: 'float32' | 'int64' | 'int32' | 'uint8';
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  dims: readonly number[];
}

/** A loaded ONNX model: named inputs in, named outputs out. */
export interface OnnxModel {
  readonly path: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

/** Options for loading a model. */
export interface LoadModelOptions {
  /** Refuse the file unless its sha256 (hex) matches. */
  sha256?: string;
  /** Intra-op threads; 1 by default (the target is a Raspberry Pi core). */
  threads?: number;
}

/** Load an ONNX model from a file, checking its hash first when one is given. */
export async function loadOnnxModel(path: string, options: LoadModelOptions = {}): Promise<OnnxModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new ModelError(`${path}: cannot read model file (${(cause as Error).message})`, { cause });
  }
  if (options.sha256) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== options.sha256.toLowerCase()) {
      throw new ModelError(`${path}: sha256 ${actual} does not match the manifest (${options.sha256}); refusing to load it`);
    }
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Errors only: converted graphs trigger harmless "unused initializer" warnings on stderr.
      logSeverityLevel: 3,
    });
  } catch (cause) {
    throw new ModelError(`${path}: onnxruntime cannot load the model (${(cause as Error).message})`, { cause });
  }
  return {
    path,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const input: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor(t.type, t.data, t.dims);
      const out = await session.run(input);
      const result: Record<string, TensorData> = {};
      for (const [name, t] of Object.entries(out)) {
        result[name] = { type: t.type as TensorData['type'], data: t.data as TensorData['data'], dims: t.dims };
      }
      return result;
    },
    release: () => session.release(),
  };
}
