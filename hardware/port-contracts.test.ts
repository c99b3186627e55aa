// The Speaker and Listener contracts (behaviors/*.contract.ts), run against every adapter that can run
// here: the simulator, the terminal, espeak-ng (into WAV files: no sound card needed), the microphone
// pipeline's listener, and the ROS 2 adapters against a fake rclnodejs (ROS 2 is not in Debian).
// SimulatedParticipant is left out: it says what its seed makes it say, not a given line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe } from 'vitest';
import { listenerContract } from '../behaviors/listener.contract.js';
import { speakerContract } from '../behaviors/speaker.contract.js';
import { FakeRos } from '../test/fakes/fake-rclnodejs.js';
import { EspeakSpeaker } from './espeak/espeak-speaker.js';
import { Ros2Speaker, Ros4hriVoiceListener } from './ros2/index.js';
import { ScriptedParticipant, type TimerClock } from './sim/scripted-participant.js';
import { SimSpeaker } from './sim/sim-speaker.js';
import { TerminalParticipant } from './sim/terminal-participant.js';
import { UtteranceListener } from './utterance-listener.js';

/** Real time, so the contracts' timeouts mean what they say. */
const realClock: TimerClock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
const now = () => Date.now();
const terminal = (voice?: SimSpeaker) => {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  return { input, participant: new TerminalParticipant({ input, output, now, ...(voice ? { voice } : {}) }) };
};
const unplugged = () => Object.assign(new SimSpeaker(realClock), { fail: new Error('speaker unplugged') });
const haveEspeak = spawnSync('which', ['espeak-ng']).status === 0;

speakerContract('SimSpeaker (real time, 50x fast)', { make: () => new SimSpeaker(realClock, { timeScale: 0.02 }), now, broken: unplugged });
speakerContract('TerminalParticipant', { make: () => terminal().participant, now, broken: () => terminal(unplugged()).participant });
describe.skipIf(!haveEspeak)('espeak-ng (Debian package espeak-ng)', () => {
  speakerContract('EspeakSpeaker into WAV files', {
    make: () => new EspeakSpeaker({ now, wavDir: mkdtempSync(join(tmpdir(), 'hearth-espeak-contract-')) }),
    now,
    broken: () => new EspeakSpeaker({ now, binary: '/nonexistent/espeak-ng' }),
  });
});
speakerContract('Ros2Speaker (fake rclnodejs)', {
  make: () => { const ros = new FakeRos(); return new Ros2Speaker(ros.rcl, ros.rcl.createNode('hearth'), { now }); },
  now,
  broken: () => { const ros = new FakeRos(); ros.serverUp = false; return new Ros2Speaker(ros.rcl, ros.rcl.createNode('hearth'), { now }); },
});

listenerContract('ScriptedParticipant (real time, 20x fast)', {
  make: (lines) => ({ listener: new ScriptedParticipant({ replies: lines.map((say) => ({ say, afterMs: 200 })) }, realClock, { timeScale: 0.05 }), say: () => undefined }),
  keepsEarlySpeech: true,
});
listenerContract('TerminalParticipant', {
  make: () => { const t = terminal(); return { listener: t.participant, say: (text) => { t.input.write(`${text}\n`); } }; },
  keepsEarlySpeech: true,
});
listenerContract('UtteranceListener (microphone pipeline)', {
  make: () => { const ears = new UtteranceListener(); return { listener: ears, say: (text) => ears.heard({ text, startedAt: now() - 800, endedAt: now(), confidence: 0.9 }) }; },
  keepsEarlySpeech: true,
});
listenerContract('Ros4hriVoiceListener (fake rclnodejs)', {
  make: () => {
    const ros = new FakeRos();
    const listener = new Ros4hriVoiceListener(ros.rcl.createNode('hearth'), now);
    ros.publish('/humans/voices/tracked', { ids: ['v1'] });
    return {
      listener,
      say: (text) => {
        ros.publish('/humans/voices/v1/speech', { incremental: text.split(' ')[0], final: '', confidence: 0 });
        ros.publish('/humans/voices/v1/speech', { incremental: '', final: text, confidence: 0.8 });
      },
    };
  },
  keepsEarlySpeech: true,
});
