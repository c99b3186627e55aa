/** Microphone adapters implementing perception's `AudioSource`: a sound card via node-record-lpcm16, any file via ffmpeg. */
export { FfmpegAudioSource, decodeAudioFile, type FfmpegAudioSourceOptions } from './ffmpeg-audio-source.js';
export { LpcmMicrophone, type LpcmMicrophoneOptions } from './lpcm-microphone.js';
