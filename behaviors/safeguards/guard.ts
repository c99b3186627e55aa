/**
 * `SafeguardLayer`: the piece the runtime wires between dialogue and speech. It checks every turn,
 * logs every check result, picks the action, alerts staff, tracks attachment and values, and makes
 * sure no flagged robot line is spoken.
 */
import type { NewSafeguardEvent } from '../../data/index.js';
import type { RobotLine, SpeechAct } from '../ports.js';
import { buildIncident, type AlertChannel, type IncidentKind, type IncidentReport } from './alerts.js';
import { AttachmentLedger } from './attachment-ledger.js';
import { checkInput, checkOutput } from './layer.js';
import type { EncodedTurn, LearnedLayer } from './learned/learned-layer.js';
import { AI_DISCLOSURE, attachmentKind, boundaryReply, crisisReply, harmReply, medicalReply, safeReply, valuesDeletedReply } from './replies.js';
import { toSafeguardEvents, type InputVerdict, type OutputVerdict, type SafeguardContext } from './types.js';
import { describeValues, inferValues, VALUES_VERSION, type InferredValue } from './values.js';

/** The part of `DeviceLog` the layer writes to. */
export interface SafeguardLog {
  recordSafeguardEvents(events: readonly NewSafeguardEvent[]): void;
  recordEvent(kind: string, detail: unknown, atMs: number, sessionId?: string | null): void;
}

/** A value as stored for a participant. */
export interface StoredValue {
  value: string;
  confidence: number;
  evidence: string;
}

/** Where inferred values live (implemented by `SqliteSafeguardRecords` in `data/`). */
export interface ValueStore {
  saveValues(participantId: string, values: readonly InferredValue[], source: { sessionId: string | null; turnId: number | null; version: string }, atMs: number): void;
  values(participantId: string): StoredValue[];
  deleteValues(participantId: string, value: string | null, atMs: number): number;
}

/** Where incident records live (implemented by `SqliteSafeguardRecords` in `data/`). */
export interface IncidentStore {
  /** Store the incident; the same row is its entry in the alert outbox (`unsent`), so it is queued in the same transaction. */
  recordIncident(report: IncidentReport, atMs: number): void;
  /** Whether the alert channel took it (the local `alerts.jsonl` copy was written); delivery is tracked by the outbox. */
  markAlert(incidentId: string, status: 'sent' | 'failed', atMs: number): void;
}

/** Everything the layer needs; stores are optional so a bare layer still protects speech. */
export interface SafeguardLayerOptions {
  log: SafeguardLog;
  alerts: AlertChannel;
  deviceId: string;
  participantId: string | null;
  /** Study region for crisis resources (`US`, `GB`…); unknown regions get a generic fallback. */
  region: string | undefined;
  now: () => number;
  values?: ValueStore;
  incidents?: IncidentStore;
  ledger?: AttachmentLedger;
  newId?: () => string;
  /**
   * The learned layer (sentence encoder + model). Without it only the rules run. If encoding
   * fails on a turn, that turn is checked by the rules, a `safeguards.degraded` event is logged
   * and `onLearnedFailure` is told (the runtime alerts staff and shows it in status).
   */
  learned?: LearnedLayer | null;
  onLearnedFailure?: (error: Error) => void;
}

/** What to do with a participant turn. */
export type InputActionKind =
  | 'crisis' | 'harm' | 'medical' | 'fail-closed' | 'ai-disclosure' | 'values-delete' | 'values-show' | 'attachment-boundary' | 'continue';

/** The layer's decision for one participant turn. */
export interface InputDecision {
  verdict: InputVerdict;
  action: InputActionKind;
  /** A scripted reply to speak now, or null to let the dialogue continue. */
  reply: RobotLine | null;
  /** True when the story flow must be left (crisis, harm, medical, failed check). */
  leaveStory: boolean;
  incident: IncidentReport | null;
}

/** Where a turn sits in the log. */
export interface TurnPlace {
  sessionId: string | null;
  turnId: number | null;
  studyDay?: number | null;
}

/** The checked line to actually speak. */
export interface SpeakDecision {
  line: RobotLine;
  verdicts: OutputVerdict[];
  /** True when the spoken line is a scripted fallback, not the proposed one. */
  replaced: boolean;
}

let counter = 0;
const defaultId = (): string => `inc-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** The safeguard layer for one participant on one device. */
export class SafeguardLayer {
  private readonly o: SafeguardLayerOptions;
  readonly ledger: AttachmentLedger;

  private learned: LearnedLayer | null;

  constructor(options: SafeguardLayerOptions) {
    this.o = options;
    this.learned = options.learned ?? null;
    this.ledger = options.ledger ?? new AttachmentLedger();
  }

  /** The context output checks need: the participant's stored values plus `extra`. */
  context(extra: SafeguardContext = {}): SafeguardContext {
    const stored = this.o.values && this.o.participantId ? this.o.values.values(this.o.participantId).map((v) => v.value) : [];
    return { ...extra, disclosedValues: [...stored, ...(extra.disclosedValues ?? [])] };
  }

  /** Check a participant turn (or take `checked`), log every result, and decide the reply. Never throws. */
  async onParticipantTurn(text: string, place: TurnPlace, ctx: SafeguardContext = {}, checked?: InputVerdict): Promise<InputDecision> {
    const at = this.o.now();
    // `checked`: the verdict `checkTurn` already gave for this text and context (not checked twice).
    const verdict = checked ?? (await this.checkTurn(text, place, ctx));
    this.logSafely(() => this.o.log.recordSafeguardEvents(toSafeguardEvents(verdict, 'input', { atMs: at, ...place })), at, place);
    const has = (name: string): boolean => verdict.flagged.includes(name as never);
    const seed = place.turnId ?? at;
    const line = (text2: string, act: SpeechAct = 'safe'): RobotLine => ({ text: text2, act });

    let action: InputActionKind = 'continue';
    let reply: RobotLine | null = null;
    let incidentKind: IncidentKind | null = null;
    if (has('crisis')) [action, reply, incidentKind] = ['crisis', line(crisisReply(this.o.region)), 'crisis'];
    else if (has('medical')) [action, reply, incidentKind] = ['medical', line(medicalReply(this.o.region)), 'medical'];
    else if (has('harm')) [action, reply, incidentKind] = ['harm', line(harmReply(this.o.region)), 'harm'];
    else if (verdict.failed) [action, reply, incidentKind] = ['fail-closed', line(safeReply('safe', seed)), 'check-failure'];
    else if (has('ai-identity')) [action, reply] = ['ai-disclosure', line(AI_DISCLOSURE)];
    else if (has('values-delete')) {
      const n = this.o.values && this.o.participantId ? this.o.values.deleteValues(this.o.participantId, null, at) : 0;
      [action, reply] = ['values-delete', line(valuesDeletedReply(n))];
    } else if (has('values-query')) {
      const stored = this.o.values && this.o.participantId ? this.o.values.values(this.o.participantId) : [];
      [action, reply] = ['values-show', line(describeValues(stored))];
    } else if (has('attachment')) {
      const cue = verdict.results.find((r) => r.check === 'attachment')?.evidenceSpan?.cue;
      [action, reply] = ['attachment-boundary', line(boundaryReply(attachmentKind(cue), seed), 'empathy')];
    }
    if (has('attachment')) this.trackAttachment(place, at);
    if (has('minor') && incidentKind === null) incidentKind = 'minor';

    // Values are inferred only from ordinary turns, never from a crisis disclosure.
    if (action === 'continue' || action === 'attachment-boundary') this.inferAndStore(text, place, at);

    const incident = incidentKind && reply ? await this.alert(incidentKind, at, place, reply.text, verdict) : incidentKind ? await this.alert(incidentKind, at, place, '(dialogue continued)', verdict) : null;
    const leaveStory = action === 'crisis' || action === 'harm' || action === 'medical' || action === 'fail-closed';
    return { verdict, action, reply, leaveStory, incident };
  }

  /**
   * Check a proposed robot line; when flagged, ask `regenerate` (if given) with the reason, up to
   * `attempts` times, then fall back to a safe scripted line for the same act. Never speaks flagged text.
   */
  async beforeSpeaking(
    proposed: RobotLine,
    place: TurnPlace,
    options: {
      ctx?: SafeguardContext;
      regenerate?: (reason: string) => Promise<string>;
      attempts?: number;
      /**
       * The line is Hearth's own fixed text (responder templates, scripted replies, library stories),
       * every variant of which is tested against the checks: only the rules run. The learned model
       * reads text nobody wrote in advance (a language model's reply); on fixed lines it is outside
       * what it was trained on (it flagged about 50 of the ~1,500 fixed lines, e.g. survey re-prompts).
       */
      vetted?: boolean;
    } = {},
  ): Promise<SpeakDecision> {
    const ctx = this.context(options.ctx);
    const verdicts: OutputVerdict[] = [];
    let candidate = proposed.text;
    const attempts = options.regenerate ? (options.attempts ?? 1) : 0;
    for (let i = 0; i <= attempts; i++) {
      const at = this.o.now();
      const fixed = options.vetted === true && i === 0;
      const verdict = checkOutput(candidate, ctx, fixed ? undefined : await this.encode('output', candidate, ctx, place));
      verdicts.push(verdict);
      this.logSafely(() => this.o.log.recordSafeguardEvents(toSafeguardEvents(verdict, 'output', { atMs: at, ...place })), at, place);
      if (verdict.safe) return { line: { text: candidate, act: proposed.act }, verdicts, replaced: i > 0 };
      if (i === attempts || !options.regenerate) break;
      try {
        candidate = await options.regenerate(verdict.reason ?? 'Rewrite the line.');
      } catch (error) {
        this.logSafely(() => this.o.log.recordEvent('safeguard.regenerate-failed', { message: (error as Error).message }, at, place.sessionId), at, place);
        break;
      }
    }
    const fallback = safeReply(proposed.act, place.turnId ?? this.o.now());
    const at = this.o.now();
    this.logSafely(() => this.o.log.recordEvent('safeguard.fallback', { act: proposed.act, flagged: verdicts.at(-1)?.flagged ?? [] }, at, place.sessionId), at, place);
    return { line: { text: fallback, act: proposed.act }, verdicts, replaced: true };
  }

  /**
   * Tell study staff that the learned layer is not working: an incident (kind `check-failure`, no
   * participant words) through the alert channel. `consequence` says what the device does about it:
   * `block` (no new session), `rules_only` (sessions on the rules), `turn` (one turn was checked by
   * the rules alone after encoding it failed). Never throws.
   */
  async reportDegraded(message: string, consequence: 'block' | 'rules_only' | 'turn'): Promise<IncidentReport> {
    const at = this.o.now();
    const what = consequence === 'turn' ? 'failed while checking a turn' : 'could not load on this device';
    const action = {
      block: 'No new session starts until it is fixed (protocol safeguards.on_model_failure: block).',
      rules_only: 'Sessions run on the rule checks alone (protocol safeguards.on_model_failure: rules_only).',
      turn: 'That turn was checked by the rules alone; later turns try the model again.',
    }[consequence];
    return this.alert('check-failure', at, { sessionId: null, turnId: null }, action, { safe: false, flagged: [], results: [], failed: true },
      `The learned safeguard layer (sentence encoder and model) ${what}: ${message.slice(0, 300)}. ${action} Re-run \`bash scripts/setup.sh\` on the device.`);
  }

  /** Use (or stop using, with null) a learned layer from now on. */
  useLearned(layer: LearnedLayer | null): void {
    this.learned = layer;
  }

  /** Check a participant turn with rules and model, without acting on it (not logged). */
  async checkTurn(text: string, place: TurnPlace, ctx: SafeguardContext = {}): Promise<InputVerdict> {
    return checkInput(text, ctx, await this.encode('input', text, ctx, place));
  }

  private async encode(direction: 'input' | 'output', text: string, ctx: SafeguardContext, place: TurnPlace): Promise<EncodedTurn | undefined> {
    const learned = this.learned;
    if (!learned) return undefined;
    try {
      return await learned.encode(direction, typeof text === 'string' ? text : String(text ?? ''), ctx);
    } catch (error) {
      const at = this.o.now();
      const e = error instanceof Error ? error : new Error(String(error));
      this.logSafely(() => this.o.log.recordEvent('safeguards.degraded', { stage: 'encode', direction, message: e.message, checking: 'rules only for this turn' }, at, place.sessionId), at, place);
      try {
        this.o.onLearnedFailure?.(e);
      } catch {
        /* a failing callback must not stop the check */
      }
      return undefined;
    }
  }

  private trackAttachment(place: TurnPlace, at: number): void {
    if (place.studyDay === undefined || place.studyDay === null) return;
    this.ledger.record(place.studyDay);
    const trend = this.ledger.trend();
    if (trend.rising && this.ledger.countOn(place.studyDay) === 1) {
      this.logSafely(() => this.o.log.recordEvent('safeguard.attachment-trend', trend, at, place.sessionId), at, place);
    }
  }

  private inferAndStore(text: string, place: TurnPlace, at: number): void {
    if (!this.o.values || !this.o.participantId) return;
    try {
      const found = inferValues(text);
      if (found.length) this.o.values.saveValues(this.o.participantId, found, { sessionId: place.sessionId, turnId: place.turnId, version: VALUES_VERSION }, at);
    } catch (error) {
      this.logSafely(() => this.o.log.recordEvent('safeguard.values-failed', { message: (error as Error).message }, at, place.sessionId), at, place);
    }
  }

  private async alert(kind: IncidentKind, at: number, place: TurnPlace, robotAction: string, verdict: InputVerdict, description?: string): Promise<IncidentReport> {
    const report = buildIncident({
      ...(description ? { description } : {}),
      incidentId: (this.o.newId ?? defaultId)(),
      kind,
      atMs: at,
      deviceId: this.o.deviceId,
      participantId: this.o.participantId,
      sessionId: place.sessionId,
      turnId: place.turnId,
      robotAction,
      checks: verdict.results,
    });
    // Recorded (and queued for delivery) before the channel is called; the channel never waits on the
    // network (`AlertOutbox` writes the local copy and wakes its worker), so the reply is not held up.
    this.logSafely(() => this.o.incidents?.recordIncident(report, at), at, place);
    try {
      await this.o.alerts.send(report);
      this.logSafely(() => this.o.incidents?.markAlert(report.incidentId, 'sent', this.o.now()), at, place);
    } catch (error) {
      // The runtime never crashes on a channel fault: the incident stays recorded as unsent.
      this.logSafely(() => this.o.incidents?.markAlert(report.incidentId, 'failed', this.o.now()), at, place);
      this.logSafely(() => this.o.log.recordEvent('safeguard.alert-failed', { incidentId: report.incidentId, message: (error as Error).message }, at, place.sessionId), at, place);
    }
    return report;
  }

  private logSafely(fn: () => void, ..._where: unknown[]): void {
    try {
      fn();
    } catch (error) {
      // A store fault must not stop a crisis reply; it surfaces on stderr for the runtime's log.
      process.stderr.write(`hearth safeguards: could not record (${(error as Error).message})\n`);
    }
  }
}
