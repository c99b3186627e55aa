// Hearth's converter from a TensorFlow.js graph model (model.json + weights.bin) to ONNX.
// It covers the op set of the small vision models Hearth uses (emotion, BlazeFace):
// _FusedConv2D (BiasAdd[, Relu]), DepthwiseConv2dNative, MaxPool, AddV2, Relu, Mean, Softmax, Pad,
// Reshape, Identity. The ONNX graph keeps the tfjs NHWC interface (a Transpose at the input) and runs
// NCHW inside, which is what onnxruntime's CPU kernels are fastest at.
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
  type?: string;
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
  inputName: string;
  inputShape: number[];
  outputNames: string[];
  /** tfjs op type → count, as found in the source graph. */
  ops: Record<string, number>;
}

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const OPSET = 13;

const decodeAttrString = (v: TfAttrValue | undefined): string | undefined =>
  v?.s === undefined ? undefined : Buffer.from(v.s, 'base64').toString('utf8');

/** Convert a parsed tfjs `model.json` and its concatenated weight files to ONNX bytes. */
export function convertTfjsGraphToOnnx(modelJson: unknown, weightBytes: Uint8Array, source = 'model.json'): ConversionResult {
  const fail = (where: string, problem: string): never => {
    throw new ConversionError(`${source}: ${where}: ${problem}`);
  };
  if (typeof modelJson !== 'object' || modelJson === null) fail('top level', 'not a JSON object');
  const model = modelJson as { format?: string; modelTopology?: { node?: TfNode[] }; weightsManifest?: { weights?: TfWeight[] }[] };
  if (model.format !== 'graph-model') fail('format', `expected "graph-model", found ${JSON.stringify(model.format)}`);
  const nodes = model.modelTopology?.node;
  if (!Array.isArray(nodes)) fail('modelTopology.node', 'missing or not an array');
  if (!Array.isArray(model.weightsManifest)) fail('weightsManifest', 'missing or not an array');

  // Weights: all groups' weights laid end to end, in manifest order.
  const weights = new Map<string, { shape: number[]; dtype: string; data: Float32Array | Int32Array }>();
  let offset = 0;
  for (const group of model.weightsManifest!) {
    for (const w of group.weights ?? []) {
      if (!Array.isArray(w.shape)) fail(`weight ${w.name}`, 'shape missing');
      if ((w as { quantization?: unknown }).quantization) fail(`weight ${w.name}`, 'quantized weights are not supported');
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') fail(`weight ${w.name}`, `dtype ${w.dtype} is not supported`);
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
  // For every tfjs tensor name: the ONNX value holding it and whether that value is NCHW (transposed).
  const values = new Map<string, { name: string; nchw: boolean }>();
  const consumers = new Map<string, number>();
  for (const n of nodes!) for (const i of n.input ?? []) consumers.set(i.split(':')[0]!, (consumers.get(i.split(':')[0]!) ?? 0) + 1);

  let inputName = '';
  let inputShape: number[] = [];
  let uid = 0;
  const fresh = (base: string) => `${base}__${uid++}`;

  const constOf = (name: string, where: string) => {
    const w = weights.get(name.split(':')[0]!);
    if (!w) fail(where, `input ${name} is not a constant with weights`);
    return w!;
  };
  const valueOf = (name: string, where: string) => {
    const v = values.get(name.split(':')[0]!);
    if (!v) fail(where, `input ${name} is not produced by an earlier node (graph not in topological order?)`);
    return v!;
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

  for (const n of nodes!) {
    const where = `node "${n.name}" (${n.op})`;
    const ins = (n.input ?? []).filter((i) => !i.startsWith('^'));
    switch (n.op) {
      case 'Const':
        break; // weights are looked up by name when a node uses them
      case 'Placeholder': {
        if (inputName) fail(where, 'more than one input is not supported');
        inputName = n.name;
        inputShape = (n.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
        if (inputShape.length !== 4) fail(where, `expected a 4-D NHWC input, found shape [${inputShape.join(',')}]`);
        const t = fresh(`${n.name}/nchw`);
        onnxNodes.push({ op: 'Transpose', name: t, inputs: [n.name], outputs: [t], attrs: { perm: [0, 3, 1, 2] } });
        values.set(n.name, { name: t, nchw: true });
        break;
      }
      case '_FusedConv2D':
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const x = valueOf(ins[0]!, where);
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
        const a = valueOf(ins[0]!, where);
        const b = valueOf(ins[1]!, where);
        if (a.nchw !== b.nchw) fail(where, 'adding tensors of different layouts is not supported');
        onnxNodes.push({ op: 'Add', name: n.name, inputs: [a.name, b.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: a.nchw });
        break;
      }
      case 'Relu':
      case 'Identity': {
        const x = valueOf(ins[0]!, where);
        onnxNodes.push({ op: n.op, name: n.name, inputs: [x.name], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: x.nchw });
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
        const shape = Array.from(constOf(ins[1]!, where).data);
        // Reshape reads memory in tfjs's NHWC order, so undo the internal layout first.
        const src = toNhwc(x, n.name);
        onnxNodes.push({ op: 'Reshape', name: n.name, inputs: [src, addInt64Init(`${n.name}/shape`, shape)], outputs: [n.name], attrs: {} });
        values.set(n.name, { name: n.name, nchw: false });
        break;
      }
      default:
        fail(where, `op ${n.op} is not supported by Hearth's converter`);
    }
  }
  if (!inputName) fail('graph', 'no Placeholder input');

  // Outputs: the graph's sinks (nodes nobody consumes), in graph order.
  const outputs: string[] = [];
  for (const n of nodes!) {
    if (n.op === 'Const' || n.op === 'Placeholder' || consumers.has(n.name)) continue;
    const v = values.get(n.name)!;
    if (v.nchw) {
      const t = toNhwc(v, n.name);
      onnxNodes.push({ op: 'Identity', name: fresh(`${n.name}/out`), inputs: [t], outputs: [`${n.name}:out`], attrs: {} });
      outputs.push(`${n.name}:out`);
    } else outputs.push(v.name);
  }
  if (!outputs.length) fail('graph', 'no output');

  return { onnx: encodeModel(inputName, inputShape, outputs, onnxNodes, initializers, source), inputName, inputShape, outputNames: outputs, ops };
}

function encodeModel(
  inputName: string,
  inputShape: number[],
  outputs: string[],
  nodes: OnnxNode[],
  initializers: Initializer[],
  source: string,
): Uint8Array {
  const valueInfo = (name: string, shape?: number[]) => {
    const tensorType = new ProtoWriter().int(1, ONNX_FLOAT);
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
  graph.message(11, valueInfo(inputName, inputShape));
  for (const o of outputs) graph.message(12, valueInfo(o));
  return new ProtoWriter()
    .int(1, 8) // ir_version 8 pairs with opset 13
    .string(2, 'hearth-tfjs-to-onnx')
    .string(3, '1')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, OPSET))
    .finish();
}
