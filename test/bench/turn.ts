// bench:turn — runtime overhead from the end of the participant's speech to the robot's first spoken
// word, excluding model and speech-recognition time: the live runtime (system clock, real SQLite file
// with synchronous=FULL, real safeguard layer, offline responder, memory), with a listener that
// delivers each utterance the moment it is asked and a speaker that returns at once.
// Prints JSON lines; the last has turn_overhead_p95_ms. Run on one core: npm run bench:turn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledStories, type Listener, type RobotLine, type Speaker } from '../../behaviors/index.js';
import { SqliteStore } from '../../data/index.js';
import { systemClock } from '../../runtime/clock.js';
import { createCompanion } from '../../runtime/companion.js';
import { learnedSafeguardGate } from '../../runtime/safeguard-model.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 40);
const answers: Record<string, string[]> = {
  checkin: ["I'm a bit tired today, work was long.", 'Pretty good, I went for a walk with my daughter.', 'Not great, I slept badly.'],
  reflection: ['It reminded me of my grandmother and her garden in Porto, I miss her a lot.', 'When my brother moved away I felt lonely for months.'],
  empathy: ['She taught me the names of every flower.', 'We talk every Sunday now, it helps.'],
  survey: ['four', 'I would say three', 'five'],
};

const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-turn-'));
const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
const log = store.forDevice({ deviceId: 'bench', tz: 'America/New_York', clockSource: 'system' });
log.registerDevice({ hardware: 'bench', hearthVersion: 'bench' }, Date.now());
const participant = log.enrollParticipant({ participantId: 'P01', startDate: '2026-01-01', condition: 'matched', protocolId: null, protocolVersion: null, protocolHash: null }, Date.now());

const samples: { step: string; ms: number }[] = [];
let pending: { step: string; t: number } | null = null;
let n = 0;
const listener: Listener = {
  listen(request, events) {
    const options = answers[request.step] ?? answers.survey!;
    const text = options[n++ % options.length]!;
    const h = setImmediate(() => {
      const now = Date.now();
      pending = { step: request.step, t: performance.now() };
      events.spoke({ text, startedAt: now - 1500, endedAt: now });
    });
    return () => clearImmediate(h);
  },
};
const speaker: Speaker = {
  async speak(_line: RobotLine) {
    if (pending) {
      samples.push({ step: pending.step, ms: performance.now() - pending.t });
      pending = null;
    }
    const now = Date.now();
    return { startedAt: now, endedAt: now };
  },
};

const companion = createCompanion({
  store, log, clock: systemClock, participant, speaker, listener, stories: bundledStories(), hardware: 'bench', hearthVersion: 'bench',
  alerts: { send: async () => undefined }, consent: { allows: () => true }, region: 'US',
  // The storytelling session of issue 2 for every run (no questionnaires), so turns are comparable.
  planFor: () => ({ steps: ['greeting', 'checkin', 'story', 'reflection', 'empathy', 'rating', 'goodbye'], instruments: {}, storySelection: 'matched' }),
  // The device's safeguards: rules and the learned layer (sentence encoder + model), as `hearth run` uses them.
  safeguardGate: learnedSafeguardGate('block'),
});

const waitFor = (state: string) => new Promise<void>((resolve) => {
  if (companion.state() === state) return resolve();
  const sub = companion.actor.subscribe((s) => {
    if (String(s.value) === state) {
      sub.unsubscribe();
      resolve();
    }
  });
});

const t0 = performance.now();
await waitFor('idle');
for (let i = 0; i < SESSIONS; i++) {
  companion.requestSession();
  await new Promise((r) => setImmediate(r));
  await waitFor('idle');
}
companion.shutdown('bench done');
const seconds = (performance.now() - t0) / 1000;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!.toFixed(2));
};
const byStep = new Map<string, number[]>();
for (const s of samples) byStep.set(s.step, [...(byStep.get(s.step) ?? []), s.ms]);
for (const [step, xs] of byStep) console.log(JSON.stringify({ step, turns: xs.length, p50_ms: pct(xs, 50), p95_ms: pct(xs, 95), max_ms: pct(xs, 100) }));
const all = samples.map((s) => s.ms);
console.log(JSON.stringify({
  bench: 'turn', sessions: SESSIONS, turns: all.length, seconds: Number(seconds.toFixed(2)), synchronous: 'FULL',
  turn_overhead_p50_ms: pct(all, 50), turn_overhead_p95_ms: pct(all, 95), turn_overhead_max_ms: pct(all, 100), target_p95_ms: 50, met: pct(all, 95) <= 50,
}));
store.close();
rmSync(dir, { recursive: true, force: true });
