import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { readRegularFile } from './files.js';
import { ProtocolError, type ProtocolProblem } from './errors.js';
import { protocolSchemaPath } from './paths.js';

/** Behaviours a session template may name, in the order the storytelling session usually runs them. */
export const BEHAVIOURS = ['greeting', 'checkin', 'story', 'reflection', 'empathy', 'rating', 'goodbye'] as const;
/** A behaviour the runtime's storytelling session knows how to run. */
export type Behaviour = (typeof BEHAVIOURS)[number];

/** Consent modalities, each asked and recorded separately. */
export const CONSENT_MODALITIES = ['audio_recording', 'video_recording', 'transcripts', 'llm_processing', 'keep_raw_media'] as const;
/** One thing a participant consents to (or not). */
export type ConsentModality = (typeof CONSENT_MODALITIES)[number];

/** Local wall-clock span `HH:mm`–`HH:mm`. */
export interface TimeSpan {
  start: string;
  end: string;
}

/** A response scale: integer points min..max with spoken labels and other phrases per point. */
export interface ScaleSpec {
  min: number;
  max: number;
  labels?: Record<string, string>;
  phrases?: Record<string, string[]>;
}

/** One questionnaire item. */
export interface ItemSpec {
  code: string;
  prompt: string;
  /** Name of a scale in `scales`, or an inline scale. */
  scale: string | ScaleSpec;
  reverse?: boolean;
}

/** How a score is computed from items. */
export interface ScoreSpec {
  name: string;
  method: 'sum' | 'mean' | 'prorated_sum';
  items: string[];
  min_answered?: number;
}

/** An instrument as written in the protocol. */
export interface InstrumentSpec {
  id: string;
  title?: string;
  intro?: string;
  scoring_version: string;
  items: ItemSpec[];
  scores?: ScoreSpec[];
}

/** A template step: a behaviour name, or a survey administering an instrument. */
export type StepSpec = string | { survey: string };

/** A session template: which behaviours run in what order. */
export interface TemplateSpec {
  id: string;
  description?: string;
  conditions?: string[];
  steps: StepSpec[];
}

/** Which study days a scheduled session runs on. */
export type DaysSpec = 'all' | number[] | { from: number; to: number; every?: number };

/** A daily session definition. */
export interface SessionSpec {
  id: string;
  window: TimeSpan;
  days?: DaysSpec;
  template: string;
  template_by_day?: Record<string, string>;
}

/** One consent version: the modalities asked and their prompts. */
export interface ConsentVersionSpec {
  version: number;
  effective?: string;
  summary?: string;
  modalities: Partial<Record<ConsentModality, { prompt: string; required?: boolean }>>;
}

/** A study protocol as parsed from its YAML file (field names as in the file). */
export interface Protocol {
  hearth_protocol: 1;
  study: { id: string; version: string; title?: string; description?: string; days: number; participant_id_pattern?: string };
  conditions: { id: string; description?: string; story_selection: 'matched' | 'random' }[];
  allocation?: {
    method: 'blocked' | 'simple';
    block_sizes?: number[];
    ratio?: Record<string, number>;
    stratify_by?: string[];
    strata?: Record<string, string[]>;
  };
  schedule: {
    quiet_hours?: TimeSpan;
    invitations?: { max?: number; every_minutes?: number };
    sessions: SessionSpec[];
  };
  templates: TemplateSpec[];
  scales?: Record<string, ScaleSpec>;
  instruments: InstrumentSpec[];
  consent: { current_version: number; versions: ConsentVersionSpec[] };
  safeguards?: {
    disclose_ai?: boolean;
    break_reminder_minutes?: number;
    max_session_minutes?: number;
    report_within_days?: number;
    crisis_resources?: { name: string; contact: string }[];
    /**
     * When the learned safeguard layer (sentence encoder + model) cannot load: `block` (default)
     * starts no new session until it is fixed; `rules_only` runs sessions on the rules alone.
     * Either way staff are alerted and `hearth status` shows it.
     */
    on_model_failure?: 'block' | 'rules_only';
  };
  device?: {
    camera?: boolean; microphone?: boolean; voice?: string; volume?: number; heartbeat_minutes?: number;
    /** Where safeguard alerts are delivered; the secret is referenced (an env var name, a file), never written here. */
    alert_webhook?: { url: string; secret_env?: string; secret_file?: string; timeout_seconds?: number };
  };
}

/** A checked protocol, its content hash (`sha256:` of the file's bytes) and where it came from. */
export interface LoadedProtocol {
  protocol: Protocol;
  hash: string;
  file: string;
  /** The exact text that was hashed, for freezing a copy on the device. */
  source: string;
}

/** `sha256:<hex>` of a protocol file's bytes: verifiable with `sha256sum protocol.yaml`. */
export function protocolHash(source: string | Buffer): string {
  return `sha256:${createHash('sha256').update(source).digest('hex')}`;
}

/** Most alias expansions a protocol file may use (yaml's `maxAliasCount`): enough for any real file, far too few for an alias bomb. */
const MAX_ALIAS_COUNT = 100;

/** Read, parse and check a protocol file. Throws `ProtocolError` listing every problem found. */
export function loadProtocol(file: string): LoadedProtocol {
  let source: string;
  try {
    source = readRegularFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found'
      : code === 'ENOTREG' || code === 'EISDIR' ? `${code === 'EISDIR' ? 'is a folder, not a regular file' : (cause as Error).message}: give the protocol's YAML file`
      : `cannot read the file (${(cause as Error).message})`;
    throw new ProtocolError([{ file, line: 0, column: 0, path: '', message, hint: 'check the path given to --protocol' }], { cause });
  }
  return parseProtocol(source, file);
}

/** Parse and check protocol text; `file` names it in problems. Throws `ProtocolError` with every problem. */
export function parseProtocol(source: string, file: string): LoadedProtocol {
  const problems = checkProtocol(source, file);
  if (problems.length > 0) throw new ProtocolError(problems);
  const doc = parseDocument(source);
  return { protocol: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Protocol, hash: protocolHash(source), file: resolve(file), source };
}

/** Every problem in protocol text (empty when it is valid), sorted by position. */
export function checkProtocol(source: string, file: string): ProtocolProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ProtocolProblem[] = [];
  const at = (offset: number): { line: number; column: number } => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };

  for (const e of doc.errors) {
    const pos = at(e.pos[0]);
    problems.push({ file, ...pos, path: '', message: `YAML: ${firstLine(e.message)}`, hint: yamlHint(e.code) });
  }
  if (problems.length > 0) return sortProblems(problems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (cause) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" file).
    if (!(cause instanceof ReferenceError)) throw cause;
    problems.push({ file, line: 0, column: 0, path: '', message: `YAML: aliases (*name) expand too far (more than ${MAX_ALIAS_COUNT} uses); the file is refused`, hint: 'write the values out instead of nesting aliases' });
    return problems;
  }
  const locate = (path: readonly (string | number)[], key?: string): { line: number; column: number } => {
    const found = findNode(doc.contents as YamlNode | null, path, key);
    return found ? at(found) : { line: 1, column: 1 };
  };
  const report = (path: readonly (string | number)[], message: string, hint = '', key?: string): void => {
    problems.push({ file, ...locate(path, key), path: formatPath(key === undefined ? path : [...path, key]), message, hint });
  };

  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    report([], 'the protocol must be a YAML mapping', 'start from study-protocol/examples/empathic-stories-30d.yaml');
    return problems;
  }

  const validate = schemaValidator();
  if (!validate(data)) {
    for (const e of relevantErrors(validate.errors ?? [])) {
      const path = pointerToPath(e.instancePath);
      const { message, hint, key } = describeAjvError(e);
      report(path, message, hint, key);
    }
  }
  checkReferences(data as Record<string, unknown>, report);
  return sortProblems(dedupe(problems));
}

let compiled: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(protocolSchemaPath(), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
  const validate = ajv.compile(schema);
  compiled = validate;
  return validate;
}

/** Drop the per-branch noise of a failed `oneOf` when the `oneOf` itself is reported. */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  return errors.filter((e) => {
    if (e.keyword === 'oneOf') return true;
    if (e.keyword === 'if') return false;
    return !oneOfs.some((o) => e.schemaPath.startsWith(o.schemaPath.replace(/\/oneOf$/, '/oneOf/')) && e.instancePath.startsWith(o.instancePath));
  });
}

function describeAjvError(e: ErrorObject): { message: string; hint: string; key?: string } {
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const xHint = typeof parent['x-hint'] === 'string' ? (parent['x-hint'] as string) : '';
  const params = e.params as Record<string, unknown>;
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
  switch (e.keyword) {
    case 'required':
      return { message: `missing required field "${String(params.missingProperty)}"`, hint: `add ${String(params.missingProperty)}:` };
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties as object | undefined) ?? {});
      const near = closest(extra, allowed);
      return {
        message: `unknown field "${extra}"`,
        hint: near ? `did you mean "${near}"?` : allowed.length ? `allowed: ${allowed.join(', ')}` : 'remove it',
        key: extra,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const value = propertyName ?? String(e.data);
      const near = closest(value, allowed);
      return {
        message: `${propertyName !== undefined ? 'field name' : 'value'} "${value}" is not allowed`,
        hint: `${near ? `did you mean "${near}"? ` : ''}one of: ${allowed.join(', ')}`,
        ...(propertyName !== undefined ? { key: propertyName } : {}),
      };
    }
    case 'const':
      return { message: `must be ${JSON.stringify(params.allowedValue)}`, hint: xHint };
    case 'type':
      return { message: `must be ${article(String(params.type))}, not ${describeValue(e.data)}`, hint: xHint || typeHint(String(params.type), e.data) };
    case 'pattern':
      if (propertyName !== undefined) return { message: `name "${propertyName}" is not allowed here`, hint: xHint || `names must match ${String(params.pattern)}`, key: propertyName };
      return { message: `"${String(e.data)}" is not in the expected form`, hint: xHint || `must match ${String(params.pattern)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: `${String(e.data)} is out of range (${e.message ?? ''})`, hint: xHint };
    case 'minItems':
      return { message: `needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`, hint: xHint };
    case 'minLength':
      return { message: 'must not be empty', hint: xHint };
    case 'minProperties':
      return { message: `needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}`, hint: xHint };
    case 'oneOf':
      return { message: `${describeValue(e.data)} is not one of the allowed forms`, hint: xHint };
    case 'propertyNames':
      return { message: `invalid field name "${String(params.propertyName)}"`, hint: xHint, key: String(params.propertyName) };
    default:
      return { message: e.message ?? e.keyword, hint: xHint };
  }
}

type Report = (path: readonly (string | number)[], message: string, hint?: string, key?: string) => void;

/** Cross-references and rules a JSON Schema cannot express. Written defensively: the data may be malformed. */
function checkReferences(d: Record<string, unknown>, report: Report): void {
  const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

  const idsOf = (list: unknown[], section: (string | number)[], field = 'id'): Set<string> => {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      const id = str(obj(entry)[field]);
      if (id === undefined) return;
      if (seen.has(id)) report([...section, i, field], `duplicate ${field} "${id}"`, `each ${field} in ${formatPath(section)} must be unique`);
      seen.add(id);
    });
    return seen;
  };

  const study = obj(d.study);
  const days = typeof study.days === 'number' ? study.days : undefined;
  if (typeof study.participant_id_pattern === 'string') {
    try {
      new RegExp(study.participant_id_pattern);
    } catch (cause) {
      report(['study', 'participant_id_pattern'], `not a valid regular expression (${(cause as Error).message})`, 'e.g. "^P[0-9]{2,4}$"');
    }
  }

  const conditions = idsOf(arr(d.conditions), ['conditions']);
  const templates = idsOf(arr(d.templates), ['templates']);
  const instruments = idsOf(arr(d.instruments), ['instruments']);
  const scales = obj(d.scales);
  const sessions = arr(obj(d.schedule).sessions);
  idsOf(sessions, ['schedule', 'sessions']);

  const unknownRef = (kind: string, known: Set<string>, value: string): string => {
    const near = closest(value, [...known]);
    return near ? `did you mean "${near}"?` : known.size ? `known ${kind}: ${[...known].join(', ')}` : `define it under ${kind}`;
  };

  // Allocation
  const alloc = obj(d.allocation);
  const ratio = obj(alloc.ratio);
  for (const key of Object.keys(ratio)) {
    if (!conditions.has(key)) report(['allocation', 'ratio'], `unknown condition "${key}"`, unknownRef('conditions', conditions, key), key);
  }
  if (alloc.method === 'blocked') {
    const weights = [...conditions].map((c) => (typeof ratio[c] === 'number' ? (ratio[c] as number) : 1));
    const unit = weights.reduce((a, b) => a + b, 0);
    if (!Array.isArray(alloc.block_sizes)) report(['allocation'], 'blocked allocation needs block_sizes', `e.g. block_sizes: [${unit * 2}, ${unit * 3}]`);
    arr(alloc.block_sizes).forEach((b, i) => {
      if (typeof b === 'number' && unit > 0 && b % unit !== 0) {
        report(['allocation', 'block_sizes', i], `block size ${b} is not a multiple of ${unit} (the sum of the allocation ratio)`, `use ${unit}, ${unit * 2}, …`);
      }
    });
  }
  const strata = obj(alloc.strata);
  arr(alloc.stratify_by).forEach((f, i) => {
    if (typeof f === 'string' && !(f in strata)) report(['allocation', 'stratify_by', i], `stratification factor "${f}" has no levels`, `list its levels under allocation.strata.${f}`);
  });

  // Templates
  arr(d.templates).forEach((t, ti) => {
    const tpl = obj(t);
    arr(tpl.conditions).forEach((c, ci) => {
      if (typeof c === 'string' && !conditions.has(c)) report(['templates', ti, 'conditions', ci], `unknown condition "${c}"`, unknownRef('conditions', conditions, c));
    });
    arr(tpl.steps).forEach((s, si) => {
      if (typeof s === 'string' && /^[a-z][a-z0-9_]*$/.test(s) && !(BEHAVIOURS as readonly string[]).includes(s)) {
        const near = closest(s, [...BEHAVIOURS]);
        report(['templates', ti, 'steps', si], `unknown behaviour "${s}"`, `${near ? `did you mean "${near}"? ` : ''}behaviours: ${BEHAVIOURS.join(', ')}; surveys are written { survey: instrument_id }`);
      }
      const survey = str(obj(s).survey);
      if (survey !== undefined && !instruments.has(survey)) report(['templates', ti, 'steps', si, 'survey'], `unknown instrument "${survey}"`, unknownRef('instruments', instruments, survey));
    });
  });

  // Schedule
  const quiet = obj(obj(d.schedule).quiet_hours);
  const quietSpan = minutesSpan(quiet);
  const windows: { i: number; start: number; end: number; days: Set<number> | 'all' }[] = [];
  sessions.forEach((s, si) => {
    const sess = obj(s);
    const tpl = str(sess.template);
    if (tpl !== undefined && !templates.has(tpl)) report(['schedule', 'sessions', si, 'template'], `unknown template "${tpl}"`, unknownRef('templates', templates, tpl));
    for (const [day, name] of Object.entries(obj(sess.template_by_day))) {
      if (typeof name === 'string' && !templates.has(name)) report(['schedule', 'sessions', si, 'template_by_day', day], `unknown template "${name}"`, unknownRef('templates', templates, name));
      if (days !== undefined && /^\d+$/.test(day) && Number(day) > days) report(['schedule', 'sessions', si, 'template_by_day'], `day ${day} is after the last study day (${days})`, 'study.days sets the length', day);
    }
    const daySet = daySetOf(sess.days, days);
    if (Array.isArray(sess.days) && days !== undefined) {
      sess.days.forEach((n, ni) => {
        if (typeof n === 'number' && n > days) report(['schedule', 'sessions', si, 'days', ni], `day ${n} is after the last study day (${days})`, 'study.days sets the length');
      });
    }
    const range = obj(sess.days);
    if (typeof range.from === 'number' && typeof range.to === 'number') {
      if (range.from > range.to) report(['schedule', 'sessions', si, 'days'], `range starts on day ${range.from}, after its end (day ${range.to})`, 'from must not be after to');
      if (days !== undefined && range.to > days) report(['schedule', 'sessions', si, 'days', 'to'], `day ${range.to} is after the last study day (${days})`, 'study.days sets the length');
    }
    const w = minutesSpan(obj(sess.window));
    if (!w) return;
    if (w.start >= w.end) {
      report(['schedule', 'sessions', si, 'window'], `window ends (${hhmm(w.end)}) before it starts (${hhmm(w.start)})`, 'windows start and end on the same local day; split one crossing midnight in two');
      return;
    }
    if (quietSpan && insideQuiet(w, quietSpan)) {
      report(['schedule', 'sessions', si, 'window'], `window ${hhmm(w.start)}–${hhmm(w.end)} lies entirely inside quiet hours (${hhmm(quietSpan.start)}–${hhmm(quietSpan.end)})`, 'the robot never invites during quiet hours; move the window or the quiet hours');
    }
    for (const other of windows) {
      const shareDay = other.days === 'all' || daySet === 'all' || [...daySet].some((x) => (other.days as Set<number>).has(x));
      if (shareDay && w.start < other.end && other.start < w.end) {
        const otherId = str(obj(sessions[other.i]).id) ?? `#${other.i + 1}`;
        report(['schedule', 'sessions', si, 'window'], `window ${hhmm(w.start)}–${hhmm(w.end)} overlaps session "${otherId}" (${hhmm(other.start)}–${hhmm(other.end)})`, 'sessions on the same day need separate windows');
      }
    }
    windows.push({ i: si, ...w, days: daySet });
  });

  // Scales and instruments
  const checkScale = (scale: Record<string, unknown>, path: (string | number)[]): void => {
    const { min, max } = scale;
    if (typeof min !== 'number' || typeof max !== 'number') return;
    if (min >= max) {
      report([...path, 'max'], `max (${max}) must be greater than min (${min})`, 'a scale needs at least two points');
      return;
    }
    for (const field of ['labels', 'phrases'] as const) {
      for (const k of Object.keys(obj(scale[field]))) {
        if (/^\d+$/.test(k) && (Number(k) < min || Number(k) > max)) report([...path, field], `point ${k} is outside the scale ${min}–${max}`, 'label only points between min and max', k);
      }
    }
  };
  for (const [name, scale] of Object.entries(scales)) checkScale(obj(scale), ['scales', name]);

  arr(d.instruments).forEach((ins, ii) => {
    const instrument = obj(ins);
    const codes = idsOf(arr(instrument.items), ['instruments', ii, 'items'], 'code');
    arr(instrument.items).forEach((it, iti) => {
      const scale = (obj(it) as { scale?: unknown }).scale;
      if (typeof scale === 'string' && /^[a-z][a-z0-9_-]*$/.test(scale) && !(scale in scales)) {
        report(['instruments', ii, 'items', iti, 'scale'], `unknown scale "${scale}"`, unknownRef('scales', new Set(Object.keys(scales)), scale));
      }
      if (scale !== null && typeof scale === 'object') checkScale(obj(scale), ['instruments', ii, 'items', iti, 'scale']);
    });
    arr(instrument.scores).forEach((sc, sci) => {
      const score = obj(sc);
      arr(score.items).forEach((code, ci) => {
        if (typeof code === 'string' && !codes.has(code)) report(['instruments', ii, 'scores', sci, 'items', ci], `unknown item "${code}"`, unknownRef('item codes', codes, code));
      });
      if (typeof score.min_answered === 'number' && Array.isArray(score.items) && score.min_answered > score.items.length) {
        report(['instruments', ii, 'scores', sci, 'min_answered'], `min_answered (${score.min_answered}) exceeds the ${score.items.length} items scored`, 'lower it');
      }
    });
  });

  // Consent
  const consent = obj(d.consent);
  const versions = new Set<number>();
  arr(consent.versions).forEach((v, vi) => {
    const n = obj(v).version;
    if (typeof n !== 'number') return;
    if (versions.has(n)) report(['consent', 'versions', vi, 'version'], `duplicate consent version ${n}`, 'each version must be unique');
    versions.add(n);
  });
  if (typeof consent.current_version === 'number' && versions.size > 0 && !versions.has(consent.current_version)) {
    report(['consent', 'current_version'], `consent version ${consent.current_version} is not defined`, `defined versions: ${[...versions].join(', ')}`);
  }

  // Alert webhook (the schema checks the scheme; this checks the rest)
  const webhook = obj(obj(d.device).alert_webhook);
  const path = ['device', 'alert_webhook'];
  if (typeof webhook.url === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(webhook.url);
    } catch {
      report([...path, 'url'], `"${webhook.url}" is not a URL`, 'e.g. https://alerts.example.edu/hearth');
    }
    if (url && (url.username || url.password)) {
      report([...path, 'url'], 'the URL must not carry a user or password', 'put the shared secret in an environment variable (secret_env) or a file in the device folder (secret_file)');
    }
  }
  if (webhook.secret_env !== undefined && webhook.secret_file !== undefined) {
    report(path, 'secret_env and secret_file are both set', 'keep one: the shared secret comes from one place');
  }
  if (typeof webhook.secret_file === 'string' && ['device.json', 'protocol.yaml', 'hearth.sqlite', 'alerts.jsonl'].includes(webhook.secret_file)) {
    report([...path, 'secret_file'], `"${webhook.secret_file}" is one of the device's own files`, 'name a separate file, e.g. alert-secret');
  }
}

/** Study days a session runs on, or 'all'. */
function daySetOf(spec: unknown, days: number | undefined): Set<number> | 'all' {
  if (spec === undefined || spec === 'all') return 'all';
  if (Array.isArray(spec)) return new Set(spec.filter((n): n is number => typeof n === 'number'));
  const r = spec as { from?: unknown; to?: unknown; every?: unknown };
  if (typeof r?.from === 'number' && typeof r.to === 'number') {
    const out = new Set<number>();
    const step = typeof r.every === 'number' && r.every > 0 ? r.every : 1;
    for (let n = r.from; n <= Math.min(r.to, days ?? r.to); n += step) out.add(n);
    return out;
  }
  return new Set();
}

/** Minutes after midnight of an `HH:mm` string, or undefined when malformed. */
export function minutesOf(hhmmText: unknown): number | undefined {
  if (typeof hhmmText !== 'string') return undefined;
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmmText);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

function minutesSpan(span: Record<string, unknown>): { start: number; end: number } | undefined {
  const start = minutesOf(span.start);
  const end = minutesOf(span.end);
  return start === undefined || end === undefined ? undefined : { start, end };
}

/** Whether [w.start, w.end) is wholly inside quiet hours (which may cross midnight). */
function insideQuiet(w: { start: number; end: number }, q: { start: number; end: number }): boolean {
  if (q.start === q.end) return false;
  if (q.start < q.end) return w.start >= q.start && w.end <= q.end;
  return w.start >= q.start || w.end <= q.end;
}

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The byte offset where the value at `path` (or, with `key`, that key of the mapping at `path`) begins. */
function findNode(root: YamlNode | null, path: readonly (string | number)[], key?: string): number | undefined {
  let node: unknown = root;
  let lastOffset: number | undefined = rangeStart(root);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) return lastOffset;
      node = pair.value;
      lastOffset = rangeStart(pair.value as YamlNode) ?? rangeStart(pair.key as YamlNode) ?? lastOffset;
    } else if (isSeq(node)) {
      node = node.items[Number(seg)];
      lastOffset = rangeStart(node as YamlNode) ?? lastOffset;
    } else {
      return lastOffset;
    }
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === key);
    if (pair) return rangeStart(pair.key as YamlNode) ?? lastOffset;
  }
  return lastOffset;
}

function rangeStart(node: YamlNode | null | undefined): number | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : undefined;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `schedule.sessions[0].window.start` from path segments. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (seg.includes('.') || seg.includes('[')) out += `[${JSON.stringify(seg)}]`;
    else out += (out ? '.' : '') + seg;
  }
  return out;
}

function sortProblems(ps: ProtocolProblem[]): ProtocolProblem[] {
  return ps.sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

function dedupe(ps: ProtocolProblem[]): ProtocolProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const firstLine = (s: string): string => s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');

function yamlHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': return 'remove or rename one of the two';
    case 'BAD_INDENT': case 'MISSING_CHAR': return 'check the indentation and the ":" after each key';
    case 'TAB_AS_INDENT': return 'indent with spaces, not tabs';
    case 'BLOCK_AS_IMPLICIT_KEY': return 'a key seems to be missing its ":" or the line above is mis-indented';
    default: return 'fix the YAML syntax at this place';
  }
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describeValue(v: unknown): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text "${v.length > 40 ? `${v.slice(0, 37)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

function typeHint(expected: string, value: unknown): string {
  if (expected === 'string' && typeof value === 'number') return `put it in quotes: "${String(value)}"`;
  if (expected === 'array') return 'write a list: [a, b] or one "- item" per line';
  if (expected === 'object') return 'write a mapping of key: value lines';
  return '';
}

/** The nearest candidate by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
