/**
 * The learned safeguard layer's artefact: per-label logistic regressions over sentence-encoder
 * vectors (and, when the artefact says so, the rule scores), with thresholds chosen by
 * cross-validation. Parsing is strict: a damaged artefact is refused with the file and the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../data/index.js';
import { INPUT_LABELS, OUTPUT_LABELS, type InputLabel, type OutputCheckName } from '../types.js';
import { predict, sigmoid, type LinearModel } from './train.js';

/** A label the learned layer scores. */
export type LearnedLabel = InputLabel | OutputCheckName;

/** Which features a model reads. */
export type FeatureSet = 'embedding' | 'embedding+rules';

/** One label's fitted model as stored. */
export interface LabelModel {
  direction: 'input' | 'output';
  weights: number[];
  bias: number;
  threshold: number;
  /** Cross-validated figures of the combined decision (rules OR model) at `threshold`; `fpr` and `negatives` count `none` cases. */
  cv: { k: number; recall: number; fpr: number; positives: number; negatives: number };
}

/** The artefact written by `scripts/train-safeguards.ts`. */
export interface SafeguardModelArtefact {
  format: 'hearth.safeguard-model';
  formatVersion: 1;
  /** Moves whenever weights or thresholds change; goes into every check's version string. */
  version: string;
  encoder: { id: string; dimension: number };
  features: FeatureSet;
  /** How many earlier participant turns the context window joins to the current one. */
  window: { participantTurns: number };
  trainedOn: { files: { path: string; sha256: string; cases: number }[]; cases: number };
  labels: Partial<Record<LearnedLabel, LabelModel>>;
}

/** A model artefact that cannot be used: names the file and the problem. */
export class SafeguardModelError extends Error {
  override readonly name = 'SafeguardModelError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const LABELS: readonly LearnedLabel[] = [...INPUT_LABELS, ...OUTPUT_LABELS];

/** Parse and validate an artefact's JSON text. */
export function parseModelArtefact(source: string, text: string): SafeguardModelArtefact {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new SafeguardModelError(`${source}: not valid JSON (${(cause as Error).message}); re-run \`npm run train:safeguards\` or restore the file from git`, { cause });
  }
  const fail = (where: string, problem: string): never => {
    throw new SafeguardModelError(`${source}: ${where} ${problem}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('top level', 'must be an object');
  const a = raw as Record<string, unknown>;
  if (a.format !== 'hearth.safeguard-model') fail('"format"', `must be "hearth.safeguard-model", got ${JSON.stringify(a.format)}`);
  if (a.formatVersion !== 1) fail('"formatVersion"', `must be 1 (this Hearth reads version 1), got ${JSON.stringify(a.formatVersion)}`);
  if (typeof a.version !== 'string' || !a.version) fail('"version"', 'must be a non-empty string');
  const enc = a.encoder as Record<string, unknown> | undefined;
  if (!enc || typeof enc.id !== 'string' || typeof enc.dimension !== 'number') fail('"encoder"', 'must be {"id": string, "dimension": number}');
  if (a.features !== 'embedding' && a.features !== 'embedding+rules') fail('"features"', 'must be "embedding" or "embedding+rules"');
  const win = a.window as Record<string, unknown> | undefined;
  if (!win || !Number.isInteger(win.participantTurns)) fail('"window.participantTurns"', 'must be an integer');
  const labels = a.labels as Record<string, unknown> | undefined;
  if (!labels || typeof labels !== 'object') fail('"labels"', 'must be an object');
  const dim = (enc as { dimension: number }).dimension;
  for (const [label, m] of Object.entries(labels!)) {
    if (!(LABELS as readonly string[]).includes(label)) fail(`"labels.${label}"`, `is not a label Hearth scores (${LABELS.join(', ')})`);
    const lm = m as Record<string, unknown>;
    const expected = INPUT_LABELS.includes(label as InputLabel) ? 'input' : 'output';
    if (lm.direction !== expected) fail(`"labels.${label}.direction"`, `must be "${expected}"`);
    const extra = a.features === 'embedding+rules' ? ruleFeatureCount(expected) : 0;
    if (!Array.isArray(lm.weights) || lm.weights.length !== dim + extra || !lm.weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
      fail(`"labels.${label}.weights"`, `must be ${dim + extra} finite numbers`);
    }
    if (typeof lm.bias !== 'number' || !Number.isFinite(lm.bias)) fail(`"labels.${label}.bias"`, 'must be a finite number');
    if (typeof lm.threshold !== 'number' || !(lm.threshold > 0 && lm.threshold <= 1)) fail(`"labels.${label}.threshold"`, 'must be in (0, 1]');
  }
  return raw as SafeguardModelArtefact;
}

/** Rule-score features per direction when `features` is `embedding+rules`: one per scored label. */
export function ruleFeatureCount(direction: 'input' | 'output'): number {
  return direction === 'input' ? INPUT_LABELS.length : OUTPUT_LABELS.length;
}


/** A loaded artefact, ready to score vectors. */
export class SafeguardModel {
  readonly artefact: SafeguardModelArtefact;
  private readonly models = new Map<LearnedLabel, LinearModel & { threshold: number }>();

  constructor(artefact: SafeguardModelArtefact) {
    this.artefact = artefact;
    for (const [label, m] of Object.entries(artefact.labels) as [LearnedLabel, LabelModel][]) {
      this.models.set(label, { weights: Float64Array.from(m.weights), bias: m.bias, threshold: m.threshold });
    }
  }

  /** The version string checks record: `model-<version>`. */
  get version(): string {
    return `model-${this.artefact.version}`;
  }

  /** Labels this model scores in a direction. */
  labels(direction: 'input' | 'output'): LearnedLabel[] {
    return [...this.models.keys()].filter((l) => this.artefact.labels[l]!.direction === direction);
  }

  /** The decision threshold of a label. */
  threshold(label: LearnedLabel): number {
    return this.models.get(label)?.threshold ?? 1;
  }

  /**
   * Probability of `label` for an encoder vector; `ruleScores` (scored labels of that direction,
   * in `INPUT_LABELS`/`OUTPUT_LABELS` order) are appended when the artefact was trained with them.
   */
  score(label: LearnedLabel, embedding: ArrayLike<number>, ruleScores: readonly number[] = []): number {
    const m = this.models.get(label);
    if (!m) return 0;
    // The rule scores follow the vector's coordinates in the weights; read them in place (this runs
    // for every label on every piece of every turn, so no concatenated copy).
    if (this.artefact.features === 'embedding') return predict(m, embedding);
    let z = m.bias;
    const w = m.weights;
    const d = embedding.length;
    for (let i = 0; i < d; i++) z += w[i]! * embedding[i]!;
    for (let j = 0; j < ruleScores.length; j++) z += w[d + j]! * ruleScores[j]!;
    return sigmoid(z);
  }
}

/** Where the shipped artefact lives in the package. */
export function defaultModelPath(): string {
  return join(packageRoot(), 'behaviors', 'safeguards', 'model', 'safeguard-model.json');
}

/** Load and validate an artefact file; a missing or damaged file is a `SafeguardModelError` naming it. */
export function loadSafeguardModel(path: string = defaultModelPath()): SafeguardModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SafeguardModelError(`${path}: cannot read the safeguard model (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); restore it from git or re-run \`npm run train:safeguards\``, { cause });
  }
  return new SafeguardModel(parseModelArtefact(path, text));
}
