import { detectMemoryIntent, POSSIBLE_CRISIS_CLARIFY, soundsLikeCrisis, toSafeguardEvents, wantsToStop, type CheckedLine, type CheckRequest, type ScreenRequest, type ScreenResult, type Utterance } from '../../behaviors/index.js';
import { mayBeParticipantsAnswer, sphinxPronouncer } from '../../perception/index.js';
import type { CompanionCore } from './core.js';

/** The safeguards on both sides of the conversation. */
export interface Screening {
  /** Safeguards, memory requests and memory notes for every participant turn, in every step. */
  screen(req: ScreenRequest): Promise<ScreenResult>;
  /** The output safeguards on every robot line before it is spoken; the learned layer reads what a model wrote. */
  check(req: CheckRequest): Promise<CheckedLine>;
}

/** Input screening (crisis, harm, boundaries, memory requests) and output checks. */
export function createScreening(core: CompanionCore): Screening {
  const { log, clock, safeguards, memory } = core;
  /** Where a check is filed: the open session's last participant turn. */
  const placeOf = (sessionId: string) => core.services(sessionId)?.place() ?? { sessionId, turnId: null, studyDay: log.session(sessionId)?.studyDay ?? null };

  const pronounce = core.o.pronounce ?? defaultPronounce();
  /** Sessions in which a sound-alike was already asked about. */
  const askedIn = new Set<string>();
  /**
   * Recognised speech (it has a confidence; typed turns do not) the rules let through, that sounds like
   * a crisis phrase the recogniser may have misheard: asked about gently, at most once a session (about
   * 1 benign sentence in 250 sounds close enough, so a participant is not asked again and again).
   */
  const soundsLike = (utterance: Utterance, sessionId: string) => {
    if (utterance.confidence === undefined || askedIn.has(sessionId)) return null;
    for (const text of [utterance.text, ...(utterance.alternatives ?? [])]) {
      const match = soundsLikeCrisis(text, pronounce);
      if (match) {
        askedIn.add(sessionId);
        return match;
      }
    }
    return null;
  };
  const clarify = (sessionId: string, source: string, detail: Record<string, unknown>): ScreenResult => {
    log.recordEvent('safeguards.possible-crisis', { source, ...detail }, clock.now(), sessionId);
    return { route: 'clarify', line: { text: POSSIBLE_CRISIS_CLARIFY, act: 'repair' } };
  };

  const screen = async ({ utterance, sessionId, step, tentative }: ScreenRequest): Promise<ScreenResult> => {
    const place = placeOf(sessionId);
    // Earlier turns as "robot: …" / "participant: …"; the turn being screened is already the last line.
    const lines = [...(core.services(sessionId)?.conversation ?? [])];
    if (lines.at(-1)?.speaker === 'participant' && lines.at(-1)?.text === utterance.text) lines.pop();
    const checkCtx = safeguards.context({ previousTurns: lines.slice(-4).map((l) => `${l.speaker}: ${l.text}`) });
    let tentativeVerdict;
    if (tentative) {
      // The robot will ask again: only a crisis, harm or medical signal is acted on now. The checks
      // are logged, but nothing else happens on words the recogniser was unsure of (no deletions,
      // no memories, no values); what is said again is screened in full.
      tentativeVerdict = await safeguards.checkTurn(utterance.text, place, checkCtx);
      if (tentativeVerdict.safe) {
        log.recordSafeguardEvents(toSafeguardEvents(tentativeVerdict, 'input', { atMs: clock.now(), ...place }));
        // The recogniser's other readings are screened too: a possible crisis among them gets a gentle
        // clarifying question instead of a plain "say that again" (and is logged, without the words).
        for (const alternative of utterance.alternatives ?? []) {
          const v = await safeguards.checkTurn(alternative, place, checkCtx);
          if (!v.safe) {
            log.recordSafeguardEvents(toSafeguardEvents(v, 'input', { atMs: clock.now(), ...place }));
            return clarify(sessionId, 'recogniser alternative', { flagged: v.flagged });
          }
        }
        const heard = step === 'crisis' ? null : soundsLike(utterance, sessionId);
        if (heard) return clarify(sessionId, 'sounds like', heard);
        return { route: 'continue' };
      }
    }
    const decision = await safeguards.onParticipantTurn(utterance.text, place, checkCtx, tentativeVerdict);
    if (decision.leaveStory && decision.reply) return { route: 'crisis', line: { ...decision.reply, act: 'crisis' } };
    if (decision.reply) return { route: 'reply', line: decision.reply };
    const heard = step === 'crisis' ? null : soundsLike(utterance, sessionId);
    if (heard) return clarify(sessionId, 'sounds like', heard);
    const mctx = core.memoryContext(sessionId, place.studyDay);
    if (detectMemoryIntent(utterance.text)) {
      const handled = memory.handle(mctx, utterance.text);
      if (handled) return { route: 'reply', line: { text: handled.line, act: 'safe' } };
    }
    // A request to stop is not something to remember about the participant; nor is what is said while
    // the camera sees no enrolled face (with consent for video): it may be someone else's.
    if ((step === 'reflection' || step === 'empathy' || step === 'checkin') && !wantsToStop(utterance.text) && mayBeParticipantsAnswer(core.presence())) memory.remember(mctx, utterance.text);
    return { route: 'continue' };
  };

  const check = async (r: CheckRequest): Promise<CheckedLine> => {
    const checked = await safeguards.beforeSpeaking(r.line, placeOf(r.sessionId), { ctx: { narration: r.narration }, vetted: !r.fromModel });
    return { text: checked.line.text, replaced: checked.replaced };
  };

  return { screen, check };
}

/** The recogniser's dictionary, shared by every companion of the process (loaded at the first spoken turn). */
let shared: ReturnType<typeof sphinxPronouncer> | null = null;
function defaultPronounce(): ReturnType<typeof sphinxPronouncer> {
  return (shared ??= sphinxPronouncer());
}
