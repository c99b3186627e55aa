/**
 * The report's model: data/'s plain rows, scored with the protocol's instruments, turned into one
 * dataset per chart, each with the sentence it shows when it has nothing to draw. The page draws this
 * model as it is; nothing is computed in the browser but layout.
 */
import { ADHERENCE_STATUSES, COMPLETENESS_TABLES, type AdherenceStatus, type ReportData } from '../../data/index.js';
import { instrumentsOf, scoreInstrument, type Instrument, type LoadedProtocol } from '../../study-protocol/index.js';
import { mean, welchInterval } from './stats.js';

/** The questionnaire whose score is the study's primary outcome, and the daily mood check-in. */
export const OUTCOME_INSTRUMENT = 'story_empathy';
export const MOOD_INSTRUMENT = 'mood';

/** Colour of each adherence status (also the legend's order). */
export const ADHERENCE_COLOURS: Readonly<Record<AdherenceStatus, string>> = {
  completed: '#1a9850', interrupted: '#fdae61', open: '#abd9e9', expired: '#d73027', missed: '#4d4d4d',
};

/** What a chart draws, or why it draws nothing. */
export interface Chart<T> {
  /** Null when there is something to draw; else the one line the page shows instead of a chart. */
  empty: string | null;
  data: T;
}

/** One participant's mean outcome score over their scored sessions. */
export interface ParticipantMean {
  participantId: string;
  condition: string;
  mean: number;
  sessions: number;
}

/** One condition's mean of participant means. */
export interface ConditionMean {
  condition: string;
  participants: number;
  mean: number;
}

/** The difference of two conditions' means of participant means, with its 95% interval (Welch). */
export interface ConditionDifference {
  label: string;
  a: string;
  b: string;
  diff: number;
  low: number | null;
  high: number | null;
  df: number | null;
  /** Why no interval (fewer than two participants in a condition), else null. */
  noInterval: string | null;
}

/** Everything the page shows. */
export interface ReportModel {
  meta: {
    title: string;
    file: string;
    kind: 'device' | 'study';
    schemaVersion: number;
    devices: number;
    collections: number;
    participants: number;
    conditions: Record<string, number>;
    protocol: { id: string; version: string; hash: string; file: string };
    /** Things a reader must know before reading the charts (protocol mismatch, unscorable sessions). */
    warnings: string[];
    generatedUtc: string;
  };
  adherence: Chart<{ cells: ReportData['adherence']; statuses: AdherenceStatus[]; colours: Record<AdherenceStatus, string>; counts: Record<string, number> }>;
  durations: Chart<{ sessions: ReportData['sessions'] }>;
  affect: Chart<{ rows: { participantId: string; studyDay: number; measure: 'valence' | 'arousal'; value: number; samples: number }[] }>;
  mood: Chart<{ rows: { participantId: string; studyDay: number; item: string; value: number }[]; items: { code: string; label: string; min: number; max: number }[] }>;
  empathy: Chart<{
    instrument: string; score: string; min: number; max: number;
    participants: ParticipantMean[]; conditions: ConditionMean[]; differences: ConditionDifference[];
  }>;
  safeguards: Chart<{ days: { studyDay: number; decision: string; checks: number }[]; decisions: string[]; total: number; withoutDay: number }>;
  incidents: Chart<{ rows: ReportData['incidents'] }>;
  completeness: Chart<{ cells: { table: string; studyDay: number; rows: number }[]; tables: { table: string; rows: number; withoutDay: number; days: number }[] }>;
}

/** Build the model from the rows of one file and the protocol they were collected under. */
export function buildReportModel(data: ReportData, loaded: LoadedProtocol, now: Date = new Date()): ReportModel {
  const { protocol } = loaded;
  const instruments = instrumentsOf(protocol);
  const warnings: string[] = [];
  const otherHashes = new Set(data.participants.map((p) => p.protocolHash).filter((h): h is string => h !== null && h !== loaded.hash));
  if (otherHashes.size > 0) {
    const ids = [...new Set(data.participants.map((p) => p.protocolId).filter((x) => x))].join(', ') || 'unknown';
    warnings.push(`${otherHashes.size === 1 ? 'Some participants were' : 'Participants were'} enrolled under a different protocol file (${ids}; hash ${[...otherHashes].join(', ')}) ` +
      `than the one used to score answers here (${loaded.file}, ${loaded.hash}); pass the study's own file with --protocol.`);
  }
  const conditions: Record<string, number> = {};
  for (const p of data.participants) conditions[p.condition ?? 'none'] = (conditions[p.condition ?? 'none'] ?? 0) + 1;

  return {
    meta: {
      title: protocol.study.title ?? protocol.study.id,
      file: data.source.path, kind: data.source.kind, schemaVersion: data.source.schemaVersion, devices: data.source.deviceIds.length,
      collections: data.source.collections, participants: data.participants.length, conditions,
      protocol: { id: protocol.study.id, version: protocol.study.version, hash: loaded.hash, file: loaded.file },
      warnings, generatedUtc: now.toISOString(),
    },
    adherence: adherenceChart(data),
    durations: data.sessions.length
      ? { empty: null, data: { sessions: data.sessions } }
      : { empty: 'No data: no session was completed or interrupted in this file.', data: { sessions: [] } },
    affect: affectChart(data),
    mood: moodChart(data, instruments.get(MOOD_INSTRUMENT)),
    empathy: empathyChart(data, instruments.get(OUTCOME_INSTRUMENT), protocol.conditions.map((c) => c.id), warnings),
    ...safeguardCharts(data),
    completeness: completenessChart(data),
  };
}

function adherenceChart(data: ReportData): ReportModel['adherence'] {
  const counts: Record<string, number> = Object.fromEntries(ADHERENCE_STATUSES.map((s) => [s, 0]));
  for (const c of data.adherence) counts[c.status] = (counts[c.status] ?? 0) + 1;
  return {
    empty: data.adherence.length ? null : 'No data: no scheduled session or session is stored in this file.',
    data: { cells: data.adherence, statuses: [...ADHERENCE_STATUSES], colours: { ...ADHERENCE_COLOURS }, counts },
  };
}

function affectChart(data: ReportData): ReportModel['affect'] {
  const rows: ReportModel['affect']['data']['rows'] = [];
  for (const d of data.affect) {
    if (d.valence !== null) rows.push({ participantId: d.participantId, studyDay: d.studyDay, measure: 'valence', value: d.valence, samples: d.samples });
    if (d.arousal !== null) rows.push({ participantId: d.participantId, studyDay: d.studyDay, measure: 'arousal', value: d.arousal, samples: d.samples });
  }
  return {
    empty: rows.length ? null : 'No data: no affect samples with valence or arousal (no camera or microphone affect was recorded, or it was not consented to).',
    data: { rows },
  };
}

function moodChart(data: ReportData, instrument: Instrument | undefined): ReportModel['mood'] {
  if (!instrument) return { empty: `No data: the protocol has no "${MOOD_INSTRUMENT}" instrument.`, data: { rows: [], items: [] } };
  const items = instrument.items.map((i) => ({ code: i.code, label: i.code.replace(/^mood_/, ''), min: i.scale.min, max: i.scale.max }));
  const rows = data.responses
    .filter((r) => r.instrument === MOOD_INSTRUMENT && r.status === 'answered' && r.value !== null)
    .map((r) => ({ participantId: r.participantId, studyDay: r.studyDay, item: r.item, value: r.value! }));
  const asked = data.responses.filter((r) => r.instrument === MOOD_INSTRUMENT).length;
  return {
    empty: rows.length ? null : `No data: ${asked ? `none of the ${asked} mood items asked was answered` : 'no mood item was asked'}.`,
    data: { rows, items },
  };
}

function empathyChart(data: ReportData, instrument: Instrument | undefined, protocolConditions: string[], warnings: string[]): ReportModel['empathy'] {
  const none = (empty: string): ReportModel['empathy'] => ({
    empty, data: { instrument: OUTCOME_INSTRUMENT, score: '', min: 1, max: 5, participants: [], conditions: [], differences: [] },
  });
  if (!instrument || instrument.scores.length === 0) return none(`No data: the protocol has no "${OUTCOME_INSTRUMENT}" instrument with a score.`);
  const spec = instrument.scores[0]!;
  const scale = instrument.items.find((i) => spec.items.includes(i.code))!.scale;
  const bySession = new Map<string, { participantId: string; condition: string | null; answers: Record<string, number | null> }>();
  for (const r of data.responses) {
    if (r.instrument !== OUTCOME_INSTRUMENT) continue;
    const s = bySession.get(r.sessionId) ?? { participantId: r.participantId, condition: r.condition, answers: {} };
    s.answers[r.item] = r.status === 'answered' ? r.value : null;
    bySession.set(r.sessionId, s);
  }
  const allocated = new Map(data.participants.map((p) => [p.participantId, p.condition]));
  const scores = new Map<string, { condition: string; values: number[] }>();
  let unscorable = 0;
  for (const s of bySession.values()) {
    let value: number | null;
    try {
      value = scoreInstrument(instrument, s.answers).find((x) => x.name === spec.name)!.value;
    } catch {
      unscorable += 1;
      continue;
    }
    const condition = allocated.get(s.participantId) ?? s.condition;
    if (value === null || !condition) continue;
    const p = scores.get(s.participantId) ?? { condition, values: [] };
    p.values.push(value);
    scores.set(s.participantId, p);
  }
  if (unscorable) warnings.push(`${unscorable} ${OUTCOME_INSTRUMENT} session(s) have answers outside the protocol's scale and were left out.`);
  const participants: ParticipantMean[] = [...scores].map(([participantId, p]) => ({ participantId, condition: p.condition, mean: mean(p.values), sessions: p.values.length }));
  if (participants.length === 0) {
    return none(`No data: no session has a ${spec.name} score (${bySession.size} session(s) asked it; a score needs ${spec.min_answered ?? 1} answered item(s)).`);
  }
  const seen = [...new Set(participants.map((p) => p.condition))];
  const order = [...protocolConditions.filter((c) => seen.includes(c)), ...seen.filter((c) => !protocolConditions.includes(c)).sort()];
  const group = (c: string) => participants.filter((p) => p.condition === c).map((p) => p.mean);
  const conditions = order.map((c) => ({ condition: c, participants: group(c).length, mean: mean(group(c)) }));
  // The primary comparison: the protocol's first condition against each other one.
  const differences: ConditionDifference[] = order.slice(1).map((b) => {
    const a = order[0]!;
    const ci = welchInterval(group(a), group(b));
    return {
      label: `${a} − ${b}`, a, b, diff: mean(group(a)) - mean(group(b)),
      low: ci?.low ?? null, high: ci?.high ?? null, df: ci?.df ?? null,
      noInterval: ci ? null : 'needs at least 2 participants in each condition',
    };
  });
  return { empty: null, data: { instrument: OUTCOME_INSTRUMENT, score: spec.name, min: scale.min, max: scale.max, participants, conditions, differences } };
}

function safeguardCharts(data: ReportData): Pick<ReportModel, 'safeguards' | 'incidents'> {
  const days = data.safeguards.filter((d): d is typeof d & { studyDay: number } => d.studyDay !== null);
  const total = data.safeguards.reduce((a, d) => a + d.checks, 0);
  const decisions = [...new Set(days.map((d) => d.decision))].sort((x, y) => (x === 'pass' ? -1 : y === 'pass' ? 1 : x.localeCompare(y)));
  return {
    safeguards: {
      empty: days.length ? null : 'No data: no safeguard check is recorded on a study day.',
      data: { days, decisions, total, withoutDay: total - days.reduce((a, d) => a + d.checks, 0) },
    },
    incidents: {
      empty: data.incidents.length ? null : 'No safeguard incidents (crisis, harm, medical, minor, check failure or attachment trend) are recorded.',
      data: { rows: data.incidents },
    },
  };
}

function completenessChart(data: ReportData): ReportModel['completeness'] {
  const cells = data.completeness.filter((c): c is typeof c & { studyDay: number } => c.studyDay !== null);
  const tables = COMPLETENESS_TABLES.map((table) => {
    const of = data.completeness.filter((c) => c.table === table);
    return {
      table, rows: of.reduce((a, c) => a + c.rows, 0), withoutDay: of.filter((c) => c.studyDay === null).reduce((a, c) => a + c.rows, 0),
      days: of.filter((c) => c.studyDay !== null).length,
    };
  });
  return { empty: cells.length ? null : 'No data: no table has rows on a study day.', data: { cells, tables } };
}
