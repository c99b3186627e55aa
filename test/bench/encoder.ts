// Sentence-encoder benchmark: `npm run bench:encoder` (= taskset -c 0 tsx test/bench/encoder.ts).
// Runs USE lite three ways, each in its own process so load time and memory are its own:
//   onnxruntime  — Hearth's UseLiteEncoder (converted graph, perception/onnx.ts), what the device uses;
//   tfjs-wasm    — the original tfjs graph on @tensorflow/tfjs-backend-wasm, one thread;
//   tfjs-cpu     — the same on @tensorflow/tfjs-backend-cpu (pure JS).
// The tfjs runs use models/vendor/model-embeddings-en-0.2.0 and Hearth's tokeniser, so all three see the
// same token ids. Prints one JSON line per runtime: load_ms (import + load + first call; import_ms of it is
// loading the runtime library), single-sentence
// p50/p95, batch-of-2 p50/p95, a 128-token text p50, rss_added_mb (RSS after the runs minus before the
// runtime library was imported, after a GC; rss_runtime_mb of it is the library, rss_model_mb the loaded
// model) and max_rss_mb (peak, including the file bytes held while loading); then a summary line. BENCH_RUNTIMES=onnxruntime,tfjs-wasm picks runtimes,
// BENCH_N sets the single-sentence iterations (default 200).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const N = Number(process.env.BENCH_N ?? 200);
const RUNTIMES = ['onnxruntime', 'tfjs-wasm', 'tfjs-cpu'] as const;
type Runtime = (typeof RUNTIMES)[number];

// What a participant says to the robot, as the speech recogniser writes it and as typed.
const SENTENCES = [
  'I have been feeling a bit lonely since my daughter moved away.',
  'i dunno i guess it made me think about my brother',
  'That story reminded me of the summer we spent at the lake.',
  'I want to die',
  'Honestly I am fine, just tired today.',
  'my knee has been hurting again and the doctor says it is arthritis',
  'We used to have a dog like that, his name was Rufus.',
  'I do not really want to talk about it right now.',
  'It was nice, thank you for reading it to me.',
  'sometimes i feel like nobody would notice if i was gone',
  'My granddaughter is visiting this weekend and I am so excited.',
  'yeah',
];
const LONG = 'When my husband died the house went quiet, and I started talking to the radio just to hear a voice. '.repeat(8);

const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mb = (bytes: number) => r2(bytes / 1024 / 1024);

type Encode = (texts: string[]) => Promise<unknown>;

/** Load one runtime; returns its encode function. Runs in the child process. */
async function load(runtime: Runtime, imported: () => void): Promise<Encode> {
  const { UseLiteEncoder, SentencePieceTokenizer, USE_LITE_MAX_TOKENS } = await import('../../perception/text/index.js');
  if (runtime === 'onnxruntime') {
    await import('onnxruntime-node');
    imported();
    const encoder = await UseLiteEncoder.load();
    return (texts) => encoder.encode(texts);
  }
  // tfjs: the original graph, fed the same tokens the way @energetic-ai/embeddings feeds it.
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  if (runtime === 'tfjs-wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(1);
    wasm.setWasmPaths(`${join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
  } else require('@tensorflow/tfjs-backend-cpu');
  const { loadGraphModel } = require('@tensorflow/tfjs-converter') as typeof import('@tensorflow/tfjs-converter');
  await tf.setBackend(runtime === 'tfjs-wasm' ? 'wasm' : 'cpu');
  await tf.ready();
  imported();
  const models = process.env.HEARTH_MODELS_DIR ?? join(root, 'models');
  const dir = join(models, 'vendor', 'model-embeddings-en-0.2.0', 'dist');
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weights = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => readFileSync(join(dir, p))));
  const model = await loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
  }));
  const tokenizer = new SentencePieceTokenizer(JSON.parse(readFileSync(join(models, 'use-lite-vocab.json'), 'utf8')));
  return async (texts) => {
    const rows = texts.map((t) => tokenizer.encode(t).slice(0, USE_LITE_MAX_TOKENS));
    const indices = rows.flatMap((r, i) => r.map((_, j) => [i, j]));
    const it = tf.tensor2d(indices, [indices.length, 2], 'int32');
    const vt = tf.tensor1d(rows.flat(), 'int32');
    const out = (await model.executeAsync({ indices: it, values: vt })) as import('@tensorflow/tfjs-core').Tensor;
    const data = await out.data();
    tf.dispose([it, vt, out]);
    return data;
  };
}

async function child(runtime: Runtime): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let importMs = 0;
  let rssImport = rss0;
  const encode = await load(runtime, () => {
    importMs = performance.now() - t0;
    rssImport = process.memoryUsage().rss;
  });
  await encode([SENTENCES[0]!]);
  const loadMs = performance.now() - t0;
  // Memory is measured after a collection: the file bytes read during loading are garbage by then.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const rssLoaded = process.memoryUsage().rss;
  const timed = async (n: number, batch: (i: number) => string[]) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const texts = batch(i);
      const t = performance.now();
      await encode(texts);
      xs.push(performance.now() - t);
    }
    return xs;
  };
  for (let i = 0; i < 10; i++) await encode([SENTENCES[i % SENTENCES.length]!]); // warm up
  const single = await timed(N, (i) => [SENTENCES[i % SENTENCES.length]!]);
  const pair = await timed(Math.ceil(N / 2), (i) => [SENTENCES[i % SENTENCES.length]!, SENTENCES[(i + 5) % SENTENCES.length]!]);
  const long = await timed(Math.ceil(N / 4), () => [LONG]);
  gc();
  console.log(JSON.stringify({
    bench: 'encoder', runtime, load_ms: r2(loadMs), import_ms: r2(importMs),
    single_p50_ms: r2(pct(single, 50)), single_p95_ms: r2(pct(single, 95)),
    batch2_p50_ms: r2(pct(pair, 50)), batch2_p95_ms: r2(pct(pair, 95)),
    tokens128_p50_ms: r2(pct(long, 50)),
    rss_added_mb: mb(process.memoryUsage().rss - rss0), rss_runtime_mb: mb(rssImport - rss0), rss_model_mb: mb(rssLoaded - rssImport), max_rss_mb: r2(process.resourceUsage().maxRSS / 1024), n: single.length,
  }));
}

function parent(): void {
  const pick = (process.env.BENCH_RUNTIMES ?? RUNTIMES.join(',')).split(',').filter((r): r is Runtime => (RUNTIMES as readonly string[]).includes(r));
  const results: Record<string, unknown>[] = [];
  for (const runtime of pick) {
    // Same interpreter and loader as this process (tsx), same CPU affinity (taskset is inherited).
    const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), '--child', runtime], { encoding: 'utf8', env: process.env });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (r.status !== 0 || !line) {
      console.log(JSON.stringify({ bench: 'encoder', runtime, error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') }));
      continue;
    }
    console.log(line);
    results.push(JSON.parse(line));
  }
  const by = (rt: string) => results.find((x) => x.runtime === rt) as Record<string, number> | undefined;
  const onnx = by('onnxruntime');
  const wasm = by('tfjs-wasm');
  console.log(JSON.stringify({
    bench: 'encoder', summary: true, runtimes: results.map((x) => x.runtime),
    ...(onnx && wasm ? { speedup_vs_tfjs_wasm_single_p50: r2(wasm.single_p50_ms! / onnx.single_p50_ms!), rss_saved_vs_tfjs_wasm_mb: r2(wasm.rss_added_mb! - onnx.rss_added_mb!) } : {}),
  }));
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1] as Runtime);
else parent();
