/**
 * `npm run train:safeguards`: fit the learned safeguard layer from the training half of the corpus
 * and write `behaviors/safeguards/model/safeguard-model.json`. Deterministic: the same files give
 * the same artefact byte for byte. `--check` trains again and fails (exit 1) if the committed
 * artefact differs, e.g. because the corpus changed without retraining.
 * Options: --features embedding|embedding+rules  --l2 N  --k N  --out FILE  --report (CV table only)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseLabelledSet } from '../behaviors/safeguards/evaluate.js';
import { DEFAULT_TRAIN_SETTINGS, fitPrepared, prepareCases, type TrainSettings } from '../behaviors/safeguards/learned/fit-artefact.js';
import { defaultModelPath } from '../behaviors/safeguards/learned/model.js';
import { packageRoot } from '../data/index.js';
import { cachedEncoder, loadDefaultEncoder } from './safeguard-encoder.js';

/** Version of the shipped artefact; bump when the corpus or settings change. */
export const MODEL_VERSION = '2.0.0';

const root = packageRoot();
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

/** The training files, in a fixed order: the corpus's training half, then the earlier dev and fresh sets. */
export function trainingFiles(): string[] {
  const dir = join(root, 'behaviors', 'safeguards', 'corpus', 'train');
  const corpus = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(dir, f));
  return [...corpus, join(root, 'test', 'fixtures', 'safeguards', 'dev.jsonl'), join(root, 'test', 'fixtures', 'safeguards', 'fresh.jsonl')];
}

/** Render an artefact with one label per block and its weights on one line (small diffs, readable). */
export function renderArtefact(artefact: object): string {
  return `${JSON.stringify(artefact, null, 2).replace(/\[\s+(-?[\d.e+-]+(,\s+-?[\d.e+-]+)*)\s+\]/g, (_m, body: string) => `[${body.replace(/\s+/g, '')}]`)}\n`;
}

/** Where two artefacts differ beyond numeric noise (relative 1e-4, or 1e-6 absolute near 0), or null. */
export function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= Math.max(1e-6, 1e-4 * Math.max(Math.abs(a), Math.abs(b))) ? null : `${at || 'value'}: ${a} vs ${b}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${at}: ${a.length} vs ${b.length} entries`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${at || 'value'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

async function main(): Promise<void> {
  const settings: TrainSettings = {
    ...DEFAULT_TRAIN_SETTINGS,
    ...(opt('features') ? { features: opt('features') as TrainSettings['features'] } : {}),
    ...(opt('l2') ? { l2: Number(opt('l2')) } : {}),
    ...(opt('k') ? { k: Number(opt('k')) } : {}),
  };
  const files = trainingFiles();
  const cases = files.flatMap((f) => parseLabelledSet(relative(root, f), readFileSync(f, 'utf8')));
  const encoder = await loadDefaultEncoder();
  const started = Date.now();
  const prepared = await prepareCases(cases, cachedEncoder(encoder), settings.windowTurns);
  const { artefact } = fitPrepared(prepared, settings, {
    version: MODEL_VERSION,
    encoder: { id: encoder.id, dimension: encoder.dimension },
    files: files.map((f) => {
      const text = readFileSync(f, 'utf8');
      return { path: relative(root, f), sha256: createHash('sha256').update(text).digest('hex'), cases: text.split('\n').filter((l) => l.trim()).length };
    }),
  });
  for (const [label, m] of Object.entries(artefact.labels)) {
    console.log(JSON.stringify({ train: 'safeguards', label, threshold: m.threshold, cv_recall: m.cv.recall, cv_fpr: m.cv.fpr, positives: m.cv.positives, negatives: m.cv.negatives }));
  }
  console.log(JSON.stringify({ train: 'safeguards', cases: cases.length, features: settings.features, l2: settings.l2, k: settings.k, seconds: Math.round((Date.now() - started) / 100) / 10 }));
  if (args.includes('--report')) return;
  const out = opt('out') ?? defaultModelPath();
  const text = renderArtefact(artefact);
  if (args.includes('--check')) {
    const committed = readFileSync(out, 'utf8');
    if (committed === text) {
      console.log(`${relative(root, out)} matches a fresh training run byte for byte`);
      return;
    }
    // On another CPU onnxruntime's vectors differ in the 7th significant digit, and so do the weights
    // fitted on them: the artefact is then the same model within a relative 1e-4, which is what counts.
    const difference = firstDifference(JSON.parse(committed), JSON.parse(text), '');
    if (difference) {
      console.error(`${relative(root, out)} differs from a fresh training run on the same files (${difference}): retrain with \`npm run train:safeguards\``);
      process.exit(1);
    }
    console.log(`${relative(root, out)} matches a fresh training run within a relative 1e-4 (numbers differ in the last digits, as vectors do across CPUs)`);
    return;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${relative(root, out)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
