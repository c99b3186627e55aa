/**
 * Fit the learned layer from labelled cases: one logistic regression per scored label on encoder
 * vectors (optionally plus rule scores), thresholds chosen on out-of-fold scores of the combined
 * decision (rules OR model), and an artefact ready to write. Shared by `npm run train:safeguards`
 * and `hearth safeguards eval --cv K`. Deterministic: the same cases in the same order and the
 * same vectors give the same artefact.
 */
import { runInputChecks } from '../input-checks.js';
import { runOutputChecks } from '../output-checks.js';
import { INPUT_LABELS, OUTPUT_LABELS, type SafeguardContext } from '../types.js';
import { planEncoding, planTexts, type EncodingPlan } from './features.js';
import { SafeguardModel, type FeatureSet, type LabelModel, type LearnedLabel, type SafeguardModelArtefact } from './model.js';
import { chooseThreshold, fitLogistic, foldOf, predict, type FitOptions } from './train.js';

/** A case as training needs it. */
export interface TrainingCase {
  id: string;
  /** Cases of one group (a sentence and its speech twin) share a fold. */
  group: string;
  direction: 'input' | 'output';
  text: string;
  label: string;
  context: SafeguardContext;
}

/** Encodes texts (speech form already applied); batched by the caller's choice. */
export type EncodeFn = (texts: string[]) => Promise<Float32Array[]>;

/** Per-label targets for the threshold choice on out-of-fold scores. */
export interface Target {
  minRecall: number;
  maxFpr: number;
}

/** Training settings; defaults are the ones the shipped artefact was trained with. */
export interface TrainSettings {
  features: FeatureSet;
  k: number;
  l2: number;
  windowTurns: number;
  targets: Partial<Record<LearnedLabel, Target>>;
  defaultTarget: Target;
}

/**
 * Chosen by 5-fold cross-validation on the training half (see README): rule scores as extra
 * features beat the vectors alone for every label but harm (crisis recall at 5% FPR 0.66 vs 0.62);
 * L2 0.01 (the vectors have unit length, so a penalty of 1 starved the fit). FPR bounds keep the
 * share of `none` turns flagged for anything near the 12% the issue allows; crisis gets the most room.
 */
export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  features: 'embedding+rules',
  k: 5,
  l2: 0.01,
  windowTurns: 2,
  targets: {
    crisis: { minRecall: 0.97, maxFpr: 0.05 },
    harm: { minRecall: 0.9, maxFpr: 0.03 },
    attachment: { minRecall: 0.9, maxFpr: 0.03 },
  },
  defaultTarget: { minRecall: 0.9, maxFpr: 0.025 },
};

/** Everything training computed about one case, kept for evaluation. */
export interface CaseScores {
  id: string;
  direction: 'input' | 'output';
  label: string;
  /** Labels the rules flag. */
  rules: string[];
  /** Out-of-fold model probability per label of the case's direction. */
  model: Record<string, number>;
}

/** The result of fitting: the artefact, and out-of-fold scores of every case. */
export interface FitResult {
  artefact: SafeguardModelArtefact;
  outOfFold: CaseScores[];
}

interface Prepared {
  c: TrainingCase;
  plan: EncodingPlan;
  vectors: Float32Array[];
  ruleScores: number[];
  ruleFlags: string[];
  /** Which vector is trained on: the window for cases whose meaning spans turns, else the whole turn; null = not trained on. */
  trainVector: Float32Array | null;
}

/**
 * Labelled cases whose label rests on a robot question alone ("Yes." to "are you thinking of
 * ending your life?") are the rules' job: training a model that "yes" means crisis would be wrong.
 */
function trainable(c: TrainingCase): boolean {
  if (c.label === 'none') return true;
  const turns = c.context.previousTurns ?? [];
  const hasParticipant = turns.some((t) => /^participant:/i.test(t));
  const robotOnly = turns.length > 0 && !hasParticipant;
  return !(robotOnly && c.text.trim().split(/\s+/).length <= 5);
}

/** Encode and rule-score every case once. */
export async function prepareCases(cases: readonly TrainingCase[], encode: EncodeFn, windowTurns: number): Promise<Prepared[]> {
  const plans = cases.map((c) => planEncoding(c.text, c.direction === 'input' ? c.context.previousTurns : undefined, windowTurns));
  const texts = plans.flatMap(planTexts);
  const unique = [...new Set(texts)];
  const vectors = await encode(unique);
  const byText = new Map(unique.map((t, i) => [t, vectors[i]!]));
  return cases.map((c, i) => {
    const plan = plans[i]!;
    const vs = planTexts(plan).map((t) => byText.get(t)!);
    const labels: readonly string[] = c.direction === 'input' ? INPUT_LABELS : OUTPUT_LABELS;
    const results = c.direction === 'input' ? runInputChecks(c.text, c.context) : runOutputChecks(c.text, c.context);
    const ruleScores = labels.map((l) => results.find((r) => r.check === l)?.score ?? 0);
    const ruleFlags = results.filter((r) => r.decision !== 'pass' && labels.includes(r.check)).map((r) => r.check);
    const trainVector = !trainable(c) ? null : plan.window !== null ? vs[1]! : vs[0]!;
    return { c, plan, vectors: vs, ruleScores, ruleFlags, trainVector };
  });
}

const features = (set: FeatureSet, v: Float32Array, rules: readonly number[]): ArrayLike<number> => (set === 'embedding+rules' ? [...Array.from(v), ...rules] : v);

/** The runtime's score of a prepared case under a fitted model: the max over its vectors. */
function caseScore(model: { weights: Float64Array; bias: number }, p: Prepared, set: FeatureSet): number {
  let best = 0;
  for (const v of p.vectors) best = Math.max(best, predict(model, features(set, v, p.ruleScores)));
  return best;
}

function fitLabel(rows: Prepared[], label: string, set: FeatureSet, options: FitOptions) {
  const train = rows.filter((p) => p.trainVector !== null);
  return fitLogistic(train.map((p) => features(set, p.trainVector!, p.ruleScores)), train.map((p) => (p.c.label === label ? 1 : 0)), options);
}

/** Fit the artefact from prepared cases (see `prepareCases`). */
export function fitPrepared(
  prepared: readonly Prepared[],
  settings: TrainSettings,
  meta: { version: string; encoder: { id: string; dimension: number }; files: { path: string; sha256: string; cases: number }[] },
): FitResult {
  const options: FitOptions = { l2: settings.l2, positiveWeight: 'balanced' };
  const labels: Partial<Record<LearnedLabel, LabelModel>> = {};
  const oof = new Map<string, Record<string, number>>();
  for (const direction of ['input', 'output'] as const) {
    const rows = prepared.filter((p) => p.c.direction === direction);
    if (!rows.length) continue;
    for (const label of (direction === 'input' ? INPUT_LABELS : OUTPUT_LABELS) as readonly LearnedLabel[]) {
      const ys = rows.map((p) => (p.c.label === label ? 1 : 0));
      if (!ys.some((y) => y === 1)) continue;
      const full = fitLabel(rows, label, settings.features, options);
      // Out-of-fold scores: each case scored by a model fitted without its group's fold (started
      // from the full fit, which only saves Newton steps: the optimum is the same).
      const scores = new Float64Array(rows.length);
      for (let f = 0; f < settings.k; f++) {
        const inFold = (p: Prepared) => foldOf(p.c.group, settings.k) === f;
        if (!rows.some(inFold)) continue;
        const model = fitLabel(rows.filter((p) => !inFold(p)), label, settings.features, { ...options, init: full });
        rows.forEach((p, i) => {
          if (inFold(p)) scores[i] = caseScore(model, p, settings.features);
        });
      }
      rows.forEach((p, i) => {
        const m = oof.get(p.c.id) ?? {};
        m[label] = scores[i]!;
        oof.set(p.c.id, m);
      });
      const target = settings.targets[label] ?? settings.defaultTarget;
      // Thresholds are chosen against `none` cases (a crisis case also flagged harm is not a false alarm).
      const judged = rows.map((p, i) => i).filter((i) => rows[i]!.c.label === label || rows[i]!.c.label === 'none');
      const point = chooseThreshold(judged.map((i) => scores[i]!), judged.map((i) => ys[i]!), target, judged.map((i) => rows[i]!.ruleFlags.includes(label)));
      labels[label] = {
        direction,
        weights: Array.from(full.weights, round),
        bias: round(full.bias),
        threshold: round(point.threshold),
        cv: { k: settings.k, recall: round4(point.recall), fpr: round4(point.fpr), positives: ys.filter((y) => y === 1).length, negatives: judged.length - ys.filter((y) => y === 1).length },
      };
    }
  }
  const artefact: SafeguardModelArtefact = {
    format: 'hearth.safeguard-model',
    formatVersion: 1,
    version: meta.version,
    encoder: meta.encoder,
    features: settings.features,
    window: { participantTurns: settings.windowTurns },
    trainedOn: { files: meta.files, cases: prepared.length },
    labels,
  };
  const outOfFold = prepared.map((p) => ({ id: p.c.id, direction: p.c.direction, label: p.c.label, rules: p.ruleFlags, model: oof.get(p.c.id) ?? {} }));
  return { artefact, outOfFold };
}

/** Score prepared cases with a fitted artefact (for held-out evaluation). */
export function scorePrepared(prepared: readonly Prepared[], artefact: SafeguardModelArtefact): CaseScores[] {
  const model = new SafeguardModel(artefact);
  return prepared.map((p) => {
    const scores: Record<string, number> = {};
    for (const label of model.labels(p.c.direction)) {
      scores[label] = Math.max(...p.vectors.map((v) => model.score(label, v, p.ruleScores)));
    }
    return { id: p.c.id, direction: p.c.direction, label: p.c.label, rules: p.ruleFlags, model: scores };
  });
}

const round = (x: number): number => Number(x.toPrecision(7));
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
