import { getAdjacencyMap } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { companionMachine } from './companion.machine.js';

// Path tests over the companion statechart: a device or service failure never ends the runtime.
const machine = companionMachine.provide({ actions: { recordRuntimeEvent: () => {} } });

const sessionInput = { sessionId: 's1', participantId: 'P01', studyDay: 1, story: { id: 'x', title: 'x', themes: [], emotions: [], mainEvent: '', readingTimeS: 1, paragraphs: ['p'] }, firstSession: false };
const actorEvents: Record<string, object[]> = {
  boot: [{ type: 'xstate.done.actor.boot', output: { resume: null } }, { type: 'xstate.done.actor.boot', output: { resume: sessionInput } }, { type: 'xstate.error.actor.boot', error: new Error('disk gone') }],
  prepareSession: [{ type: 'xstate.done.actor.prepareSession', output: sessionInput }, { type: 'xstate.error.actor.prepareSession', error: new Error('no stories') }],
  session: [
    { type: 'xstate.done.actor.session', output: { status: 'completed', reason: null } },
    { type: 'xstate.done.actor.session', output: { status: 'interrupted', reason: 'speaker failed: unplugged', deviceFault: 'speaker' } },
    { type: 'xstate.done.actor.session', output: { status: 'interrupted', reason: 'microphone failed: unplugged', deviceFault: 'microphone' } },
    { type: 'xstate.done.actor.session', output: { status: 'interrupted', reason: 'participant left' } },
    { type: 'xstate.error.actor.session', error: new Error('bug') },
  ],
  closeSession: [{ type: 'xstate.done.actor.closeSession' }, { type: 'xstate.error.actor.closeSession', error: new Error('disk full') }],
  checkDevices: [{ type: 'xstate.done.actor.checkDevices' }, { type: 'xstate.error.actor.checkDevices', error: new Error('still unplugged') }],
};
const events = ((state: { status: string; children: Record<string, unknown>; value: unknown }) => {
  if (state.status !== 'active') return [];
  const out: object[] = [{ type: 'session.requested' }, { type: 'shutdown.requested' }];
  for (const id of Object.keys(state.children)) out.push(...(actorEvents[id] ?? []));
  if (state.value === 'degraded') out.push({ type: 'xstate.after.deviceRetry.companion.degraded' });
  return out;
}) as never;
const serializeState = (s: { value: unknown; status: string; context: { stopping: boolean; fault: string | null; session: unknown } }) =>
  JSON.stringify([s.value, s.status, s.context.stopping, s.context.fault !== null, s.context.session !== null]);

type Graph = Record<string, { state: { value: unknown; context: unknown }; transitions: Record<string, { event: { type: string }; state: { value: unknown } }> }>;
const adjacency = getAdjacencyMap(machine, { events, serializeState: serializeState as never }) as unknown as Graph;
const nodes = Object.values(adjacency);

describe('companion statechart, on every path', () => {
  it('reaches idle, session, closing, degraded and recovering', () => {
    const values = new Set(nodes.map((n) => JSON.stringify(n.state.value)));
    for (const v of ['idle', 'preparing', 'session', 'closing', 'degraded', 'recovering', 'stopped']) expect(values).toContain(JSON.stringify(v));
  });

  it('only a shutdown request ever stops the runtime; failures lead to degraded, never to the end', () => {
    let failures = 0;
    for (const node of nodes) {
      for (const t of Object.values(node.transitions)) {
        const next = t.state as unknown as { status: string; value: unknown; context: { stopping: boolean } };
        if (next.status === 'done') expect(next.context.stopping || t.event.type === 'shutdown.requested').toBe(true);
        expect(next.status).not.toBe('error');
        if (t.event.type.startsWith('xstate.error') || /failed/.test(JSON.stringify((t.event as { output?: unknown }).output ?? ''))) {
          failures++;
          // Only a shutdown already under way may end the runtime after a failure.
          if (!(node.state.context as { stopping: boolean }).stopping) expect(next.status).toBe('active');
        }
      }
    }
    expect(failures).toBeGreaterThan(5);
  });

  it('a session that was started is always closed before the runtime is idle or stopped again', () => {
    for (const node of nodes) {
      if (JSON.stringify(node.state.value) !== '"session"') continue;
      for (const t of Object.values(node.transitions)) {
        const next = JSON.stringify(t.state.value);
        expect(['"session"', '"closing"']).toContain(next);
      }
    }
  });

  it('a device fault at the end of a session degrades the runtime, which recovers to idle', () => {
    const degradedAfterClose = nodes.some((n) => JSON.stringify(n.state.value) === '"closing"' &&
      Object.values(n.transitions).some((t) => JSON.stringify(t.state.value) === '"degraded"'));
    expect(degradedAfterClose).toBe(true);
    const recovers = nodes.some((n) => JSON.stringify(n.state.value) === '"recovering"' &&
      Object.values(n.transitions).some((t) => JSON.stringify(t.state.value) === '"idle"'));
    expect(recovers).toBe(true);
  });
});
