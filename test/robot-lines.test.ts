import { describe, expect, it } from 'vitest';
import { FEELINGS } from '../behaviors/responder/lexicon.js';
import { OfflineResponder, type ComposeRequest } from '../behaviors/responder/offline-responder.js';
import {
  AI_DISCLOSURE, STUDY_START_DISCLOSURE, boundaryReply, crisisFarewell, crisisReply, harmReply, medicalReply, safeReply, valuesDeletedReply, type AttachmentKind,
} from '../behaviors/safeguards/replies.js';
import { CRISIS_RESOURCES } from '../behaviors/safeguards/resources.js';
import { checkOutput } from '../behaviors/safeguards/layer.js';
import { FALLBACK_LINES, RELATE_INSTRUMENT, SESSION_LINES } from '../behaviors/session/lines.js';
import type { SurveyInstrument } from '../behaviors/session/session.machine.js';
import { bundledStories } from '../behaviors/stories/story.js';
import type { SpeechAct } from '../behaviors/ports.js';
import { toSurveyInstrument, YES_NO } from '../runtime/study-device.js';
import { BUNDLED_PROTOCOL, instrumentsOf, loadProtocol, repromptFor, type UnclearReason } from '../study-protocol/index.js';

// Issue 9, item 7: every line the robot itself can say — the offline responder's templates with a
// representative set of fillers, the scripted safeguard replies, the session's own lines, story
// framing for the whole bundled library, and every questionnaire item — passes the output checks.
// Lines are enumerated from their sources, so a new template is checked the day it is written.
const responder = new OfflineResponder();
const stories = bundledStories();
const protocol = loadProtocol(BUNDLED_PROTOCOL).protocol;
const consentItems = protocol.consent.versions.flatMap((v) => Object.entries(v.modalities).map(([code, m]) => ({ code, prompt: m!.prompt, scale: YES_NO })));
const instruments: SurveyInstrument[] = [
  ...[...instrumentsOf(protocol).values()].map(toSurveyInstrument),
  RELATE_INSTRUMENT,
  { id: 'consent', intro: 'Before we start, I need to ask you 3 questions about what you agree to. You can say yes or no.', scoringVersion: 'consent-v1', items: consentItems },
];
const UNCLEAR: UnclearReason[] = ['empty', 'ambiguous', 'out_of_range', 'negated', 'unsure', 'repeat_requested', 'no_match'];
const ACTS: SpeechAct[] = [
  'greeting', 'resume', 'checkin.ask', 'checkin.reprompt', 'checkin.ack', 'story.intro', 'story', 'reflection.ask', 'reflection.reprompt', 'empathy',
  'rating.ask', 'rating.reprompt', 'rating.ack', 'survey.intro', 'survey.ask', 'survey.reprompt', 'repair', 'crisis', 'goodbye', 'safe',
];
const REGIONS = [...Object.keys(CRISIS_RESOURCES), 'XX'];

// What participants say, as fillers: a cue of every feeling family, with and without a concrete
// detail (a "my …" phrase, a name, a "the …" phrase), mixed and negated feelings, short answers.
const details = ['', ' about my sister', ' when I was in Lisbon', ' at the hospital', " in my grandmother's kitchen"];
const utterances: (string | null)[] = [
  null, 'Not much, I guess.', 'fine', "I'm not happy about work.", 'I miss her, but it makes me smile.', 'We moved the boxes on Tuesday.',
  ...FEELINGS.flatMap((f) => details.map((d) => `I was ${f.cues[0]}${d}.`)),
  ...FEELINGS.map((f) => `Honestly it was ${f.cues.at(-1)} and my old dog was there.`),
];

function requests(): ComposeRequest[] {
  const base: ComposeRequest = { act: 'greeting', participantId: 'P01', sessionId: 's1', studyDay: 2, turnIndex: 0, story: null, lastUtterance: null, shared: [] };
  const out: ComposeRequest[] = [];
  for (const act of ACTS) {
    if (act === 'greeting') {
      for (const localHour of [8, 14, 20]) for (const firstSession of [true, false]) for (const invitation of [true, false]) out.push({ ...base, act, localHour, firstSession, invitation });
    } else if (act === 'story.intro') {
      for (const s of stories) out.push({ ...base, act, story: { id: s.id, title: s.title } });
    } else if (act === 'checkin.ack' || act === 'empathy') {
      for (const u of utterances) for (const finalExchange of [false, true]) for (const sessionId of ['s1', 's2', 's3']) {
        out.push({ ...base, act, sessionId, lastUtterance: u, shared: u ? [u] : [], finalExchange });
      }
    } else if (act.startsWith('survey.') || act.startsWith('rating.')) {
      for (const inst of instruments) {
        if (act === 'survey.intro') out.push({ ...base, act, prompt: inst.intro ?? undefined });
        for (const item of inst.items) for (const unclear of [undefined, ...UNCLEAR]) out.push({ ...base, act, prompt: item.prompt, scale: item.scale, unclear });
      }
    } else if (act !== 'story') {
      out.push({ ...base, act });
    }
  }
  return out;
}

/** Every line, with where it came from. Story framing is the responder's `story.intro` for every bundled story. */
function allLines(): { line: string; source: string }[] {
  const lines: { line: string; source: string }[] = [];
  for (const req of requests()) for (const line of responder.lines(req)) lines.push({ line, source: `responder ${req.act}` });
  for (const r of REGIONS) {
    for (const [name, line] of [['crisisReply', crisisReply(r)], ['harmReply', harmReply(r)], ['medicalReply', medicalReply(r)], ['crisisFarewell', crisisFarewell(r)]] as const) {
      lines.push({ line, source: `replies ${name} ${r}` });
    }
  }
  lines.push({ line: AI_DISCLOSURE, source: 'replies AI_DISCLOSURE' }, { line: STUDY_START_DISCLOSURE, source: 'replies STUDY_START_DISCLOSURE' });
  const kinds: AttachmentKind[] = ['romance', 'exclusive', 'availability', 'loneliness', 'study-end'];
  // Seeds 0..63 reach every variant (each list has at most 3).
  for (const k of kinds) for (let seed = 0; seed < 64; seed++) lines.push({ line: boundaryReply(k, seed), source: `replies boundary ${k}` });
  for (const act of ACTS) for (let seed = 0; seed < 64; seed++) lines.push({ line: safeReply(act, seed), source: `replies safe ${act}` });
  for (const n of [0, 1, 3]) lines.push({ line: valuesDeletedReply(n), source: 'replies valuesDeleted' });
  for (const [act, line] of Object.entries(FALLBACK_LINES)) lines.push({ line: line!, source: `session fallback ${act}` });
  for (const line of SESSION_LINES) lines.push({ line, source: 'session' });
  for (const inst of instruments) for (const item of inst.items) {
    for (const reason of UNCLEAR) lines.push({ line: repromptFor({ ...item, reverse: false }, reason), source: `instrument ${inst.id} repromptFor` });
  }
  const seen = new Set<string>();
  return lines.filter((l) => !seen.has(l.line) && (seen.add(l.line), true));
}

const lines = allLines();

describe('every line the robot can say passes the output checks', () => {
  it('the enumeration is complete: every line compose says is among the lines listed for its request', () => {
    for (const req of requests()) for (const turnIndex of [0, 1, 2, 5, 11]) {
      expect(responder.lines(req)).toContain(responder.compose({ ...req, turnIndex }));
    }
    expect(lines.length).toBeGreaterThan(1500);
    expect(new Set(lines.map((l) => l.source.split(' ')[0]))).toEqual(new Set(['responder', 'replies', 'session', 'instrument']));
    expect(lines.filter((l) => l.source === 'responder story.intro').length).toBeGreaterThanOrEqual(stories.length * 4);
  });

  it('no line is flagged by any check', () => {
    const flagged = lines
      .map((l) => ({ ...l, verdict: checkOutput(l.line) }))
      .filter((l) => !l.verdict.safe)
      .map((l) => `${l.source}: ${l.line} [${l.verdict.results.filter((r) => r.decision !== 'pass').map((r) => r.evidenceSpan?.cue ?? r.check).join(', ')}]`);
    expect(flagged).toEqual([]);
  });

  it('every paragraph of every bundled story, read as narration, is spoken (none is replaced mid-story)', () => {
    const blocked = stories.flatMap((s) => s.paragraphs.map((p) => ({ id: s.id, p, v: checkOutput(p, { narration: true }) })))
      .filter((x) => !x.v.safe)
      .map((x) => `${x.id}: ${x.p.slice(0, 80)} [${x.v.flagged.join(', ')}]`);
    expect(stories.length).toBeGreaterThan(50);
    expect(blocked).toEqual([]);
  });

  it('no line claims an inner life: the lines that once did are gone', () => {
    const all = lines.map((l) => l.line).join('\n');
    expect(all).not.toMatch(/I really enjoyed|I keep thinking|a story I think about|It means a lot that you told me/);
    expect(all).toMatch(/Thank you for talking with me today\./);
  });
});
