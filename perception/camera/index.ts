/** Camera perception: the FrameSource port, face detection, expression, tracking, the fault-tolerant runner. */
export { FrameSourceError, type FrameSource, type FrameSourceWarning, type RgbFrame } from './frame.js';
export { iou, letterboxRect, sampleRegion, type InputLayout, type Rect } from './image.js';
export { BlazeFaceDetector, CascadeDetector, DetectorOutputError, nonMaxSuppression, YuNetDetector, type Detection, type DetectorOptions, type FaceDetector } from './detectors.js';
export { CIRCUMPLEX, EXPRESSION_ORDER, ExpressionClassifier, expressionFromProbabilities, type BasicExpression, type ExpressionEstimate } from './expression.js';
export { IouTracker, type Track, type TrackerOptions } from './tracker.js';
export { CameraPerceiver, DEFAULT_DETECTOR, type DetectorChoice, type FaceExpression, type FrameResult, type PerceiverOptions } from './perceiver.js';
export { CameraRunner, type CameraEvent, type CameraFaultKind, type CameraRunnerOptions, type CameraStatus } from './camera-runner.js';
export { faceObservation, participantFace } from './affect.js';
export { cosine, DEFAULT_IDENTITY_TUNING, EnrollmentError, faceCrop, FaceIdentifier, headPose, IdentityEvidence, similarityToEnrollment, type EnrollmentStore, type FaceEnrollment, type FaceIdentity, type IdentityReading, type IdentityTuning } from './identity.js';
export { cameraIdentity, enrollFace, mayBeParticipantsAnswer, memoryPresence, presenceOf, type Presence, type PresentPerson, type VideoConsent } from './presence.js';
