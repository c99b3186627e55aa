import type { ResponseParams, RobotLine, SessionStep, SpokenLine, Utterance, SessionProgress, Story } from '../../behaviors/index.js';
import { mayBeParticipantsAnswer } from '../../perception/index.js';
import type { CompanionCore } from './core.js';

/** What is stored instead of the participant's words when transcripts are not consented. */
export const WITHHELD_TEXT = '[not kept: no consent for transcripts]';

/** Everything the session stores, with consent applied: turns, answers, progress, the story, events. */
export interface Persistence {
  saveProgress(sessionId: string, p: { step: string; progress: SessionProgress }): void;
  recordRobotTurn(p: { sessionId: string; line: RobotLine; spoken: SpokenLine; step: SessionStep }): void;
  recordParticipantTurn(sessionId: string, p: { utterance: Utterance; step: SessionStep }): void;
  recordResponse(sessionId: string, p: ResponseParams): void;
  recordStory(sessionId: string, p: { story: Story }): void;
  recordSessionEvent(sessionId: string | null, p: { kind: string; detail?: unknown }): void;
}

/** The store writes of a session; the open session's services also keep the conversation. */
export function createPersistence(core: CompanionCore): Persistence {
  const { o, log, clock, allows } = core;
  return {
    saveProgress: (sessionId, p) => log.saveProgress(sessionId, p.step, p.progress, clock.now()),
    recordRobotTurn: (p) => {
      log.recordTurn({ sessionId: p.sessionId, speaker: 'robot', text: p.line.text, step: p.step, startMs: p.spoken.startedAt, endMs: p.spoken.endedAt });
      if (p.step !== 'story') core.services(p.sessionId)?.remember({ speaker: 'robot', text: p.line.text });
    },
    recordParticipantTurn: (sessionId, p) => {
      // The participant's words are kept only with consent for transcripts; the turn itself is always logged.
      const text = allows('transcripts') ? p.utterance.text : WITHHELD_TEXT;
      const turnId = log.recordTurn({ sessionId, speaker: 'participant', text, step: p.step, startMs: p.utterance.startedAt, endMs: p.utterance.endedAt });
      core.services(sessionId)?.heard(turnId, { speaker: 'participant', text: p.utterance.text });
    },
    recordResponse: (sessionId, given) => {
      let p = given;
      // A voice heard while the camera sees no enrolled face (with consent for video) is not the participant's
      // answer: the item is kept as not answered, without the words, and the event says why (issue 15.4).
      const seen = core.presence();
      if (p.status === 'answered' && !mayBeParticipantsAnswer(seen)) {
        log.recordEvent('response.not_participant', {
          instrument: p.instrument.id, item: p.item.code, participant: seen?.participant ?? null, others: seen?.others ?? 0, spoofs: seen?.spoofs ?? 0,
        }, clock.now(), sessionId);
        p = { instrument: p.instrument, item: p.item, value: null, raw: null, status: 'unanswered' };
      }
      if (p.instrument.records === 'consent') {
        // Consent answers are consent records, not questionnaire data; a skipped question stays pending.
        if (p.status === 'answered' && p.item.modality) o.recordVoiceConsent?.([{ modality: p.item.modality, granted: p.value === 1 }], clock.now());
        log.recordEvent('consent.answered', { modality: p.item.code, status: p.status, granted: p.status === 'answered' ? p.value === 1 : null }, clock.now(), sessionId);
        return;
      }
      log.recordResponse({
        sessionId, instrument: p.instrument.id, item: p.item.code, value: p.value,
        rawText: allows('transcripts') ? p.raw : p.raw === null ? null : WITHHELD_TEXT, status: p.status, scoringVersion: p.instrument.scoringVersion,
      }, clock.now());
      // How the answer was recognised, beside the response: confidence, the other answers heard (words, so only
      // with consent for transcripts), and whether the participant confirmed it when it was said back.
      if (p.confidence !== undefined || p.confirmed) {
        log.recordEvent('response.recognition', {
          instrument: p.instrument.id, item: p.item.code, value: p.value, status: p.status,
          confidence: p.confidence === undefined ? null : Math.round(p.confidence * 1000) / 1000, confirmed: p.confirmed ?? false,
          alternatives: allows('transcripts') ? (p.alternatives ?? []).map((a) => ({ text: a.text, confidence: a.confidence === undefined ? null : Math.round(a.confidence * 1000) / 1000 })) : null,
        }, clock.now(), sessionId);
      }
    },
    recordStory: (sessionId, p) => log.setSessionStory(sessionId, p.story.id, clock.now()),
    recordSessionEvent: (sessionId, p) => log.recordEvent(p.kind, p.detail ?? null, clock.now(), sessionId),
  };
}
