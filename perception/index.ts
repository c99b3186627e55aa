/** Public surface of `perception/`: camera and microphone affect perception (see README). */
export { loadOnnxModel, ModelError, type LoadModelOptions, type OnnxModel, type TensorData } from './onnx.js';
// Microphone: audio sources, voice activity, speech to text, prosody, text valence.
export { AUDIO_SAMPLE_RATE, AudioSourceError, PcmAudioSource, type AudioChunk, type AudioSource } from './audio/audio-source.js';
export { SileroVad, SILERO_VAD_SHA256, VAD_FRAME_SAMPLES, defaultSileroVadPath, type SileroVadOptions } from './audio/silero-vad.js';
export { VadSegmenter, type SegmenterEvent, type SegmenterOptions, type SpeechEnded, type SpeechStarted } from './audio/segmenter.js';
export { VoiceActivityStream, type SpeechSegment, type VoiceActivityEvent } from './audio/voice-activity.js';
export { prosodyFeatures, type ProsodyFeatures } from './audio/prosody.js';
export { ArousalEstimator, DEFAULT_BASELINE, type ArousalEstimate, type ProsodyBaseline } from './audio/arousal.js';
export { textValence, type TextValence } from './audio/text-valence.js';
// Camera: FrameSource port, face detection, expression, tracking; model manifest and converter.
export * from './camera/index.js';
export * from './models/index.js';
export { TranscriberError, type AnswerAlternative, type HeardAnswer, type TranscribeHint, type Transcriber, type TranscriptionStream, type Transcript, type TranscriptWord } from './audio/transcriber.js';
export { FallbackTranscriber, type FallbackTranscriberOptions } from './audio/fallback-transcriber.js';
export { buildArpa, lmWords, type ArpaOptions } from './audio/ngram-lm.js';
export { sphinxPronouncer } from './audio/pronouncer.js';
export { answerConfidence, answerFeatures, PocketsphinxTranscriber, POCKETSPHINX_EN_US, wordConfidence, type AnswerFeatures, type PocketsphinxOptions } from './audio/pocketsphinx-transcriber.js';
export { ANSWER_CALIBRATION, CALIBRATION_SOURCE, WORD_CALIBRATION } from './audio/asr-calibration.js';
export { ensureSphinxHelper, SphinxDecoder, sphinxHelperPath, type SphinxDecoderOptions, type SphinxResult, type SphinxWord } from './audio/sphinx-decoder.js';
export { answerGrammar, grammarWords, numberWords, type AnswerGrammar } from './audio/answer-grammar.js';
export { decodeWav, encodeWav, WavError } from './audio/wav.js';
// Fusion of face, voice and text into one affect state.
export { AFFECT_SOURCES, affectLabel, type AffectLabel, type AffectObservation, type AffectSource, type AffectState, type SourceContribution } from './fusion/affect.js';
export { AffectFusion, DEFAULT_FUSION_TUNING, type FusionTuning, type SourceTuning } from './fusion/fusion.js';
// Consent gate: the only way raw audio or video reaches the disk.
export { NO_RAW_MEDIA, rawMediaConsent, RawMediaWriter, type RawFrame, type RawMediaConsent, type RawMediaEvent, type RawMediaWriterOptions, type RawModality, type RawWriteResult } from './consent-gate.js';
// Camera: FrameSource port, face detection, expression, tracking, runner; model manifest and tfjs→ONNX converter.
export * from './camera/index.js';
export * from './models/index.js';
// The perception service: runs the pipelines, keeps the fused state, logs affect samples.
export { PerceptionService, PRESENCE_STALE_MS, type PerceivedState, type FaceObservation, type HeardUtterance, type MicrophoneStatus, type PerceptionEvents, type PerceptionFault, type PerceptionServiceOptions, type PerceptionStatus } from './perception-service.js';
// The sentence encoder on the device: USE lite (onnxruntime). The OpenAI-compatible one is in hardware/openai/.
export * from './text/index.js';
// People as nouns: faces, voices, persons with stable ids, engagement, and who the robot addresses.
export * from './people/index.js';
