// Hearth's converter from a TensorFlow.js graph model (model.json + weights.bin) to ONNX.
// Vision graphs (emotion, BlazeFace, faceres, antispoof, liveness: a 4-D float input): _FusedConv2D
// (BiasAdd[, Relu]), Conv2D, DepthwiseConv2dNative, MaxPool, Add/AddV2/Mul/Sub/Maximum/Minimum with a
// channel constant (batch norm, ReLU6), Relu, Mean, Softmax, Sigmoid, Pad, Reshape, _FusedMatMul
// (dense layers), Identity; float16/uint8/uint16-quantized weights are widened to float32. Their ONNX graph
// keeps the tfjs NHWC interface (a Transpose at the input) and runs NCHW inside, which is what
// onnxruntime's CPU kernels are fastest at.
// Other graphs (the Universal Sentence Encoder lite: sparse int64 token input, dynamic shapes) are
// converted op for op in TensorFlow's own layout, with every integer tensor widened to int64 (ONNX wants
// int64 shapes and indices; TF int32 values are small). Ops: the shape ops (Shape, StridedSlice, Slice,
// Reshape, ExpandDims, Squeeze, Pack, ConcatV2, SplitV, Transpose, Range), gathers and scatters
// (GatherV2, GatherNd, ScatterNd, SparseToDense, Where), reductions (Sum, Mean, Max, Prod), element-wise
// maths and comparisons, Cast, MatMul/BatchMatMul, BiasAdd, and 1x1 Conv2D (as a MatMul).
import { ProtoWriter } from './protobuf.js';

/** A tfjs graph model that cannot be converted; the message names the source and the node. */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
}

interface TfAttrValue {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string | number;
  list?: { i?: string[]; s?: string[] };
  shape?: { dim?: { size: string }[] };
}

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}

interface TfWeight {
  name: string;
  shape: number[];
  dtype: string;
}

interface Initializer {
  name: string;
  dims: number[];
  type: 'float32' | 'int64';
  data: Float32Array | BigInt64Array;
}

/** Element type of a converted value: TF int32 and int64 both become int64. */
type Dtype = 'float' | 'int64' | 'bool';

/** A graph input of the ONNX model. */
export interface ConvertedInput {
  name: string;
  /** -1 for a dynamic dimension. */
  shape: number[];
  dtype: Dtype;
}

interface Value {
  name: string;
  nchw: boolean;
  /** Element type; float when not recorded (the vision path). */
  dtype?: Dtype;
  /** Rank, where known and needed (BatchMatMul with adjoints). */
  rank?: number;
}

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, number | string | number[]>;
}

/** What the converter produced, for logs and tests. */
export interface ConversionResult {
  onnx: Uint8Array;
  /** The first input (vision graphs have exactly one). */
  inputName: string;
  inputShape: number[];
  inputs: ConvertedInput[];
  outputNames: string[];
  /** tfjs op type → count, as found in the source graph. */
  ops: Record<string, number>;
}

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const ONNX_BOOL = 9;
const OPSET = 13;
const ONNX_TYPE: Record<Dtype, number> = { float: ONNX_FLOAT, int64: ONNX_INT64, bool: ONNX_BOOL };
/** TensorFlow DataType (enum number or name) → converted type; undefined when not supported. */
const tfDtype = (v: TfAttrValue | undefined, fallback?: Dtype): Dtype | undefined => {
  if (v?.type === undefined) return fallback;
  const names: Record<string, Dtype> = { 1: 'float', 3: 'int64', 9: 'int64', 10: 'bool', DT_FLOAT: 'float', DT_INT32: 'int64', DT_INT64: 'int64', DT_BOOL: 'bool' };
  return names[String(v.type)];
};
/** "To the end" for Slice: large but exact in a double (2^63 would wrap when made an int64). */
const TO_END = Number.MAX_SAFE_INTEGER;

const decodeAttrString = (v: TfAttrValue | undefined): string | undefined =>
  v?.s === undefined ? undefined : Buffer.from(v.s, 'base64').toString('utf8');

/** Options for `convertTfjsGraphToOnnx`. */
export interface ConversionOptions {
  /** Inner tensors to expose as outputs too, before the graph's sinks (faceres' descriptor `global_pooling/Mean`). */
  extraOutputs?: readonly string[];
}

/** Convert a parsed tfjs `model.json` and its concatenated weight files to ONNX bytes. */
export function convertTfjsGraphToOnnx(modelJson: unknown, weightBytes: Uint8Array, source = 'model.json', options: ConversionOptions = {}): ConversionResult {
  const fail = (where: string, problem: string): never => {
    throw new ConversionError(`${source}: ${where}: ${problem}`);
  };
  if (typeof modelJson !== 'object' || modelJson === null) fail('top level', 'not a JSON object');
  const model = modelJson as { format?: string; modelTopology?: { node?: TfNode[] }; weightsManifest?: { weights?: TfWeight[] }[] };
  // Graphs from older tfjs converters (USE lite) carry no "format" at all.
  if (model.format !== 'graph-model' && !(model.format === undefined && Array.isArray(model.modelTopology?.node))) {
    fail('format', `expected "graph-model", found ${JSON.stringify(model.format)}`);
  }
  const nodes = model.modelTopology?.node;
  if (!Array.isArray(nodes)) fail('modelTopology.node', 'missing or not an array');
  if (!Array.isArray(model.weightsManifest)) fail('weightsManifest', 'missing or not an array');

  // Weights: all groups' weights laid end to end, in manifest order.
  const weights = new Map<string, { shape: number[]; dtype: string; data: Float32Array | Int32Array }>();
  let offset = 0;
  for (const group of model.weightsManifest!) {
    for (const w of group.weights ?? []) {
      if (!Array.isArray(w.shape)) fail(`weight ${w.name}`, 'shape missing');
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') fail(`weight ${w.name}`, `dtype ${w.dtype} is not supported`);
      const q = (w as { quantization?: { dtype?: string; min?: number; scale?: number } }).quantization;
      if (q) {
        // Quantized weights (faceres, antispoof: float16) are widened back to float32 here.
        const bytesPer = q.dtype === 'float16' || q.dtype === 'uint16' ? 2 : q.dtype === 'uint8' ? 1 : 0;
        if (!bytesPer || w.dtype !== 'float32') fail(`weight ${w.name}`, `quantization ${q.dtype} of ${w.dtype} is not supported (float16, uint8, uint16 of float32 are)`);
        const end = offset + count * bytesPer;
        if (end > weightBytes.length) fail(`weight ${w.name}`, `needs bytes ${offset}..${end} but the weights hold ${weightBytes.length}`);
        const view = new DataView(weightBytes.buffer, weightBytes.byteOffset + offset, count * bytesPer);
        const data = new Float32Array(count);
        if (q.dtype === 'float16') for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
        else if (q.min === undefined || q.scale === undefined) fail(`weight ${w.name}`, `${q.dtype} quantization without min and scale`);
        else for (let i = 0; i < count; i++) data[i] = q.min + q.scale * (bytesPer === 1 ? view.getUint8(i) : view.getUint16(i * 2, true));
        weights.set(w.name, { shape: w.shape, dtype: 'float32', data });
        offset = end;
        continue;
      }
      const end = offset + count * 4;
      if (end > weightBytes.length) fail(`weight ${w.name}`, `needs bytes ${offset}..${end} but the weights hold ${weightBytes.length}`);
      // A real copy (Buffer#slice would return an unaligned view).
      const copy = Uint8Array.prototype.slice.call(weightBytes, offset, end);
      const data = w.dtype === 'float32' ? new Float32Array(copy.buffer, copy.byteOffset, count) : new Int32Array(copy.buffer, copy.byteOffset, count);
      weights.set(w.name, { shape: w.shape, dtype: w.dtype, data });
      offset = end;
    }
  }
  if (offset !== weightBytes.length) fail('weights', `manifest describes ${offset} bytes but the weight files hold ${weightBytes.length}`);

  const ops: Record<string, number> = {};
  for (const n of nodes!) ops[n.op] = (ops[n.op] ?? 0) + 1;

  const initializers: Initializer[] = [];
  const onnxNodes: OnnxNode[] = [];
  // For every tfjs tensor name ("node" or "node:k"): the ONNX value holding it, whether that value is NCHW
  // (transposed), its element type, and its rank where the converter needs to know it.
  const values = new Map<string, Value>();
  const tensorKey = (name: string) => (name.endsWith(':0') ? name.slice(0, -2) : name);
  const consumers = new Map<string, number>();
  for (const n of nodes!) for (const i of n.input ?? []) consumers.set(i.split(':')[0]!, (consumers.get(i.split(':')[0]!) ?? 0) + 1);

  const inputs: ConvertedInput[] = [];
  let uid = 0;
  const fresh = (base: string) => `${base}__${uid++}`;

  const constOf = (name: string, where: string) => {
    const w = weights.get(name.split(':')[0]!);
    if (!w) fail(where, `input ${name} is not a constant with weights`);
    return w!;
  };
  const constValues = new Map<string, Value>();
  const valueOf = (name: string, where: string): Value => {
    const v = values.get(tensorKey(name));
    if (v) return v;
    // A constant used as a tensor (not as a kernel or a shape): an initializer, made once.
    const base = name.split(':')[0]!;
    const w = weights.get(base);
    if (!w) fail(where, `input ${name} is not produced by an earlier node (graph not in topological order?)`);
    let c = constValues.get(base);
    if (!c) {
      const init = fresh(base);
      if (w!.dtype === 'float32') initializers.push({ name: init, dims: w!.shape, type: 'float32', data: Float32Array.from(w!.data) });
      else initializers.push({ name: init, dims: w!.shape, type: 'int64', data: BigInt64Array.from(Array.from(w!.data, (x) => BigInt(x))) });
      c = { name: init, nchw: false, dtype: w!.dtype === 'float32' ? 'float' : 'int64', rank: w!.shape.length };
      constValues.set(base, c);
    }
    return c;
  };
  /** A value in TF layout, for the op-for-op (non-vision) conversions. */
  const plain = (name: string, where: string): Value => {
    const v = valueOf(name, where);
    if (v.nchw) fail(where, `input ${name} is a 4-D feature map; this op is only converted for TF-layout tensors`);
    return v;
  };
  const ints = (name: string, where: string): number[] => Array.from(constOf(name, where).data);
  const emit = (op: string, inputs: string[], attrs: OnnxNode['attrs'] = {}, base = op): string => {
    const out = fresh(base);
    onnxNodes.push({ op, name: out, inputs, outputs: [out], attrs });
    return out;
  };
  const addFloatInit = (base: string, dims: number[], data: Float32Array): string => {
    const name = fresh(base);
    initializers.push({ name, dims, type: 'float32', data });
    return name;
  };
  const addInt64Init = (base: string, data: number[]): string => {
    const name = fresh(base);
    initializers.push({ name, dims: [data.length], type: 'int64', data: BigInt64Array.from(data.map(BigInt)) });
    return name;
  };
  /** HWIO (or HW C M for depthwise) kernel → OIHW. */
  const transposeKernel = (w: { shape: number[]; data: Float32Array | Int32Array }, depthwise: boolean): { dims: number[]; data: Float32Array } => {
    const [H, W, I, O] = w.shape as [number, number, number, number];
    const src = w.data as Float32Array;
    // depthwise: tfjs [H,W,C,M] → ONNX [C*M, 1, H, W]; conv: [H,W,I,O] → [O,I,H,W]
    const outC = depthwise ? I * O : O;
    const inC = depthwise ? 1 : I;
    const out = new Float32Array(src.length);
    for (let h = 0; h < H; h++)
      for (let x = 0; x < W; x++)
        for (let i = 0; i < I; i++)
          for (let o = 0; o < O; o++) {
            const s = ((h * W + x) * I + i) * O + o;
            const oc = depthwise ? i * O + o : o;
            const ic = depthwise ? 0 : i;
            out[((oc * inC + ic) * H + h) * W + x] = src[s]!;
          }
    return { dims: [outC, inC, H, W], data: out };
  };
  const convAttrs = (n: TfNode, kernelH: number, kernelW: number, where: string) => {
    const fmt = decodeAttrString(n.attr?.data_format) ?? 'NHWC';
    if (fmt !== 'NHWC') fail(where, `data_format ${fmt} is not supported`);
    const strides = (n.attr?.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
    const dil = (n.attr?.dilations?.list?.i ?? ['1', '1', '1', '1']).map(Number);
    const padding = decodeAttrString(n.attr?.padding);
    if (padding !== 'SAME' && padding !== 'VALID') fail(where, `padding ${padding} is not supported`);
    return {
      kernel_shape: [kernelH, kernelW],
      strides: [strides[1]!, strides[2]!],
      dilations: [dil[1]!, dil[2]!],
      // TF's SAME puts the odd padding pixel at the end, which is ONNX's SAME_UPPER.
      auto_pad: padding === 'SAME' ? 'SAME_UPPER' : 'VALID',
    } as Record<string, number | string | number[]>;
  };
  const toNhwc = (v: { name: string; nchw: boolean }, base: string): string => {
    if (!v.nchw) return v.name;
    const out = fresh(`${base}/nhwc`);
    onnxNodes.push({ op: 'Transpose', name: out, inputs: [v.name], outputs: [out], attrs: { perm: [0, 2, 3, 1] } });
    return out;
  };

  /**
   * An element-wise op on a 4-D feature map (NCHW inside) and either another feature map or a constant
   * that broadcasts over channels (a scalar, [C] or [1,1,1,C]: batch-norm scales and offsets, ReLU6's
   * clip values), which is laid out as [1,C,1,1]. Returns false when neither input is a feature map.
   */
  const nchwElementwise = (n: TfNode, ins: string[], op: string | undefined, where: string): boolean => {
    const sides = ins.slice(0, 2).map((i) => ({ i, v: values.get(tensorKey(i)), w: weights.get(i.split(':')[0]!) }));
    if (!sides.some((s) => s.v?.nchw)) return false;
    if (!op) fail(where, 'this op is not converted on a 4-D feature map');
    const names = sides.map((s) => {
      if (s.v) {
        if (!s.v.nchw) fail(where, `input ${s.i} is not a 4-D feature map like the other`);
        return s.v.name;
      }
      if (!s.w || s.w.dtype !== 'float32') return fail(where, `input ${s.i} is neither a feature map nor a float constant`);
      const size = s.w.data.length;
      const channelsOnly = s.w.shape.length <= 1 || s.w.shape.slice(0, -1).every((d) => d === 1);
      if (!channelsOnly) fail(where, `constant ${s.i} of shape [${s.w.shape.join(',')}] does not broadcast over channels only`);
      return addFloatInit(`${n.name}/c`, size === 1 ? [] : [1, size, 1, 1], Float32Array.from(s.w.data));
    });
    onnxNodes.push({ op: op!, name: n.name, inputs: names, outputs: [n.name], attrs: {} });
    values.set(n.name, { name: n.name, nchw: true });
    return true;
  };

  for (const n of nodes!) {
    const where = `node "${n.name}" (${n.op})`;
    const ins = (n.input ?? []).filter((i) => !i.startsWith('^'));
    switch (n.op) {
      case 'Const':
        break; // weights are looked up by name when a node uses them
      case 'Placeholder': {
        const shape = (n.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
        const dtype = tfDtype(n.attr?.dtype, 'float') ?? fail(where, `input dtype ${n.attr?.dtype?.type} is not supported`);
        if (shape.length === 4 && dtype === 'float') {
          // A vision input: NHWC outside, NCHW inside.
          if (inputs.length) fail(where, 'more than one image input is not supported');
          const t = fresh(`${n.name}/nchw`);
          onnxNodes.push({ op: 'Transpose', name: t, inputs: [n.name], outputs: [t], attrs: { perm: [0, 3, 1, 2] } });
          values.set(n.name, { name: t, nchw: true });
        } else {
          if (inputs.some((i) => i.shape.length === 4 && i.dtype === 'float')) fail(where, 'an image input with other inputs is not supported');
          values.set(n.name, { name: n.name, nchw: false, dtype, rank: shape.length });
        }
        inputs.push({ name: n.name, shape, dtype });
        break;
      }
      case '_FusedConv2D':
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const x = valueOf(ins[0]!, where);
        if (!x.nchw && n.op === 'Conv2D') {
          // A 1x1, stride-1 convolution over a TF-layout tensor (USE's attention projections) is a MatMul.
          const w = constOf(ins[1]!, where);
          const strides = (n.attr?.strides?.list?.i ?? ['1', '1', '1', '1']).map(Number);
          const dil = (n.attr?.dilations?.list?.i ?? ['1', '1', '1', '1']).map(Number);
          if (w.shape.length !== 4 || w.shape[0] !== 1 || w.shape[1] !== 1 || strides.some((x) => x !== 1) || dil.some((x) => x !== 1)) {
            fail(where, `only a 1x1, stride-1 convolution is converted outside an image graph (kernel [${w.shape.join(',')}])`);
          }
          const kernel = addFloatInit(`${n.name}/W`, [w.shape[2]!, w.shape[3]!], Float32Array.from(w.data));
          onnxNodes.push({ op: 'MatMul', name: n.name, inputs: [x.name, kernel], outputs: [n.name], attrs: {} });
          values.set(n.name, { name: n.name, nchw: false, dtype: 'float' });
          break;
        }
        if (!x.nchw) fail(where, 'input is not a 4-D feature map');
        const depthwise = n.op === 'DepthwiseConv2dNative';
        const w = constOf(ins[1]!, where);
        if (w.shape.length !== 4) fail(where, `kernel shape [${w.shape.join(',')}] is not 4-D`);
        const k = transposeKernel(w, depthwise);
        const inputs = [x.name, addFloatInit(`${n.name}/W`, k.dims, k.data)];
        const fused = (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
        let relu = false;
        if (n.op === '_FusedConv2D') {
          if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] !== undefined && fused[1] !== 'Relu')) {
            fail(where, `fused ops [${fused.join(', ')}] are not supported (BiasAdd[, Relu] are)`);
          }
          const b = constOf(ins[2]!, where);
          inputs.push(addFloatInit(`${n.name}/B`, [b.data.length], Float32Array.from(b.data)));
          relu = fused[1] === 'Relu';
        }
        const attrs = convAttrs(n, w.shape[0]!, w.shape[1]!, where);
        if (depthwise) attrs.group = w.shape[2]!;
        const conv = relu ? fresh(`${n.name}/conv`) : n.name;
        onnxNodes.push({ op: 'Conv', name: conv, inputs, outputs: [conv], attrs });
        if (relu) onnxNodes.push({ op: 'Relu', name: n.name, inputs: [conv], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: true });
        break;
      }
      case 'MaxPool': {
        const x = valueOf(ins[0]!, where);
        if (!x.nchw) fail(where, 'input is not a 4-D feature map');
        const ksize = (n.attr?.ksize?.list?.i ?? []).map(Number);
        const attrs = convAttrs(n, ksize[1]!, ksize[2]!, where);
        delete attrs.dilations;
        onnxNodes.push({ op: 'MaxPool', name: n.name, inputs: [x.name], outputs: [n.name], attrs });
        values.set(n.name, { name: n.name, nchw: true });
        break;
      }
      case 'AddV2':
      case 'Add': {
        const map = nchwElementwise(n, ins, 'Add', where);
        if (map) break;
        const a = valueOf(ins[0]!, where);
        const b = valueOf(ins[1]!, where);
        if (a.nchw !== b.nchw) fail(where, 'adding tensors of different layouts is not supported');
        onnxNodes.push({ op: 'Add', name: n.name, inputs: [a.name, b.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: a.nchw, ...(a.dtype ? { dtype: a.dtype } : {}) });
        break;
      }
      case '_FusedMatMul': {
        // MatMul + BiasAdd [+ Relu] on a flat [N, K] tensor (dense layers after a flatten or a pooling).
        const x = plain(ins[0]!, where);
        const w = constOf(ins[1]!, where);
        const fused = (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
        if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] !== undefined && fused[1] !== 'Relu')) {
          fail(where, `fused ops [${fused.join(', ')}] are not supported (BiasAdd[, Relu] are)`);
        }
        if (n.attr?.transpose_a?.b || w.shape.length !== 2) fail(where, 'only x·W with a 2-D constant W is supported');
        const [K, M] = n.attr?.transpose_b?.b ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
        let kernel = Float32Array.from(w.data);
        if (n.attr?.transpose_b?.b) {
          kernel = new Float32Array(K * M);
          for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) kernel[k * M + i] = w.data[i * K + k]!;
        }
        const b = constOf(ins[2]!, where);
        const mm = emit('MatMul', [x.name, addFloatInit(`${n.name}/W`, [K, M], kernel)], {}, `${n.name}/matmul`);
        const relu = fused[1] === 'Relu';
        const add = relu ? fresh(`${n.name}/bias`) : n.name;
        onnxNodes.push({ op: 'Add', name: add, inputs: [mm, addFloatInit(`${n.name}/B`, [b.data.length], Float32Array.from(b.data))], outputs: [add], attrs: {} });
        if (relu) onnxNodes.push({ op: 'Relu', name: n.name, inputs: [add], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: 'float', rank: 2 });
        break;
      }
      case 'Relu':
      case 'Identity': {
        const x = valueOf(ins[0]!, where);
        onnxNodes.push({ op: n.op, name: n.name, inputs: [x.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: x.nchw, ...(x.dtype ? { dtype: x.dtype } : {}), ...(x.rank !== undefined ? { rank: x.rank } : {}) });
        break;
      }
      case 'Softmax': {
        const x = valueOf(ins[0]!, where);
        if (x.nchw) fail(where, 'softmax over a 4-D feature map is not supported');
        onnxNodes.push({ op: 'Softmax', name: n.name, inputs: [x.name], outputs: [n.name], attrs: { axis: -1 } });
        values.set(n.name, { name: n.name, nchw: false });
        break;
      }
      case 'Mean': {
        const x = valueOf(ins[0]!, where);
        const axes = Array.from(constOf(ins[1]!, where).data);
        if (!x.nchw) {
          onnxNodes.push({ op: 'ReduceMean', name: n.name, inputs: [x.name], outputs: [n.name], attrs: { axes, keepdims: n.attr?.keep_dims?.b === true ? 1 : 0 } });
          values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float' });
          break;
        }
        if (!x.nchw || axes.length !== 2 || !axes.includes(1) || !axes.includes(2)) {
          fail(where, `only a spatial mean (axes 1,2 of NHWC) is supported, found axes [${axes.join(',')}]`);
        }
        const keep = n.attr?.keep_dims?.b === true;
        onnxNodes.push({ op: 'ReduceMean', name: n.name, inputs: [x.name], outputs: [n.name], attrs: { axes: [2, 3], keepdims: keep ? 1 : 0 } });
        values.set(n.name, { name: n.name, nchw: keep });
        break;
      }
      case 'Pad': {
        const x = valueOf(ins[0]!, where);
        const p = Array.from(constOf(ins[1]!, where).data);
        if (p.length !== 8 || !x.nchw) fail(where, 'only padding of a 4-D feature map is supported');
        // TF [[n0,n1],[h0,h1],[w0,w1],[c0,c1]] → ONNX NCHW begins then ends.
        const pads = [p[0]!, p[6]!, p[2]!, p[4]!, p[1]!, p[7]!, p[3]!, p[5]!];
        onnxNodes.push({ op: 'Pad', name: n.name, inputs: [x.name, addInt64Init(`${n.name}/pads`, pads)], outputs: [n.name], attrs: { mode: 'constant' } });
        values.set(n.name, { name: n.name, nchw: true });
        break;
      }
      case 'Reshape': {
        const x = valueOf(ins[0]!, where);
        if (!weights.has(ins[1]!.split(':')[0]!)) {
          // A shape computed in the graph (dynamic sequence length): TF's int32 values are int64 here.
          const shape = plain(ins[1]!, where);
          onnxNodes.push({ op: 'Reshape', name: n.name, inputs: [toNhwc(x, n.name), shape.name], outputs: [n.name], attrs: {} });
          values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float' });
          break;
        }
        const shape = Array.from(constOf(ins[1]!, where).data);
        // Reshape reads memory in tfjs's NHWC order, so undo the internal layout first.
        const src = toNhwc(x, n.name);
        onnxNodes.push({ op: 'Reshape', name: n.name, inputs: [src, addInt64Init(`${n.name}/shape`, shape)], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false });
        break;
      }
      // ---- op for op, TF layout (graphs without an image input) ----
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum':
      case 'Less':
      case 'Greater':
      case 'LessEqual':
      case 'GreaterEqual':
      case 'Equal':
      case 'BiasAdd': {
        if (n.op !== 'BiasAdd' && nchwElementwise(n, ins, ({ Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min' } as Record<string, string>)[n.op], where)) break;
        const a = plain(ins[0]!, where);
        const b = plain(ins[1]!, where);
        if (n.op === 'BiasAdd' && (decodeAttrString(n.attr?.data_format) ?? 'NHWC') !== 'NHWC') fail(where, 'only NHWC (bias on the last axis) is supported');
        const op = ({ Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min', Less: 'Less', Greater: 'Greater', LessEqual: 'LessOrEqual', GreaterEqual: 'GreaterOrEqual', Equal: 'Equal', BiasAdd: 'Add' } as Record<string, string>)[n.op]!;
        onnxNodes.push({ op, name: n.name, inputs: [a.name, b.name], outputs: [n.name], attrs: {} });
        const compares = ['Less', 'Greater', 'LessEqual', 'GreaterEqual', 'Equal'].includes(n.op);
        values.set(n.name, { name: n.name, nchw: false, dtype: compares ? 'bool' : (a.dtype ?? 'float') });
        break;
      }
      case 'Sin':
      case 'Cos':
      case 'Tanh':
      case 'Sqrt':
      case 'Exp':
      case 'Neg':
      case 'Sigmoid':
      case 'LogicalNot':
      case 'Rsqrt':
      case 'Square': {
        const x = plain(ins[0]!, where);
        if (n.op === 'Rsqrt') {
          onnxNodes.push({ op: 'Reciprocal', name: n.name, inputs: [emit('Sqrt', [x.name], {}, `${n.name}/sqrt`)], outputs: [n.name], attrs: {} });
        } else if (n.op === 'Square') {
          onnxNodes.push({ op: 'Mul', name: n.name, inputs: [x.name, x.name], outputs: [n.name], attrs: {} });
        } else {
          onnxNodes.push({ op: n.op === 'LogicalNot' ? 'Not' : n.op, name: n.name, inputs: [x.name], outputs: [n.name], attrs: {} });
        }
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', ...(x.rank !== undefined ? { rank: x.rank } : {}) });
        break;
      }
      case 'Cast': {
        const x = plain(ins[0]!, where);
        const to = tfDtype(n.attr?.DstT) ?? fail(where, `cast to ${n.attr?.DstT?.type} is not supported`);
        onnxNodes.push({ op: 'Cast', name: n.name, inputs: [x.name], outputs: [n.name], attrs: { to: ONNX_TYPE[to] } });
        values.set(n.name, { name: n.name, nchw: false, dtype: to });
        break;
      }
      case 'Shape': {
        const x = plain(ins[0]!, where);
        onnxNodes.push({ op: 'Shape', name: n.name, inputs: [x.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: 'int64', rank: 1 });
        break;
      }
      case 'Where': {
        // One-argument Where: coordinates of the true elements, [N, rank] int64 = transposed NonZero.
        if (ins.length !== 1) fail(where, 'only the one-argument Where (coordinates of true elements) is supported');
        const x = plain(ins[0]!, where);
        onnxNodes.push({ op: 'Transpose', name: n.name, inputs: [emit('NonZero', [x.name], {}, `${n.name}/nonzero`)], outputs: [n.name], attrs: { perm: [1, 0] } });
        values.set(n.name, { name: n.name, nchw: false, dtype: 'int64', rank: 2 });
        break;
      }
      case 'StridedSlice': {
        const x = plain(ins[0]!, where);
        const begin = ints(ins[1]!, where);
        const end = ints(ins[2]!, where);
        const strides = ints(ins[3]!, where);
        const mask = (k: string) => Number(n.attr?.[k]?.i ?? 0);
        if (mask('ellipsis_mask') || mask('new_axis_mask')) fail(where, 'ellipsis and new-axis masks are not supported');
        const [bm, em, sm] = [mask('begin_mask'), mask('end_mask'), mask('shrink_axis_mask')];
        const starts: number[] = [];
        const ends: number[] = [];
        const shrink: number[] = [];
        begin.forEach((b, i) => {
          const bit = 1 << i;
          const step = strides[i] ?? 1;
          if (sm & bit) {
            // One element, then the axis goes.
            starts.push(b);
            ends.push(b === -1 ? TO_END : b + 1);
            shrink.push(i);
            return;
          }
          starts.push(bm & bit ? (step > 0 ? 0 : TO_END) : b);
          ends.push(em & bit ? (step > 0 ? TO_END : -TO_END) : end[i]!);
        });
        const axes = begin.map((_, i) => i);
        const slice = [x.name, addInt64Init(`${n.name}/starts`, starts), addInt64Init(`${n.name}/ends`, ends), addInt64Init(`${n.name}/axes`, axes), addInt64Init(`${n.name}/steps`, strides)];
        if (shrink.length) {
          onnxNodes.push({ op: 'Squeeze', name: n.name, inputs: [emit('Slice', slice, {}, `${n.name}/slice`), addInt64Init(`${n.name}/shrink`, shrink)], outputs: [n.name], attrs: {} });
        } else onnxNodes.push({ op: 'Slice', name: n.name, inputs: slice, outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', ...(x.rank !== undefined ? { rank: x.rank - shrink.length } : {}) });
        break;
      }
      case 'Slice': {
        const x = plain(ins[0]!, where);
        const begin = ints(ins[1]!, where);
        const size = ints(ins[2]!, where);
        const ends = begin.map((b, i) => (size[i] === -1 ? TO_END : b + size[i]!));
        onnxNodes.push({ op: 'Slice', name: n.name, inputs: [x.name, addInt64Init(`${n.name}/starts`, begin), addInt64Init(`${n.name}/ends`, ends), addInt64Init(`${n.name}/axes`, begin.map((_, i) => i))], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', ...(x.rank !== undefined ? { rank: x.rank } : {}) });
        break;
      }
      case 'GatherV2': {
        const params = plain(ins[0]!, where);
        const indices = plain(ins[1]!, where);
        const axis = ints(ins[2]!, where)[0] ?? 0;
        if (Number(n.attr?.batch_dims?.i ?? 0) !== 0) fail(where, 'batch_dims is not supported');
        onnxNodes.push({ op: 'Gather', name: n.name, inputs: [params.name, indices.name], outputs: [n.name], attrs: { axis } });
        values.set(n.name, { name: n.name, nchw: false, dtype: params.dtype ?? 'float' });
        break;
      }
      case 'GatherNd': {
        const params = plain(ins[0]!, where);
        const indices = plain(ins[1]!, where);
        onnxNodes.push({ op: 'GatherND', name: n.name, inputs: [params.name, indices.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: params.dtype ?? 'float' });
        break;
      }
      case 'ScatterNd':
      case 'SparseToDense': {
        // ScatterNd(indices, updates, shape) writes into zeros; SparseToDense(indices, shape, values, default)
        // into the default. Either is ONNX ScatterND on an Expand-ed fill (the indices here are unique).
        const sparse = n.op === 'SparseToDense';
        const indices = plain(ins[0]!, where);
        const updates = plain(ins[sparse ? 2 : 1]!, where);
        const shape = plain(ins[sparse ? 1 : 2]!, where);
        const dtype = updates.dtype ?? 'float';
        let fill: string;
        if (sparse) fill = plain(ins[3]!, where).name;
        else if (dtype === 'float') fill = addFloatInit(`${n.name}/zero`, [], new Float32Array(1));
        else fill = addInt64Init(`${n.name}/zero`, [0]);
        const base = emit('Expand', [fill, shape.name], {}, `${n.name}/fill`);
        onnxNodes.push({ op: 'ScatterND', name: n.name, inputs: [base, indices.name, updates.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype });
        break;
      }
      case 'Sum':
      case 'Max':
      case 'Min':
      case 'Prod': {
        const x = plain(ins[0]!, where);
        const axes = ints(ins[1]!, where);
        const keepdims = n.attr?.keep_dims?.b === true ? 1 : 0;
        // Opset 13: ReduceSum takes its axes as an input, the others as an attribute.
        if (n.op === 'Sum') onnxNodes.push({ op: 'ReduceSum', name: n.name, inputs: [x.name, addInt64Init(`${n.name}/axes`, axes)], outputs: [n.name], attrs: { keepdims } });
        else onnxNodes.push({ op: `Reduce${n.op}`, name: n.name, inputs: [x.name], outputs: [n.name], attrs: { axes, keepdims } });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float' });
        break;
      }
      case 'ConcatV2':
      case 'Pack': {
        const parts = ins.slice(0, n.op === 'ConcatV2' ? -1 : undefined).map((i) => plain(i, where));
        const axis = n.op === 'ConcatV2' ? ints(ins[ins.length - 1]!, where)[0]! : Number(n.attr?.axis?.i ?? 0);
        // Pack stacks: each part gets the new axis first.
        const names = n.op === 'Pack' ? parts.map((p) => emit('Unsqueeze', [p.name, addInt64Init(`${n.name}/axis`, [axis])], {}, `${n.name}/part`)) : parts.map((p) => p.name);
        onnxNodes.push({ op: 'Concat', name: n.name, inputs: names, outputs: [n.name], attrs: { axis } });
        values.set(n.name, { name: n.name, nchw: false, dtype: parts[0]?.dtype ?? 'float' });
        break;
      }
      case 'ExpandDims': {
        const x = plain(ins[0]!, where);
        const dim = ints(ins[1]!, where);
        onnxNodes.push({ op: 'Unsqueeze', name: n.name, inputs: [x.name, addInt64Init(`${n.name}/axes`, dim)], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', ...(x.rank !== undefined ? { rank: x.rank + 1 } : {}) });
        break;
      }
      case 'Squeeze': {
        const x = plain(ins[0]!, where);
        const dims = (n.attr?.squeeze_dims?.list?.i ?? []).map(Number);
        onnxNodes.push({ op: 'Squeeze', name: n.name, inputs: dims.length ? [x.name, addInt64Init(`${n.name}/axes`, dims)] : [x.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', ...(x.rank !== undefined && dims.length ? { rank: x.rank - dims.length } : {}) });
        break;
      }
      case 'SplitV': {
        const x = plain(ins[0]!, where);
        const sizes = ints(ins[1]!, where);
        const axis = ints(ins[2]!, where)[0]!;
        if (sizes.some((v) => v < 0)) fail(where, 'a split size of -1 is not supported');
        const outs = sizes.map((_, k) => (k === 0 ? n.name : `${n.name}:${k}`));
        onnxNodes.push({ op: 'Split', name: n.name, inputs: [x.name, addInt64Init(`${n.name}/split`, sizes)], outputs: outs, attrs: { axis } });
        outs.forEach((o) => values.set(o, { name: o, nchw: false, dtype: x.dtype ?? 'float' }));
        break;
      }
      case 'Transpose': {
        const x = plain(ins[0]!, where);
        const perm = ints(ins[1]!, where);
        onnxNodes.push({ op: 'Transpose', name: n.name, inputs: [x.name], outputs: [n.name], attrs: { perm } });
        values.set(n.name, { name: n.name, nchw: false, dtype: x.dtype ?? 'float', rank: perm.length });
        break;
      }
      case 'MatMul':
      case 'BatchMatMul':
      case 'BatchMatMulV2': {
        const a = plain(ins[0]!, where);
        const b = plain(ins[1]!, where);
        const [ta, tb] = n.op === 'MatMul' ? [n.attr?.transpose_a?.b, n.attr?.transpose_b?.b] : [n.attr?.adj_x?.b, n.attr?.adj_y?.b];
        // Swapping the last two axes needs the rank, which the converter knows for the values it shaped.
        const swapLast = (v: Value, side: string) => {
          const rank = v.rank ?? (n.op === 'MatMul' ? 2 : undefined);
          if (rank === undefined) fail(where, `the rank of the ${side} operand is unknown, so its adjoint cannot be converted`);
          const perm = Array.from({ length: rank! }, (_, i) => i);
          [perm[rank! - 2], perm[rank! - 1]] = [perm[rank! - 1]!, perm[rank! - 2]!];
          return emit('Transpose', [v.name], { perm }, `${n.name}/${side}T`);
        };
        onnxNodes.push({ op: 'MatMul', name: n.name, inputs: [ta ? swapLast(a, 'a') : a.name, tb ? swapLast(b, 'b') : b.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: 'float', ...(a.rank !== undefined ? { rank: a.rank } : {}) });
        break;
      }
      case 'Range': {
        const [start, limit, delta] = ins.map((i) => plain(i, where));
        onnxNodes.push({ op: 'Range', name: n.name, inputs: [start!.name, limit!.name, delta!.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false, dtype: start!.dtype ?? 'float', rank: 1 });
        break;
      }
      default:
        fail(where, `op ${n.op} is not supported by Hearth's converter`);
    }
  }
  if (!inputs.length) fail('graph', 'no Placeholder input');

  // Outputs: the graph's sinks (nodes nobody consumes), in graph order.
  const outputs: { name: string; dtype: Dtype }[] = [];
  for (const name of options.extraOutputs ?? []) {
    const v = values.get(tensorKey(name)) ?? fail(`output ${name}`, 'no node of the graph produces it');
    if (v.nchw) fail(`output ${name}`, 'a 4-D feature map cannot be an extra output');
    outputs.push({ name: v.name, dtype: v.dtype ?? 'float' });
  }
  for (const n of nodes!) {
    if (n.op === 'Const' || n.op === 'Placeholder' || consumers.has(n.name)) continue;
    const v = values.get(n.name)!;
    if (v.nchw) {
      const t = toNhwc(v, n.name);
      onnxNodes.push({ op: 'Identity', name: fresh(`${n.name}/out`), inputs: [t], outputs: [`${n.name}:out`], attrs: {} });
      outputs.push({ name: `${n.name}:out`, dtype: 'float' });
    } else outputs.push({ name: v.name, dtype: v.dtype ?? 'float' });
  }
  if (!outputs.length) fail('graph', 'no output');

  return {
    onnx: encodeModel(inputs, outputs, onnxNodes, initializers, source),
    inputName: inputs[0]!.name,
    inputShape: inputs[0]!.shape,
    inputs,
    outputNames: outputs.map((o) => o.name),
    ops,
  };
}

function encodeModel(
  inputs: ConvertedInput[],
  outputs: { name: string; dtype: Dtype }[],
  nodes: OnnxNode[],
  initializers: Initializer[],
  source: string,
): Uint8Array {
  const valueInfo = (name: string, dtype: Dtype, shape?: number[]) => {
    const tensorType = new ProtoWriter().int(1, ONNX_TYPE[dtype]);
    if (shape) {
      const s = new ProtoWriter();
      shape.forEach((d, i) => s.message(1, d >= 0 ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, i === 0 ? 'N' : `d${i}`)));
      tensorType.message(2, s);
    }
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  };
  const graph = new ProtoWriter();
  for (const n of nodes) {
    const node = new ProtoWriter();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, n.name).string(4, n.op);
    for (const [key, value] of Object.entries(n.attrs)) {
      const a = new ProtoWriter().string(1, key);
      if (typeof value === 'string') a.bytes(4, new TextEncoder().encode(value)).int(20, 3);
      else if (Array.isArray(value)) {
        for (const v of value) a.int(8, v);
        a.int(20, 7);
      } else a.int(3, value).int(20, 2);
      node.message(5, a);
    }
    graph.message(1, node);
  }
  graph.string(2, source);
  for (const init of initializers) {
    const t = new ProtoWriter();
    for (const d of init.dims) t.int(1, d);
    t.int(2, init.type === 'float32' ? ONNX_FLOAT : ONNX_INT64).string(8, init.name);
    t.bytes(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
    graph.message(5, t);
  }
  for (const i of inputs) graph.message(11, valueInfo(i.name, i.dtype, i.shape));
  for (const o of outputs) graph.message(12, valueInfo(o.name, o.dtype));
  return new ProtoWriter()
    .int(1, 8) // ir_version 8 pairs with opset 13
    .string(2, 'hearth-tfjs-to-onnx')
    .string(3, '1')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
    .finish();
}

/** IEEE 754 half precision (as tfjs stores float16-quantized weights) to a JavaScript number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
