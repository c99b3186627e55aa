import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import { createEmptyActor, type AnyActorLogic, type AnyActorScope, type AnyActorRef, type AnyMachineSnapshot, type AnyStateNode, type EventObject } from 'xstate';
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
  actions: { saveProgress: () => {}, recordParticipantTurn: () => {}, recordResponse: () => {}, recordStory: () => {}, recordSessionEvent: () => {} },
});

/**
 * The session with the `sayLine` child it invokes for every line, as one graph: a state is the
 * session's snapshot and the running child's. Events of the child's actors (compose, check, speak,
 * the reply stream) go to the child, what the session sends it (barge-in) is delivered to it, and
 * when it finishes the session gets its done event with the child's output, as the running system
 * would do. `value` shows the child's state under the session state that invoked it, so
 * `{ crisis: { replying: 'speaking' } }` is the crisis reply being spoken.
 */
interface Both {
  value: unknown;
  status: string;
  output?: unknown;
  context: AnyMachineSnapshot['context'];
  /** The actors running in the session and in its `sayLine` child. */
  children: Record<string, AnyActorRef>;
  session: AnyMachineSnapshot;
  say: AnyMachineSnapshot | null;
}
const SAY = 'say';
const childEvents = new Set(['robot.sentence', 'robot.replied', 'robot.reply_failed']);

// Pure transitions, as @xstate/graph makes them, keeping the actions they would execute (a `sendTo`).
let executed: { type: string; params?: { to?: unknown; event?: EventObject } }[] = [];
const empty = createEmptyActor();
const scope = {
  self: empty, system: empty.system, id: '', sessionId: 'paths', logger: () => {}, defer: () => {}, stopChild: () => {}, emit: () => {},
  actionExecutor: (a: (typeof executed)[number]) => void executed.push(a),
} as unknown as AnyActorScope;
function transition(logic: AnyActorLogic, snapshot: unknown, event: EventObject) {
  executed = [];
  const next = logic.transition(snapshot, event, scope) as AnyMachineSnapshot;
  return [next, executed] as const;
}

/** A child's logic and input, as the session created it (the provided `sayLine`, with its input resolved). */
const created = (ref: AnyActorRef) => ref as unknown as { logic: AnyActorLogic; options: { input: unknown } };
const startChild = (ref: AnyActorRef) => created(ref).logic.getInitialSnapshot(scope, created(ref).options.input) as AnyMachineSnapshot;

function nest(value: unknown, child: unknown): unknown {
  if (typeof value === 'string') return { [value]: child };
  const [k, v] = Object.entries(value as Record<string, unknown>)[0]!;
  return { [k]: nest(v, child) };
}

function both(session: AnyMachineSnapshot, say: AnyMachineSnapshot | null): Both {
  const { [SAY]: _say, ...own } = session.children as Record<string, AnyActorRef>;
  return {
    value: say ? nest(session.value, say.value) : session.value,
    status: session.status, output: session.output, context: session.context,
    children: { ...own, ...(say ? { [SAY]: _say!, ...(say.children as Record<string, AnyActorRef>) } : {}) },
    session, say,
  };
}

/** Run the child on `event`; when it finishes, the session hears of it. */
function stepChild(session: AnyMachineSnapshot, say: AnyMachineSnapshot, event: EventObject): Both {
  const ref = session.children[SAY] as AnyActorRef;
  const [next] = transition(created(ref).logic, say, event);
  if (next.status === 'done') return stepSession(session, { type: `xstate.done.actor.${SAY}`, output: next.output, actorId: SAY } as EventObject);
  if (next.status === 'error') return stepSession(session, { type: `xstate.error.actor.${SAY}`, error: next.error, actorId: SAY } as EventObject);
  return both(session, next);
}

/** Run the session on `event`, start a `sayLine` it invoked, and deliver what it sent to the child. */
function stepSession(session: AnyMachineSnapshot, event: EventObject, say: AnyMachineSnapshot | null = null): Both {
  const before = session.children[SAY] as AnyActorRef | undefined;
  const [next, actions] = transition(machine, session, event);
  const ref = next.children[SAY] as AnyActorRef | undefined;
  let child = ref === undefined ? null : ref === before ? say : startChild(ref);
  let state = both(next, child);
  for (const a of actions) {
    if (a.type === 'xstate.sendTo' && ref && a.params?.to === ref && child) {
      state = stepChild(next, child, a.params.event!);
      child = state.say;
    }
  }
  return state;
}

const logic = {
  getInitialSnapshot: (): Both => {
    const s = machine.getInitialSnapshot(scope, input) as AnyMachineSnapshot;
    const ref = s.children[SAY] as AnyActorRef | undefined;
    return both(s, ref ? startChild(ref) : null);
  },
  transition: (state: Both, event: EventObject): Both => {
    const id = /^xstate\.(?:done|error)\.actor\.(.+)$/.exec(event.type)?.[1];
    const forChild = state.say !== null && (childEvents.has(event.type) || (id !== undefined && id in (state.say.children as object)));
    return forChild ? stepChild(state.session, state.say!, event) : stepSession(state.session, event, state.say);
  },
} as unknown as typeof machine;

function afterEvents(node: AnyStateNode, out: string[] = []): string[] {
  for (const t of node.after ?? []) out.push(t.eventType);
  for (const child of Object.values(node.states)) afterEvents(child, out);
  return out;
}

const spoke = (text: string, confidence?: number) => ({ type: 'participant.spoke' as const, utterance: { text, startedAt: 0, endedAt: 1, ...(confidence === undefined ? {} : { confidence }) } });
const timers = afterEvents(machine.root);
const actorEvents: Record<string, object[]> = {
  compose: [{ type: 'xstate.done.actor.compose', output: 'a line' }, { type: 'xstate.error.actor.compose', error: new Error('model down') }],
  check: [
    { type: 'xstate.done.actor.check', output: { text: 'a line', replaced: false } },
    { type: 'xstate.done.actor.check', output: { text: 'A safe line.', replaced: true } },
    { type: 'xstate.error.actor.check', error: new Error('check crashed') },
  ],
  speak: [{ type: 'xstate.done.actor.speak', output: { startedAt: 0, endedAt: 1 } }, { type: 'xstate.error.actor.speak', error: new Error('speaker unplugged') }],
  replyStream: [{ type: 'robot.sentence', text: 'Another sentence.', fromModel: true }, { type: 'robot.replied' }, { type: 'robot.reply_failed', error: 'stream broke' }],
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
type Say = { queue: unknown[]; ended: boolean; replaced: boolean; streamError: string | null };
// Only what can really happen in a state: results of the actors it runs, and its own timers.
const events = ((state: Both) => {
  if (state.status !== 'active') return [];
  const say = state.say?.context as Say | undefined;
  // A stream sends until it ends; one sentence waiting to be spoken stands for any number of them.
  const streamMaySend = say !== undefined && say.queue.length === 0 && !say.ended;
  const running = Object.keys(state.children).filter((id) => id !== 'replyStream' || streamMaySend);
  const out = running.flatMap((id) => actorEvents[id] ?? []);
  // The session time limit can fire in any state.
  out.push(...timers.filter((t) => t === 'xstate.after.sessionLimit.session').map((type) => ({ type })));
  if (running.includes('listen')) {
    const path = ['session', ...JSON.stringify(state.session.value).match(/[a-z]+/gi)!].join('.');
    out.push(...timers.filter((t) => t.endsWith(path)).map((type) => ({ type })));
  }
  return out;
}) as never;

// States differ by where we are and the counters that steer the flow.
const serializeState = (s: Both) => {
  const c = s.context as { progress: { stepIndex: number; paragraph: number; exchanges: number; item: number; goodbyeSaid: boolean }; story: unknown; reprompts: number; crisisTurns: number; scripted: unknown; pending: { text: string; confidence?: number } | null; lastUtterance: { text: string } | null; heardAny: boolean; overtime: boolean; outcome: unknown };
  const p = c.progress;
  // What is being screened steers what follows (a goodbye, a repair), and so does a survey answer said with a reply.
  const pending = c.pending && [c.pending.text, c.pending.confidence ?? null];
  const last = JSON.stringify(s.value).includes('"survey"') ? c.lastUtterance?.text ?? null : c.lastUtterance !== null;
  // A streamed reply steers itself too: sentences waiting, a stream that ended (or failed), a replaced sentence.
  const say = s.say?.context as (Say & { input: { act: string; scripted: unknown } }) | undefined;
  const line = say && say.input.act === 'empathy' && say.input.scripted === null ? [say.queue.length, say.ended, say.streamError !== null, say.replaced] : null;
  return JSON.stringify([s.value, p.stepIndex, p.paragraph, p.exchanges, p.item, p.goodbyeSaid, c.story !== null, c.reprompts, Math.min(c.crisisTurns, 2), c.scripted !== null, pending, last, c.heardAny, c.overtime, line, s.status === 'done' ? c.outcome : null]);
};

const isSpeaking = (value: unknown) => JSON.stringify(value).includes('"speaking"');

// The whole state graph (about 5,400 states with a two-paragraph story, the lines' own states included). Invariants checked on the graph hold
// on every path through it, which enumerating simple paths could never finish doing.
type Graph = Record<string, { state: unknown; transitions: Record<string, { event: { type: string }; state: unknown }> }>;
const adjacency = getAdjacencyMap(logic, { events, input, serializeState: serializeState as never }) as unknown as Graph;
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

  it('no line is spoken unchecked: what was composed or streamed reaches the speaker only through the output check', () => {
    let checked = 0;
    for (const [k, node] of nodes) {
      if (isSpeaking(snap(k).value)) continue;
      for (const t of Object.values(node.transitions)) {
        if (!isSpeaking((t.state as Snap).value)) continue;
        // Besides the check's verdict, only Hearth's own fixed lines: the act's fallback when composing,
        // checking or a stream failed, or the scripted line.
        expect(['xstate.done.actor.check', 'xstate.error.actor.compose', 'xstate.error.actor.check', 'robot.replied', 'robot.reply_failed'], `${JSON.stringify(snap(k).value)} → ${t.event.type}`).toContain(t.event.type);
        if (t.event.type === 'xstate.done.actor.check') checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('a shortest path to the end exists that completes the session', () => {
    const done = getShortestPaths(logic, { events, input, serializeState: serializeState as never, toState: (s) => s.status === 'done' && (s.output as { status: string }).status === 'completed' });
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
          expect(Object.keys(next.children).filter((id) => ['say', 'compose', 'check', 'speak', 'replyStream', 'chooseStory'].includes(id))).toEqual([]);
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
