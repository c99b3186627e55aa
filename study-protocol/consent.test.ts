import { describe, expect, it } from 'vitest';
import { ConsentState, needsReconsent, type ConsentDecision } from './consent.js';
import { BUNDLED_PROTOCOL, loadProtocol, type Protocol } from './index.js';

const { protocol } = loadProtocol(BUNDLED_PROTOCOL);
const all = (version: number, granted: (m: string) => boolean, atMs = 1000): ConsentDecision[] =>
  (['audio_recording', 'transcripts', 'video_recording', 'llm_processing', 'keep_raw_media'] as const).map((modality) => ({
    consentVersion: version, modality, granted: granted(modality), atMs, method: 'staff',
  }));

describe('ConsentState', () => {
  it('allows nothing and asks everything before any decision', () => {
    const state = new ConsentState(protocol.consent, []);
    expect(state.allows('audio_recording')).toBe(false);
    expect(state.needsReconsent).toBe(true);
    expect(state.canRunSessions).toBe(false);
    expect(state.pending().map((q) => q.modality)).toEqual(['audio_recording', 'video_recording', 'transcripts', 'llm_processing', 'keep_raw_media']);
    expect(state.pending()[0]!.prompt).toMatch(/microphone/);
  });

  it('allows exactly what was granted', () => {
    const state = new ConsentState(protocol.consent, all(1, (m) => m !== 'llm_processing' && m !== 'keep_raw_media'));
    expect(state.allows('audio_recording')).toBe(true);
    expect(state.allows('video_recording')).toBe(true);
    expect(state.allows('llm_processing')).toBe(false);
    expect(state.allows('keep_raw_media')).toBe(false);
    expect(state.canRunSessions).toBe(true);
    expect(state.summary()).toMatchObject({ llm_processing: 'declined', transcripts: 'granted' });
  });

  it('takes the latest decision, so consent can be withdrawn for one modality', () => {
    const decisions = [...all(1, () => true), { consentVersion: 1, modality: 'llm_processing' as const, granted: false, atMs: 5000, method: 'voice' as const }];
    const state = new ConsentState(protocol.consent, decisions.reverse());
    expect(state.allows('llm_processing')).toBe(false);
    expect(state.allows('transcripts')).toBe(true);
  });

  it('blocks sessions while a required modality is declined', () => {
    const state = new ConsentState(protocol.consent, all(1, (m) => m !== 'audio_recording'));
    expect(state.needsReconsent).toBe(false);
    expect(state.declinedRequired()).toEqual(['audio_recording']);
    expect(state.canRunSessions).toBe(false);
  });

  it('needs reconsent when the protocol moves to a new consent version, and old grants no longer count', () => {
    const v2: Protocol = structuredClone(protocol);
    v2.consent.versions.push({ version: 2, modalities: { ...v2.consent.versions[0]!.modalities, llm_processing: { prompt: 'May a cloud language model read transcripts?' } } });
    v2.consent.current_version = 2;
    const given = all(1, () => true);
    expect(needsReconsent(protocol, given)).toBe(false);
    expect(needsReconsent(v2, given)).toBe(true);
    const state = new ConsentState(v2.consent, given);
    expect(state.allows('llm_processing')).toBe(false);
    expect(state.pending().find((q) => q.modality === 'llm_processing')!.prompt).toMatch(/cloud/);
    expect(new ConsentState(v2.consent, [...given, ...all(2, () => true, 9000)]).allows('llm_processing')).toBe(true);
  });
});
