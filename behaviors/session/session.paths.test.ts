import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import type { AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { Story } from '../stories/story.js';
import { sessionMachine, type SessionInput } from './session.machine.js';

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

const spoke = (text: string) => ({ type: 'participant.spoke' as const, utterance: { text, startedAt: 0, endedAt: 1 } });
const timers = afterEvents(machine.root);
const actorEvents: Record<string, object[]> = {
  compose: [{ type: 'xstate.done.actor.compose', output: 'a line' }, { type: 'xstate.done.actor.compose', output: '' }, { type: 'xstate.error.actor.compose', error: new Error('model down') }],
  speak: [{ type: 'xstate.done.actor.speak', output: { startedAt: 0, endedAt: 1 } }, { type: 'xstate.error.actor.speak', error: new Error('speaker unplugged') }],
  screen: [
    { type: 'xstate.done.actor.screen', output: { route: 'continue' } },
    { type: 'xstate.done.actor.screen', output: { route: 'crisis' } },
    { type: 'xstate.error.actor.screen', error: new Error('check crashed') },
  ],
  bargeIn: [{ type: 'participant.interrupted' }],
  chooseStory: [{ type: 'xstate.done.actor.chooseStory', output: story }, { type: 'xstate.error.actor.chooseStory', error: new Error('library empty') }],
  listen: [
    spoke('I feel fine today'), spoke('four'), spoke('skip'), spoke('mmm'), spoke('bye'),
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
  const c = s.context as { progress: { stepIndex: number; paragraph: number; exchanges: number; item: number; goodbyeSaid: boolean }; story: unknown; reprompts: number; crisisTurns: number; scripted: unknown; lastUtterance: unknown; heardAny: boolean; overtime: boolean; outcome: unknown };
  const p = c.progress;
  return JSON.stringify([s.value, p.stepIndex, p.paragraph, p.exchanges, p.item, p.goodbyeSaid, c.story !== null, c.reprompts, Math.min(c.crisisTurns, 2), c.scripted !== null, c.lastUtterance !== null, c.heardAny, c.overtime, s.status === 'done' ? c.outcome : null]);
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
    for (const v of [{ interruption: 'listening' }, { interruption: { resuming: 'speaking' } }, { crisis: 'listening' }, { survey: 'listening' }, { empathy: { responding: 'continuing' } }]) {
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
