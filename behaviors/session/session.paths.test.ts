import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import type { AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { Story } from '../stories/story.js';
import { ENDED_AFTER_CRISIS, sessionMachine, type SessionInput } from './session.machine.js';

// Path tests over the real session statechart: every reachable path is checked for invariants.
const story: Story = {
  id: 'test-story', title: 'Test', themes: ['t'], emotions: ['e'], mainEvent: 'm', readingTimeS: 10,
  paragraphs: ['First paragraph.', 'Second paragraph.'],
};
// A template with every behaviour and a one-item survey, so every kind of step is in the graph.
const input: SessionInput = {
  sessionId: 's1', participantId: 'P01', studyDay: 1, story: null, firstSession: true, exchanges: 2,
  steps: ['greeting', 'survey:mood', 'checkin', 'story', 'reflection', 'empathy', 'rating', 'goodbye'],
  instruments: { mood: { id: 'mood', intro: 'Two quick questions.', scoringVersion: 'm1', items: [{ code: 'v', prompt: 'From 1 to 9?', scale: { min: 1, max: 9 } }] } },
};

// Effects are no-ops here: the graph only follows transitions.
const machine = sessionMachine.provide({
  actions: { saveProgress: () => {}, recordRobotTurn: () => {}, recordParticipantTurn: () => {}, recordResponse: () => {}, recordStory: () => {}, recordSessionEvent: () => {} },
});

function afterEvents(node: AnyStateNode, out: string[] = []): string[] {
  for (const t of node.after ?? []) out.push(t.eventType);
  for (const child of Object.values(node.states)) afterEvents(child, out);
  return out;
}

const spoke = (text: string, confidence?: number) => ({ type: 'participant.spoke' as const, utterance: { text, startedAt: 0, endedAt: 1, ...(confidence === undefined ? {} : { confidence }) } });
const timers = afterEvents(machine.root);
const actorEvents: Record<string, object[]> = {
  compose: [{ type: 'xstate.done.actor.compose', output: 'a line' }, { type: 'xstate.done.actor.compose', output: '' }, { type: 'xstate.error.actor.compose', error: new Error('model down') }],
  speak: [{ type: 'xstate.done.actor.speak', output: { startedAt: 0, endedAt: 1 } }, { type: 'xstate.error.actor.speak', error: new Error('speaker unplugged') }],
  screen: [
    { type: 'xstate.done.actor.screen', output: { route: 'continue' } },
    { type: 'xstate.done.actor.screen', output: { route: 'crisis', line: { text: 'Call or text 988.', act: 'crisis' } } },
    { type: 'xstate.done.actor.screen', output: { route: 'reply', line: { text: "I'm an AI.", act: 'safe' } } },
    { type: 'xstate.error.actor.screen', error: new Error('check crashed') },
  ],
  bargeIn: [{ type: 'participant.interrupted' }],
  chooseStory: [{ type: 'xstate.done.actor.chooseStory', output: story }, { type: 'xstate.error.actor.chooseStory', error: new Error('library empty') }],
  listen: [
    spoke('I feel fine today'), spoke('four'), spoke('skip'), spoke('mmm'), spoke('bye'), spoke('four', 0.2),
    { type: 'participant.left' }, { type: 'listener.failed', reason: 'microphone unplugged' },
  ],
};
// Only what can really happen in a state: results of the actors it runs, and its own timers.
const events = ((state: { status: string; children: Record<string, unknown>; value: unknown }) => {
  if (state.status !== 'active') return [];
  const running = Object.keys(state.children);
  const out = running.flatMap((id) => actorEvents[id] ?? []);
  // The session time limit can fire in any state.
  out.push(...timers.filter((t) => t === 'xstate.after.sessionLimit.session').map((type) => ({ type })));
  if (running.includes('listen')) {
    const path = ['session', ...JSON.stringify(state.value).match(/[a-z]+/gi)!].join('.');
    out.push(...timers.filter((t) => t.endsWith(path)).map((type) => ({ type })));
  }
  return out;
}) as never;

// States differ by where we are and the counters that steer the flow.
const serializeState = (s: { value: unknown; context: Record<string, unknown>; status: string }) => {
  const c = s.context as { progress: { stepIndex: number; paragraph: number; exchanges: number; item: number; goodbyeSaid: boolean }; story: unknown; reprompts: number; crisisTurns: number; scripted: unknown; pending: { text: string; confidence?: number } | null; lastUtterance: { text: string } | null; heardAny: boolean; overtime: boolean; outcome: unknown };
  const p = c.progress;
  // What is being screened steers what follows (a goodbye, a repair), and so does a survey answer said with a reply.
  const pending = c.pending && [c.pending.text, c.pending.confidence ?? null];
  const last = JSON.stringify(s.value).includes('"survey"') ? c.lastUtterance?.text ?? null : c.lastUtterance !== null;
  return JSON.stringify([s.value, p.stepIndex, p.paragraph, p.exchanges, p.item, p.goodbyeSaid, c.story !== null, c.reprompts, Math.min(c.crisisTurns, 2), c.scripted !== null, pending, last, c.heardAny, c.overtime, s.status === 'done' ? c.outcome : null]);
};

const isSpeaking = (value: unknown) => JSON.stringify(value).includes('"speaking"');

// The whole state graph (158 states with a two-paragraph story). Invariants checked on the graph hold
// on every path through it, which enumerating simple paths could never finish doing.
type Graph = Record<string, { state: unknown; transitions: Record<string, { event: { type: string }; state: unknown }> }>;
const adjacency = getAdjacencyMap(machine, { events, input, serializeState: serializeState as never }) as unknown as Graph;
const nodes = Object.entries(adjacency);
const successors = (key: string) => Object.values(adjacency[key]!.transitions).map((t) => serializeState(t.state as never));
type Snap = { value: unknown; status: string; output?: unknown };
const snap = (key: string) => adjacency[key]!.state as unknown as Snap;

function reachableFrom(start: string[]): Set<string> {
  const seen = new Set(start);
  const queue = [...start];
  while (queue.length) for (const next of successors(queue.pop()!)) if (!seen.has(next)) (seen.add(next), queue.push(next));
  return seen;
}

describe('session statechart, on every path', () => {
  it('explores the whole graph', () => {
    expect(nodes.length).toBeGreaterThan(100);
    expect(nodes.some(([k]) => snap(k).status === 'done')).toBe(true);
    const eventTypes = new Set(nodes.flatMap(([, n]) => Object.values(n.transitions).map((t) => t.event.type)));
    for (const timer of timers) expect(eventTypes).toContain(timer);
    // Every kind of state is in the graph, barge-in pauses and crisis care included.
    const values = new Set(nodes.map(([k]) => JSON.stringify(snap(k).value)));
    for (const v of [{ interruption: 'listening' }, { interruption: { resuming: 'speaking' } }, { crisis: 'listening' }, { survey: 'listening' }, { empathy: { responding: 'continuing' } },
      { survey: 'screening' }, { survey: { replying: 'speaking' } }, { checkin: { repairing: 'speaking' } }, { crisis: { farewell: 'speaking' } }, { crisis: { closing: 'speaking' } }]) {
      expect([...values].some((x) => x.startsWith(JSON.stringify(v).slice(0, -1))), JSON.stringify(v)).toBe(true);
    }
    expect(timers.length).toBe(7); // the session limit; check-in, reflection, empathy, survey, crisis and interruption listening
    expect(eventTypes).toContain('participant.interrupted');
  });

  it('from every reachable state the session can still end (nothing dangles)', () => {
    const canEnd = new Set(nodes.filter(([k]) => snap(k).status === 'done').map(([k]) => k));
    let grew = true;
    while (grew) {
      grew = false;
      for (const [k] of nodes) if (!canEnd.has(k) && successors(k).some((n) => canEnd.has(n))) (canEnd.add(k), (grew = true));
    }
    const stuck = nodes.filter(([k]) => !canEnd.has(k)).map(([k]) => JSON.stringify(snap(k).value));
    expect(stuck).toEqual([]);
  });

  it('a session that ends has exactly one terminal status, completed or interrupted, and nothing follows it', () => {
    for (const [k] of nodes.filter(([k]) => snap(k).status === 'done')) {
      const out = snap(k).output as { status: string; reason: string | null };
      expect(['completed', 'interrupted', 'missed']).toContain(out.status);
      expect(successors(k).filter((n) => n !== k)).toEqual([]);
    }
  });

  it('nothing is spoken after goodbye', () => {
    const afterGoodbye = nodes
      .filter(([k]) => JSON.stringify(snap(k).value) === JSON.stringify({ goodbye: 'speaking' }))
      .map(([k]) => serializeState(adjacency[k]!.transitions[JSON.stringify({ type: 'xstate.done.actor.speak', output: { startedAt: 0, endedAt: 1 } })]?.state as never ?? adjacency[k]!.state as never));
    expect(afterGoodbye.length).toBeGreaterThan(0);
    for (const k of reachableFrom(afterGoodbye)) expect(isSpeaking(snap(k).value), JSON.stringify(snap(k).value)).toBe(false);
  });

  it('a failed speaker or microphone ends the session as interrupted, with the reason', () => {
    let checked = 0;
    for (const [, node] of nodes) {
      for (const t of Object.values(node.transitions)) {
        if (!['xstate.error.actor.speak', 'listener.failed'].includes(t.event.type)) continue;
        const end = snap(serializeState(t.state as never));
        expect(end.status).toBe('done');
        expect((end.output as { status: string }).status).toBe('interrupted');
        expect((end.output as { reason: string }).reason).toMatch(/speaker failed|microphone failed/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('after a crisis disclosure the story flow is never re-entered, and the robot listens before it closes', () => {
    const crisisStates = nodes.filter(([k]) => JSON.stringify(snap(k).value).startsWith('{"crisis"')).map(([k]) => k);
    expect(crisisStates.length).toBeGreaterThan(3);
    for (const k of reachableFrom(crisisStates)) {
      const v = JSON.stringify(snap(k).value);
      expect(v === '"done"' || v.startsWith('{"crisis"') || v === '"deviceFailed"' || v === '"abandoned"', v).toBe(true);
    }
    // From the crisis reply being spoken, the next state is listening, never the end.
    for (const [k, node] of nodes) {
      if (JSON.stringify(snap(k).value) !== JSON.stringify({ crisis: { replying: 'speaking' } })) continue;
      const done = Object.values(node.transitions).find((t) => t.event.type === 'xstate.done.actor.speak')!;
      expect(JSON.stringify((done.state as Snap).value)).toBe(JSON.stringify({ crisis: 'listening' }));
    }
  });

  it('speaking over the robot never cuts short a goodbye, a crisis line or a safety line', () => {
    for (const [k, node] of nodes) {
      const v = JSON.stringify(snap(k).value);
      if (!/"(goodbye|crisis)"|"replying"/.test(v) || !v.includes('speaking')) continue;
      const t = Object.values(node.transitions).find((x) => x.event.type === 'participant.interrupted');
      if (t) expect(JSON.stringify((t.state as Snap).value), v).toBe(v);
    }
  });

  it('a shortest path to the end exists that completes the session', () => {
    const done = getShortestPaths(machine, { events, input, serializeState: serializeState as never, toState: (s) => s.status === 'done' && (s.output as { status: string }).status === 'completed' });
    expect(done.length).toBeGreaterThan(0);
  });
});

// Issue 9: a disclosure said anywhere (a questionnaire answer, a reply to "could you say it again?",
// a "bye") must reach the input safeguards. These tests prove it on the whole graph, structurally.
type Ctx = { pending: unknown; lastUtterance: unknown; outcome: { status: string; reason: string | null }; progress: { mood: string | null; shared: string[]; answers: Record<string, unknown> } };
type Full = Snap & { context: Ctx; children: Record<string, { options?: { input?: { utterance?: unknown; tentative?: boolean } } }> };
const full = (state: unknown) => state as Full;
const LISTENING_STEPS = ['checkin', 'reflection', 'empathy', 'survey', 'crisis', 'interruption'];
const hears = (state: unknown) => 'listen' in full(state).children;
const screening = (state: unknown) => 'screen' in full(state).children;
const NOT_SPEECH = new Set(['participant.left', 'listener.failed', 'xstate.after.sessionLimit.session']);

/** What the session took from the participant's words: the last utterance, mood, what was shared, answers given. */
const taken = (c: Ctx) => ({
  last: c.lastUtterance,
  mood: c.progress.mood,
  shared: c.progress.shared.length,
  answers: Object.entries(c.progress.answers).filter(([, v]) => v !== null && v !== undefined).length,
  endedEarly: c.outcome.reason === 'ended early by participant',
});

describe('every utterance is screened before anything acts on it, in every step', () => {
  it('the states that hear the participant are exactly the listening states of the six steps that ask or pause', () => {
    const hearing = new Set(nodes.filter(([, n]) => hears(n.state)).map(([k]) => JSON.stringify(snap(k).value)));
    expect([...hearing].sort()).toEqual(LISTENING_STEPS.map((s) => JSON.stringify({ [s]: 'listening' })).sort());
  });

  it('what is heard goes straight to the screen, with the very utterance heard; nothing else leaves a listening state but silence, a lost participant or device, or the time limit', () => {
    const screenedAt = new Set<string>();
    for (const [k, node] of nodes) {
      if (!hears(node.state)) continue;
      const step = Object.keys(snap(k).value as object)[0]!;
      for (const t of Object.values(node.transitions)) {
        const next = full(t.state);
        if (t.event.type === 'participant.spoke') {
          const heard = (t.event as unknown as { utterance: unknown }).utterance;
          expect(next.value, JSON.stringify(snap(k).value)).toEqual({ [step]: 'screening' });
          expect(screening(next)).toBe(true);
          expect(next.children.screen!.options?.input?.utterance).toEqual(heard);
          // Nothing is said, chosen or stored from the words before the verdict.
          expect(Object.keys(next.children).filter((id) => ['compose', 'speak', 'chooseStory'].includes(id))).toEqual([]);
          expect(taken(next.context)).toEqual(taken(full(node.state).context));
          screenedAt.add(step);
        } else if (serializeState(t.state as never) !== k) {
          const silence = t.event.type.startsWith('xstate.after.replyTimeout.');
          expect(silence || NOT_SPEECH.has(t.event.type), t.event.type).toBe(true);
        }
      }
    }
    expect([...screenedAt].sort()).toEqual([...LISTENING_STEPS].sort());
  });

  it('the session takes nothing from the participant\'s words (answer, mood, story match, goodbye, repair) except on the screen\'s verdict', () => {
    let acted = 0;
    for (const [, node] of nodes) {
      const before = full(node.state);
      for (const t of Object.values(node.transitions)) {
        const after = full(t.state);
        const [a, b] = [taken(after.context), taken(before.context)];
        const changed = (a.last !== null && a.last !== b.last) || (a.mood !== null && a.mood !== b.mood) || a.shared > b.shared || a.answers > b.answers || (a.endedEarly && !b.endedEarly);
        const repairs = /"repairing"/.test(JSON.stringify(after.value)) && !/"repairing"/.test(JSON.stringify(before.value));
        const inReply = (v: unknown) => /"replying"/.test(JSON.stringify(v)) && !/^\{"crisis"/.test(JSON.stringify(v));
        if (inReply(after.value) && !inReply(before.value)) {
          // A reply of the screen's own (an AI disclosure, a boundary) is said only on its verdict.
          expect(t.event.type).toBe('xstate.done.actor.screen');
          expect((t.event as unknown as { output: { route: string } }).output.route).toBe('reply');
        }
        if (!changed && !repairs) continue;
        // An answer said together with a question the screen replied to counts once that reply is said.
        if (inReply(before.value) && !repairs && a.last === b.last) continue;
        // The screen's verdict, or its failure (handled as unsafe: crisis care).
        expect(['xstate.done.actor.screen', 'xstate.error.actor.screen'], `${JSON.stringify(before.value)} → ${JSON.stringify(after.value)}`).toContain(t.event.type);
        expect(screening(before)).toBe(true);
        acted++;
      }
    }
    expect(acted).toBeGreaterThan(20);
  });

  it('from every screen, a crisis verdict or a failed screen leads to crisis care', () => {
    let checked = 0;
    for (const [k, node] of nodes) {
      if (!screening(node.state)) continue;
      for (const t of Object.values(node.transitions)) {
        const e = t.event as unknown as { type: string; output?: { route: string } };
        if (!(e.type === 'xstate.error.actor.screen' || (e.type === 'xstate.done.actor.screen' && e.output?.route === 'crisis'))) continue;
        expect(JSON.stringify(full(t.state).value), JSON.stringify(snap(k).value)).toMatch(/^\{"crisis"/);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(LISTENING_STEPS.length * 2);
  });

  it('an unsure utterance is screened before it is repaired, and the screen is told it is tentative', () => {
    const unsure = nodes.filter(([, n]) => screening(n.state) && full(n.state).children.screen!.options?.input?.tentative === true);
    expect(unsure.length).toBeGreaterThan(3);
    for (const [k, node] of unsure) {
      const crisis = Object.values(node.transitions).find((t) => (t.event as unknown as { output?: { route: string } }).output?.route === 'crisis')!;
      expect(JSON.stringify(full(crisis.state).value), JSON.stringify(snap(k).value)).toMatch(/^\{"crisis"/);
    }
  });

  it('a session that reached crisis care ends as ended-after-crisis (goodbye, quiet or gone), never as "participant left"', () => {
    const crisisStates = nodes.filter(([k]) => JSON.stringify(snap(k).value).startsWith('{"crisis"')).map(([k]) => k);
    const ends = [...reachableFrom(crisisStates)].filter((k) => snap(k).status === 'done').map((k) => snap(k).output as { status: string; reason: string });
    expect(ends.length).toBeGreaterThan(2);
    for (const out of ends) {
      if (/speaker failed|microphone failed/.test(out.reason)) continue;
      expect(out).toEqual({ status: 'completed', reason: ENDED_AFTER_CRISIS });
    }
    // Saying goodbye in crisis care is screened, then answered with the farewell, not a silent exit.
    const byes = nodes.filter(([, n]) => screening(n.state) && JSON.stringify(snap(serializeState(n.state as never)).value) === JSON.stringify({ crisis: 'screening' }) && (full(n.state).context.pending as { text: string } | null)?.text === 'bye');
    expect(byes.length).toBeGreaterThan(0);
    for (const [, node] of byes) {
      const passed = Object.values(node.transitions).find((t) => (t.event as unknown as { output?: { route: string } }).output?.route === 'continue')!;
      expect(full(passed.state).value).toEqual({ crisis: { farewell: 'composing' } });
    }
  });
});
