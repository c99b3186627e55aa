/** Microphone adapter implementing perception's `AudioSource`: a sound card via node-record-lpcm16 (arecord or sox). */
export { LpcmMicrophone, type LpcmMicrophoneOptions } from './lpcm-microphone.js';
