/** Public surface of `study-protocol/`: protocol files, enrollment, schedule, consent (see README). */
export { formatProblem, ProtocolError, StudyError, type ProtocolProblem } from './errors.js';
export { bundledProtocolPath, packageRoot, protocolSchemaPath } from './paths.js';
export {
  BEHAVIOURS, CONSENT_MODALITIES, checkProtocol, loadProtocol, parseProtocol, protocolHash,
  type Behaviour, type ConsentModality, type ConsentVersionSpec, type DaysSpec, type InstrumentSpec, type ItemSpec,
  type LoadedProtocol, type Protocol, type ScaleSpec, type ScoreSpec, type SessionSpec, type StepSpec, type TemplateSpec,
  type TimeSpan,
} from './protocol.js';
import { bundledProtocolPath } from './paths.js';

/** Absolute path of the bundled 30-day storytelling protocol, resolved from the package root. */
export const BUNDLED_PROTOCOL: string = bundledProtocolPath();
