/** Public surface of the safeguard layer (re-exported by `behaviors/index.ts`). */
export type * from './types.js';
export { EVAL_LABELS, INPUT_LABELS, INPUT_SIGNALS, OUTPUT_LABELS, toSafeguardEvents } from './types.js';
export { checkInput, checkOutput } from './layer.js';
export { INPUT_CHECKS_VERSION } from './input-checks.js';
export { OUTPUT_CHECKS_VERSION, REGENERATE_GUIDANCE } from './output-checks.js';
export {
  AI_DISCLOSURE, POSSIBLE_CRISIS_CLARIFY, STUDY_START_DISCLOSURE, attachmentKind, boundaryReply, crisisReply, harmReply, medicalReply, safeReply, valuesDeletedReply,
  type AttachmentKind,
} from './replies.js';
export { CRISIS_RESOURCES, resourcesFor, type CrisisResource, type RegionResources } from './resources.js';
export { buildIncident, type AlertChannel, type IncidentKind, type IncidentReport } from './alerts.js';
export { AlertChannelError, JsonlAlertChannel } from './jsonl-alert-channel.js';
export {
  AlertDeliveryError, AlertOutbox, DEFAULT_ALERT_TIMEOUT_MS, DEFAULT_BACKOFF, retryDelayMs,
  type AlertEnvelope, type AlertOutboxOptions, type AlertOutboxStore, type AlertRequest, type AlertTransport, type BackoffPolicy, type DeliveryPass, type OutboxTimers,
} from './alert-outbox.js';
export {
  ALERT_SECRET_ENV, ALERT_WEBHOOK_ENV, describeWebhookUrl, resolveAlertWebhook, signAlertBody, webhookUrlProblem, WebhookAlertTransport,
  type AlertWebhookProtocolSetting, type AlertWebhookResolution, type AlertWebhookSettings,
} from './alert-outbox-webhook.js';
export { AttachmentLedger, type AttachmentTrend, type DayCount } from './attachment-ledger.js';
export { sessionTimeAdvice, type SessionLimitSettings, type TimeAdvice } from './session-limits.js';
export { describeValues, inferValues, VALUE_TERMS, VALUES_VERSION, type InferredValue, type ValueCategory } from './values.js';
export {
  SafeguardLayer, type IncidentStore, type InputActionKind, type InputDecision, type SafeguardLayerOptions, type SafeguardLog,
  type SpeakDecision, type StoredValue, type TurnPlace, type ValueStore,
} from './guard.js';
export { evaluate, flaggedLabels, fprOnNone, LabelledSetError, parseLabelledSet, type CaseOutcome, type Evaluation, type LabelledCase, type LabelMetrics } from './evaluate.js';
export { evaluateFlags, wilson } from './evaluate.js';
export { alignmentCost, CRISIS_SOUNDALIKES, phonesOf, soundsLikeCrisis, SOUNDS_LIKE_THRESHOLD, type Pronounce } from './sounds-like.js';
// The learned layer: sentence-encoder features, per-label logistic regressions, training and per-part evaluation.
export { LearnedLayer, scoreEncoded, type EncodedTurn, type LearnedScore } from './learned/learned-layer.js';
export {
  defaultModelPath, loadSafeguardModel, parseModelArtefact, SafeguardModel, SafeguardModelError,
  type FeatureSet, type LabelModel, type LearnedLabel, type SafeguardModelArtefact,
} from './learned/model.js';
export { DEFAULT_TRAIN_SETTINGS, fitPrepared, prepareCases, scorePrepared, type CaseScores, type EncodeFn, type FitResult, type TrainingCase, type TrainSettings } from './learned/fit-artefact.js';
export { evaluateParts, type PartsEvaluation } from './learned/evaluate-parts.js';
export { speechForm } from './learned/features.js';
