// Story choice in a whole session: the matched condition ranks with the device's sentence encoder (from
// the safeguard gate, the real USE-lite and learned layer) and the pinned story vectors, and says so.
import { describe, expect, it } from 'vitest';
import { DEFAULT_STEPS, LearnedLayer, type SentenceEncoder } from '../../behaviors/index.js';
import { ManualClock } from '../clock.js';
import { titled, useLiteMissing } from '../../perception/text/test-models.js';
import { simRig, type SimRig } from '../../test/support/sim-rig.js';
import { loadLearnedLayer } from '../safeguard-model.js';
import type { SafeguardGate } from './options.js';

const replies = [
  { say: 'Not so good. The optician told me my eyesight is too poor now, so I had to give up the car.', afterMs: 1000 },
  { say: 'It made me think of my father.', afterMs: 1500 },
  { say: 'Yes, that is all.', afterMs: 1500 },
  { say: '4', afterMs: 800 },
];
const matched = () => ({ steps: DEFAULT_STEPS, instruments: {}, storySelection: 'matched' as const });

async function storyEvents(gate: (clock: ManualClock) => Promise<SafeguardGate>): Promise<{ kind: string; detail: Record<string, unknown> }[]> {
  let clock: ManualClock | undefined;
  const rig: SimRig = simRig({ replies }, { planFor: matched, safeguardGate: () => gate(clock!) });
  clock = rig.clock;
  await rig.runUntilState('idle');
  rig.companion.requestSession();
  await rig.runUntilState('idle');
  return rig.rows("SELECT kind, detail_json FROM events WHERE kind LIKE 'story.%' ORDER BY event_id")
    .map((r) => ({ kind: String(r.kind), detail: JSON.parse(String(r.detail_json)) as Record<string, unknown> }));
}

/**
 * The device's learned layer, its encoding tracked by the simulated clock (as a language-model call is),
 * so that simulated time waits for the safeguard checks of each turn instead of running to the session limit.
 */
function tracked(layer: LearnedLayer, clock: ManualClock): LearnedLayer {
  const e = layer.encoder;
  const encoder: SentenceEncoder = { id: e.id, dimension: e.dimension, encode: (texts, signal) => clock.track(e.encode(texts, signal)) };
  return new LearnedLayer(layer.model, encoder);
}

describe.skipIf(useLiteMissing)(titled('story choice in a session (USE-lite)'), () => {
  it('ranks by the encoder blended with the lexical score, with pinned vectors, and logs every candidate', async () => {
    const device = await loadLearnedLayer();
    let learned: LearnedLayer | undefined;
    const events = await storyEvents(async (clock) => ({ learned: (learned ??= tracked(device, clock)), failure: null, policy: 'rules_only' }));
    expect(events.find((e) => e.kind === 'story.vectors')?.detail).toMatchObject({ encoder: device.encoder.id, source: 'pinned', stories: 156 });
    const chosen = events.find((e) => e.kind === 'story.chosen')!.detail as { method: string; storyId: string; encoder: unknown; candidates: { encoder?: number; lexical?: number }[] };
    expect(chosen).toMatchObject({ condition: 'matched', method: 'blend', encoder: { id: device.encoder.id, vectors: 'pinned', blend: 0.5 } });
    expect(chosen.candidates).toHaveLength(156);
    expect(chosen.candidates.every((c) => typeof c.encoder === 'number' && typeof c.lexical === 'number')).toBe(true);
    expect(chosen.storyId).toBe('handing-over-the-car-keys');
  }, 30_000);

  it('when the encoder did not load, ranks by the lexical score and logs why', async () => {
    const events = await storyEvents(async () => ({ learned: null, failure: 'models/use-lite.onnx is missing', policy: 'rules_only' }));
    expect(events.some((e) => e.kind === 'story.vectors')).toBe(false);
    expect(events.find((e) => e.kind === 'story.chosen')!.detail).toMatchObject({
      method: 'lexical', fallbackReason: 'sentence encoder unavailable: models/use-lite.onnx is missing',
    });
  });
});
