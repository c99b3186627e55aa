/** Microphone adapters implementing perception's `AudioSource`: a sound card via node-record-lpcm16 (arecord or sox), echo gating, the device's voice path. */
export { LpcmMicrophone, type LpcmMicrophoneOptions } from './lpcm-microphone.js';
export { EchoGate, type EchoGateOptions } from './echo-gate.js';
export { MicrophonePath, type MicrophonePathOptions } from './microphone-path.js';
