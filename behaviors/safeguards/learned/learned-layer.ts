/**
 * The learned layer at run time: encodes a turn (whole, context window, long-turn parts) with the
 * injected `SentenceEncoder`, then scores every label the artefact holds. Encoding is the only
 * asynchronous part; scoring is synchronous so `checkInput`/`checkOutput` stay synchronous given
 * the vectors.
 */
import type { SentenceEncoder } from '../../ports.js';
import { INPUT_LABELS, OUTPUT_LABELS, type SafeguardContext } from '../types.js';
import { planEncoding, planTexts } from './features.js';
import type { LearnedLabel, SafeguardModel } from './model.js';

/** The encoded turn, ready for synchronous scoring. */
export interface EncodedTurn {
  model: SafeguardModel;
  whole: Float32Array;
  window: Float32Array | null;
  parts: Float32Array[];
}

/** One label's learned score on a turn. */
export interface LearnedScore {
  label: LearnedLabel;
  score: number;
  threshold: number;
  fired: boolean;
  /** Which encoded piece gave the highest score. */
  via: 'whole' | 'window' | 'part';
  /** Index into the parts when `via` is `part`. */
  part?: number;
}

/** Encodes turns for a model; one per device, the encoder loaded once. */
export class LearnedLayer {
  constructor(
    readonly model: SafeguardModel,
    readonly encoder: SentenceEncoder,
  ) {
    if (encoder.dimension !== model.artefact.encoder.dimension) {
      throw new Error(`safeguard model expects ${model.artefact.encoder.dimension}-d vectors from ${model.artefact.encoder.id}, but the encoder ${encoder.id} gives ${encoder.dimension}-d`);
    }
  }

  /** Encode a turn. Input turns get the context window; output lines are read alone. */
  async encode(direction: 'input' | 'output', text: string, ctx: SafeguardContext = {}, signal?: AbortSignal): Promise<EncodedTurn> {
    const plan = planEncoding(text, direction === 'input' ? ctx.previousTurns : undefined, this.model.artefact.window.participantTurns);
    const vectors = await this.encoder.encode(planTexts(plan), signal);
    const whole = vectors[0]!;
    const window = plan.window === null ? null : vectors[1]!;
    return { model: this.model, whole, window, parts: vectors.slice(plan.window === null ? 1 : 2) };
  }
}

/**
 * Score every label of a direction on an encoded turn. `ruleScores` are the rule checks' scores
 * for the scored labels, in `INPUT_LABELS`/`OUTPUT_LABELS` order (used only by artefacts trained
 * with rule features).
 */
export function scoreEncoded(direction: 'input' | 'output', turn: EncodedTurn, ruleScores: readonly number[]): LearnedScore[] {
  const model = turn.model;
  const labels = (direction === 'input' ? INPUT_LABELS : OUTPUT_LABELS).filter((l) => model.labels(direction).includes(l));
  return labels.map((label) => {
    let best: Pick<LearnedScore, 'score' | 'via' | 'part'> = { score: model.score(label, turn.whole, ruleScores), via: 'whole' };
    if (turn.window) {
      const s = model.score(label, turn.window, ruleScores);
      if (s > best.score) best = { score: s, via: 'window' };
    }
    turn.parts.forEach((v, i) => {
      const s = model.score(label, v, ruleScores);
      if (s > best.score) best = { score: s, via: 'part', part: i };
    });
    const threshold = model.threshold(label);
    return { label, ...best, score: Math.round(best.score * 10_000) / 10_000, threshold: Math.round(threshold * 10_000) / 10_000, fired: best.score >= threshold };
  });
}
