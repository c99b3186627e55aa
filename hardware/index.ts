/** Public surface of `hardware/`: adapters for speakers, listeners, cameras, microphones and OpenAI-compatible model services. */
export { EspeakSpeaker, type EspeakOptions } from './espeak/espeak-speaker.js';
export { MixerError, MixerVolume, type MixerVolumeOptions } from './espeak/mixer-volume.js';
export { loadScript, parseScript, ScriptError, type ParticipantScript, type ScriptReply } from './sim/script.js';
export { ScriptedParticipant, speechDurationMs, type TimerClock } from './sim/scripted-participant.js';
export { seededRandom, SimulatedParticipant } from './sim/simulated-participant.js';
export { SimSpeaker } from './sim/sim-speaker.js';
export { TerminalParticipant } from './sim/terminal-participant.js';
export * from './camera/index.js';
export * from './microphone/index.js';
export * from './openai/index.js';
export * from './ros2/index.js';
export { UtteranceListener } from './utterance-listener.js';
