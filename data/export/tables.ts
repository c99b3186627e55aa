/**
 * The tidy tables of an export: one per kind of observation, each column with its type, label,
 * levels or units, identifier and free-text flags, and where it comes from. The codebook, the JSON
 * sidecars, the SQLite queries and the DuckDB output types are all read from these specs.
 */

/**
 * A column's type in the export. `instant`: a UTC instant (Parquet TIMESTAMP, UTC-adjusted, micros;
 * CSV ISO-8601 with Z). `local`: local time with its offset, as text (Parquet has no type that keeps
 * an offset). `category`: a string from a small set. `json`: a JSON document as text.
 */
export type ColumnType = 'text' | 'category' | 'json' | 'int' | 'bigint' | 'double' | 'bool' | 'instant' | 'local' | 'date';

/** One column of an exported table. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** SQLite expression over the table's `from` clause (absent for derived tables). */
  sql?: string;
  label: string;
  description?: string;
  /** Allowed values and their meaning (categories). */
  levels?: Readonly<Record<string, string>>;
  units?: string;
  /** Identifies a person, household or device beyond the pseudonymous participant id: dropped by --deidentify. */
  identifier?: boolean;
  /** Free text that may hold the participant's (or staff's) own words: dropped by --deidentify unless --keep-text. */
  freeText?: boolean;
  /** Source table.column, or how it is derived. */
  source: string;
}

/** One exported table. */
export interface TableSpec {
  name: string;
  longName: string;
  description: string;
  columns: readonly ColumnSpec[];
  /** SQLite FROM clause (with joins); absent for tables derived after staging. */
  from?: string;
  /** SQLite expression of the row's local date (YYYY-MM-DD) for --since; absent: never filtered. */
  sinceDate?: string;
  /** Extra SQLite WHERE condition. */
  where?: string;
  /** SQLite ORDER BY. */
  orderBy?: string;
}

/** The participant of a row of table alias `a` whose session is joined as `s`: the session's, else the device's latest. */
const participantOf = (a: string, s: string): string =>
  `COALESCE(${s}.participant_id, (SELECT p.participant_id FROM participants p WHERE p.device_id = ${a}.device_id ORDER BY p.seq DESC LIMIT 1))`;

/** The columns every Hearth row carries (`COMMON` in migrations.ts), in export order. */
function common(a: string, table: string, dayMeaning = 'the study day of the row'): ColumnSpec[] {
  return [
    { name: 'ts_utc', type: 'instant', sql: `${a}.ts_utc`, label: 'When the row\'s fact happened (UTC)', source: `${table}.ts_utc` },
    { name: 'ts_local', type: 'local', sql: `${a}.ts_local`, label: 'The same instant on the participant\'s clock, with UTC offset', units: 'ISO-8601 local time with offset', source: `${table}.ts_local` },
    { name: 'tz', type: 'category', sql: `${a}.tz`, label: 'Participant\'s IANA time zone', source: `${table}.tz` },
    { name: 'study_day', type: 'int', sql: `${a}.study_day`, label: 'Study day (1 = the participant\'s start date, local calendar days)', description: dayMeaning, units: 'day', source: `${table}.study_day` },
    { name: 'device_id', type: 'category', sql: `${a}.device_id`, label: 'Device that wrote the row', identifier: true, source: `${table}.device_id` },
    { name: 'seq', type: 'bigint', sql: `${a}.seq`, label: 'Per-device monotonic order across all tables', source: `${table}.seq` },
    { name: 'clock_source', type: 'category', sql: `${a}.clock_source`, label: 'Clock that stamped the row', levels: { system: 'the device\'s OS clock', simulated: 'a simulated clock (hearth simulate, tests)' }, source: `${table}.clock_source` },
  ];
}

const pid = (sql: string, source: string): ColumnSpec => ({ name: 'participant_id', type: 'category', sql, label: 'Pseudonymous participant id', source });
const sessionId = (sql: string, source: string): ColumnSpec => ({ name: 'session_id', type: 'category', sql, label: 'Session id', source });
const localDateOf = (a: string, col = 'ts_local'): string => `substr(${a}.${col}, 1, 10)`;
const seconds = (start: string, end: string): string =>
  `CASE WHEN ${start} IS NOT NULL AND ${end} IS NOT NULL THEN round(unixepoch(${end}, 'subsec') - unixepoch(${start}, 'subsec'), 3) END`;

const SESSION_STATUS = {
  scheduled: 'planned, not started', started: 'running, or stopped without an end (crash)', completed: 'ran to the end',
  interrupted: 'ended early (see status_reason)', missed: 'no session in the window',
};
const INSTANCE_STATUS = {
  scheduled: 'planned', delivered: 'the participant was invited', started: 'a session started', completed: 'a session completed',
  missed: 'the window passed without a session', expired: 'the window passed after invitations without a session',
};

/** Every table Hearth exports, in export order. */
export const TABLES: readonly TableSpec[] = [
  {
    name: 'participants', longName: 'Participants', description: 'One row per enrolled participant: start date, condition and protocol.',
    from: 'participants p', orderBy: 'p.rowid',
    columns: [
      pid('p.participant_id', 'participants.participant_id'),
      { name: 'start_date', type: 'date', sql: 'p.start_date', label: 'Local date of study day 1', source: 'participants.start_date' },
      { name: 'condition', type: 'category', sql: 'p.condition', label: 'Allocated condition', source: 'participants.condition' },
      { name: 'protocol_id', type: 'category', sql: 'p.protocol_id', label: 'Study protocol id', source: 'participants.protocol_id' },
      { name: 'protocol_version', type: 'category', sql: 'p.protocol_version', label: 'Study protocol version', source: 'participants.protocol_version' },
      { name: 'protocol_hash', type: 'category', sql: 'p.protocol_hash', label: 'SHA-256 of the protocol file', source: 'participants.protocol_hash' },
      { name: 'status', type: 'category', sql: 'p.status', label: 'Participation status', levels: { active: 'in the study', withdrawn: 'withdrew' }, source: 'participants.status' },
      ...common('p', 'participants', 'study day of enrolment'),
    ],
  },
  {
    name: 'sessions', longName: 'Sessions', description: 'One row per session, including missed ones (never dropped), with status and reason.',
    from: 'sessions s', sinceDate: localDateOf('s'), orderBy: 's.rowid',
    columns: [
      sessionId('s.session_id', 'sessions.session_id'),
      pid('s.participant_id', 'sessions.participant_id'),
      { name: 'condition', type: 'category', sql: 's.condition', label: 'Condition the session ran under', source: 'sessions.condition' },
      { name: 'status', type: 'category', sql: 's.status', label: 'Session status', levels: SESSION_STATUS, source: 'sessions.status' },
      { name: 'status_reason', type: 'text', sql: 's.status_reason', label: 'Why the session ended early or was missed', source: 'sessions.status_reason' },
      { name: 'story_id', type: 'category', sql: 's.story_id', label: 'Story told', source: 'sessions.story_id' },
      { name: 'last_step', type: 'category', sql: 's.step', label: 'Last step reached', source: 'sessions.step' },
      { name: 'started_ts_utc', type: 'instant', sql: 's.started_ts_utc', label: 'When the session started (UTC)', source: 'sessions.started_ts_utc' },
      { name: 'ended_ts_utc', type: 'instant', sql: 's.ended_ts_utc', label: 'When the session ended (UTC)', source: 'sessions.ended_ts_utc' },
      { name: 'duration_s', type: 'double', sql: seconds('s.started_ts_utc', 's.ended_ts_utc'), label: 'Session duration', units: 's', source: 'derived: ended_ts_utc - started_ts_utc' },
      { name: 'resumed_count', type: 'int', sql: 's.resumed_count', label: 'Times the session was resumed after a crash', source: 'sessions.resumed_count' },
      { name: 'protocol_hash', type: 'category', sql: 's.protocol_hash', label: 'SHA-256 of the protocol file', source: 'sessions.protocol_hash' },
      ...common('s', 'sessions', 'the session\'s study day'),
    ],
  },
  {
    name: 'schedule_instances', longName: 'Schedule instances', description: 'One row per planned session window, with what became of it.',
    from: 'schedule_instances si', sinceDate: 'si.local_date', orderBy: 'si.rowid',
    columns: [
      pid('si.participant_id', 'schedule_instances.participant_id'),
      { name: 'instance_id', type: 'category', sql: 'si.instance_id', label: 'Instance id (day and slot)', source: 'schedule_instances.instance_id' },
      { name: 'slot', type: 'category', sql: 'si.slot', label: 'Session slot of the day', source: 'schedule_instances.slot' },
      { name: 'local_date', type: 'date', sql: 'si.local_date', label: 'Local date of the window', source: 'schedule_instances.local_date' },
      { name: 'template_id', type: 'category', sql: 'si.template_id', label: 'Session template', source: 'schedule_instances.template_id' },
      { name: 'window_start_utc', type: 'instant', sql: 'si.window_start_utc', label: 'Window opens (UTC)', source: 'schedule_instances.window_start_utc' },
      { name: 'window_end_utc', type: 'instant', sql: 'si.window_end_utc', label: 'Window closes (UTC)', source: 'schedule_instances.window_end_utc' },
      { name: 'window_start_local', type: 'local', sql: 'si.window_start_local', label: 'Window opens (local, with offset)', source: 'schedule_instances.window_start_local' },
      { name: 'window_end_local', type: 'local', sql: 'si.window_end_local', label: 'Window closes (local, with offset)', source: 'schedule_instances.window_end_local' },
      { name: 'status', type: 'category', sql: 'si.status', label: 'Instance status', levels: INSTANCE_STATUS, source: 'schedule_instances.status' },
      { name: 'status_reason', type: 'text', sql: 'si.status_reason', label: 'Why the status changed', source: 'schedule_instances.status_reason' },
      { name: 'invitations', type: 'int', sql: 'si.invitations', label: 'Invitations made', source: 'schedule_instances.invitations' },
      { name: 'last_invited_ts_utc', type: 'instant', sql: 'si.last_invited_ts_utc', label: 'Last invitation (UTC)', source: 'schedule_instances.last_invited_ts_utc' },
      sessionId('si.session_id', 'schedule_instances.session_id'),
      { name: 'protocol_hash', type: 'category', sql: 'si.protocol_hash', label: 'SHA-256 of the protocol file', source: 'schedule_instances.protocol_hash' },
      { name: 'updated_ts_utc', type: 'instant', sql: 'si.updated_ts_utc', label: 'Last status change (UTC)', source: 'schedule_instances.updated_ts_utc' },
      ...common('si', 'schedule_instances', 'the instance\'s own day (ts_utc is when it was stored)'),
    ],
  },
  {
    name: 'turns', longName: 'Turns', description: 'One row per utterance of the robot or the participant.',
    from: 'turns t LEFT JOIN sessions s ON s.session_id = t.session_id', sinceDate: localDateOf('t'), orderBy: 't.rowid',
    columns: [
      { name: 'turn_id', type: 'bigint', sql: 't.turn_id', label: 'Turn id', source: 'turns.turn_id' },
      sessionId('t.session_id', 'turns.session_id'),
      pid(participantOf('t', 's'), 'sessions.participant_id'),
      { name: 'speaker', type: 'category', sql: 't.speaker', label: 'Who spoke', levels: { robot: 'the robot', participant: 'the participant' }, source: 'turns.speaker' },
      { name: 'step', type: 'category', sql: 't.step', label: 'Session step', source: 'turns.step' },
      { name: 'text', type: 'text', sql: 't.text', label: 'What was said', freeText: true, source: 'turns.text' },
      { name: 'start_ts_utc', type: 'instant', sql: 't.start_ts_utc', label: 'Start of the utterance (UTC)', source: 'turns.start_ts_utc' },
      { name: 'end_ts_utc', type: 'instant', sql: 't.end_ts_utc', label: 'End of the utterance (UTC)', source: 'turns.end_ts_utc' },
      { name: 'start_ts_local', type: 'local', sql: 't.start_ts_local', label: 'Start (local, with offset)', source: 'turns.start_ts_local' },
      { name: 'end_ts_local', type: 'local', sql: 't.end_ts_local', label: 'End (local, with offset)', source: 'turns.end_ts_local' },
      { name: 'duration_s', type: 'double', sql: seconds('t.start_ts_utc', 't.end_ts_utc'), label: 'Utterance duration', units: 's', source: 'derived: end_ts_utc - start_ts_utc' },
      ...common('t', 'turns', 'the session\'s study day'),
    ],
  },
  {
    name: 'affect_samples', longName: 'Affect samples', description: 'Fused affect estimates (face, voice, words) during sessions.',
    from: 'affect_samples a LEFT JOIN sessions s ON s.session_id = a.session_id', sinceDate: localDateOf('a'), orderBy: 'a.rowid',
    columns: [
      { name: 'sample_id', type: 'bigint', sql: 'a.sample_id', label: 'Sample id', source: 'affect_samples.sample_id' },
      sessionId('a.session_id', 'affect_samples.session_id'),
      pid(participantOf('a', 's'), 'sessions.participant_id'),
      { name: 'valence', type: 'double', sql: 'a.valence', label: 'Valence estimate', units: '-1 (unpleasant) to 1 (pleasant)', source: 'affect_samples.valence' },
      { name: 'arousal', type: 'double', sql: 'a.arousal', label: 'Arousal estimate', units: '-1 (calm) to 1 (excited)', source: 'affect_samples.arousal' },
      { name: 'label', type: 'category', sql: 'a.label', label: 'Expression label', source: 'affect_samples.label' },
      { name: 'confidence', type: 'double', sql: 'a.confidence', label: 'Confidence of the fused estimate', units: '0 to 1', source: 'affect_samples.confidence' },
      { name: 'sources_json', type: 'json', sql: 'a.sources_json', label: 'Per-source estimates and weights (JSON)', source: 'affect_samples.sources_json' },
      ...common('a', 'affect_samples', 'the session\'s study day'),
    ],
  },
  {
    name: 'survey_responses', longName: 'Survey responses', description: 'Questionnaire answers, one row per item (raw values, not reverse-scored).',
    from: 'responses r LEFT JOIN sessions s ON s.session_id = r.session_id', sinceDate: localDateOf('r'), orderBy: 'r.rowid',
    columns: [
      { name: 'response_id', type: 'bigint', sql: 'r.response_id', label: 'Response id', source: 'responses.response_id' },
      sessionId('r.session_id', 'responses.session_id'),
      pid(participantOf('r', 's'), 'sessions.participant_id'),
      { name: 'instrument', type: 'category', sql: 'r.instrument', label: 'Instrument id', source: 'responses.instrument' },
      { name: 'item', type: 'category', sql: 'r.item', label: 'Item code', source: 'responses.item' },
      { name: 'value', type: 'double', sql: 'r.value', label: 'Raw answer on the item\'s scale (NA when skipped or unanswered)', units: 'scale points', source: 'responses.value' },
      { name: 'status', type: 'category', sql: 'r.status', label: 'Answer status', levels: { answered: 'a value was understood', skipped: 'the participant skipped', unanswered: 'no usable answer' }, source: 'responses.status' },
      { name: 'scoring_version', type: 'category', sql: 'r.scoring_version', label: 'Scoring version of the instrument', source: 'responses.scoring_version' },
      { name: 'raw_text', type: 'text', sql: 'r.raw_text', label: 'What the participant said', freeText: true, source: 'responses.raw_text' },
      ...common('r', 'responses', 'the session\'s study day'),
    ],
  },
  {
    name: 'survey_scores', longName: 'Survey scores', description: 'Scores per session, instrument and scoring version, computed with the protocol\'s reverse keys and rules.',
    columns: [
      pid('', 'sessions.participant_id'),
      sessionId('', 'responses.session_id'),
      { name: 'instrument', type: 'category', label: 'Instrument id', source: 'responses.instrument' },
      { name: 'scoring_version', type: 'category', label: 'Scoring version', source: 'responses.scoring_version' },
      { name: 'score', type: 'category', label: 'Score name', source: 'protocol instruments[].scores[].name' },
      { name: 'method', type: 'category', label: 'How the score is computed', levels: { sum: 'sum of items', mean: 'mean of answered items', prorated_sum: 'mean × item count' }, source: 'protocol instruments[].scores[].method' },
      { name: 'value', type: 'double', label: 'Score (NA when too few items were answered)', source: 'derived: responses.value with reverse keys' },
      { name: 'answered', type: 'int', label: 'Items answered', source: 'derived: responses.status' },
      { name: 'items', type: 'int', label: 'Items in the score', source: 'protocol instruments[].scores[].items' },
      { name: 'ts_utc', type: 'instant', label: 'Time of the last response of the instrument (UTC)', source: 'responses.ts_utc' },
      { name: 'ts_local', type: 'local', label: 'The same, local with offset', source: 'responses.ts_local' },
      { name: 'tz', type: 'category', label: 'Participant\'s IANA time zone', source: 'responses.tz' },
      { name: 'study_day', type: 'int', label: 'Study day', units: 'day', source: 'responses.study_day' },
      { name: 'device_id', type: 'category', label: 'Device', identifier: true, source: 'responses.device_id' },
    ],
  },
  {
    name: 'safeguard_events', longName: 'Safeguard checks', description: 'Every safeguard check result on the participant\'s input and the robot\'s output.',
    from: 'safeguard_events e LEFT JOIN sessions s ON s.session_id = e.session_id', sinceDate: localDateOf('e'), orderBy: 'e.rowid',
    columns: [
      { name: 'safeguard_event_id', type: 'bigint', sql: 'e.safeguard_event_id', label: 'Check id', source: 'safeguard_events.safeguard_event_id' },
      sessionId('e.session_id', 'safeguard_events.session_id'),
      pid(participantOf('e', 's'), 'sessions.participant_id'),
      { name: 'turn_id', type: 'bigint', sql: 'e.turn_id', label: 'Turn checked', source: 'safeguard_events.turn_id' },
      { name: 'direction', type: 'category', sql: 'e.direction', label: 'What was checked', levels: { input: 'the participant\'s words', output: 'the robot\'s reply' }, source: 'safeguard_events.direction' },
      { name: 'check_name', type: 'category', sql: 'e.check_name', label: 'Check', source: 'safeguard_events.check_name' },
      { name: 'check_version', type: 'category', sql: 'e.check_version', label: 'Check version (rules+model)', source: 'safeguard_events.check_version' },
      { name: 'score', type: 'double', sql: 'e.score', label: 'Rule score', units: '0 to 1', source: 'safeguard_events.score' },
      { name: 'threshold', type: 'double', sql: 'e.threshold', label: 'Rule threshold', units: '0 to 1', source: 'safeguard_events.threshold' },
      { name: 'decision', type: 'category', sql: 'e.decision', label: 'Decision (pass, or what the safeguard did)', source: 'safeguard_events.decision' },
      { name: 'fired_parts', type: 'category', sql: 'e.fired_parts', label: 'Parts that fired', levels: { '': 'neither', rules: 'rules', model: 'learned model', 'rules+model': 'both' }, source: 'safeguard_events.fired_parts' },
      { name: 'model_score', type: 'double', sql: 'e.model_score', label: 'Learned model score', units: '0 to 1', source: 'safeguard_events.model_score' },
      { name: 'model_threshold', type: 'double', sql: 'e.model_threshold', label: 'Learned model threshold', units: '0 to 1', source: 'safeguard_events.model_threshold' },
      { name: 'model_via', type: 'category', sql: 'e.model_via', label: 'Piece that scored highest', levels: { whole: 'whole text', window: 'a window', part: 'a part' }, source: 'safeguard_events.model_via' },
      { name: 'evidence', type: 'text', sql: 'e.evidence', label: 'Matched words', freeText: true, source: 'safeguard_events.evidence' },
      ...common('e', 'safeguard_events', 'the session\'s study day'),
    ],
  },
  {
    name: 'safeguard_incidents', longName: 'Safeguard incidents', description: 'Incidents for staff and the IRB (crisis, harm, medical, minor, check failures, attachment trends).',
    from: 'safeguard_incidents i', sinceDate: localDateOf('i'), orderBy: 'i.rowid',
    columns: [
      { name: 'incident_id', type: 'text', sql: 'i.incident_id', label: 'Incident id', source: 'safeguard_incidents.incident_id' },
      pid('i.participant_id', 'safeguard_incidents.participant_id'),
      sessionId('i.session_id', 'safeguard_incidents.session_id'),
      { name: 'turn_id', type: 'bigint', sql: 'i.turn_id', label: 'Turn', source: 'safeguard_incidents.turn_id' },
      { name: 'kind', type: 'category', sql: 'i.kind', label: 'Kind', levels: { crisis: 'crisis', harm: 'harm', medical: 'medical', minor: 'possible minor', 'check-failure': 'a check failed', 'attachment-trend': 'attachment trend' }, source: 'safeguard_incidents.kind' },
      { name: 'severity', type: 'category', sql: 'i.severity', label: 'Severity', levels: { serious: 'serious', moderate: 'moderate', info: 'information' }, source: 'safeguard_incidents.severity' },
      { name: 'event_ts_utc', type: 'instant', sql: 'i.event_ts_utc', label: 'Date of event (UTC)', source: 'safeguard_incidents.event_ts_utc' },
      { name: 'event_ts_local', type: 'local', sql: 'i.event_ts_local', label: 'Date of event (local, with offset)', source: 'safeguard_incidents.event_ts_local' },
      { name: 'staff_learned_ts_utc', type: 'instant', sql: 'i.staff_learned_ts_utc', label: 'When staff learned of it (UTC)', source: 'safeguard_incidents.staff_learned_ts_utc' },
      { name: 'description', type: 'text', sql: 'i.description', label: 'Description', freeText: true, source: 'safeguard_incidents.description' },
      { name: 'robot_action', type: 'text', sql: 'i.robot_action', label: 'What the robot did', source: 'safeguard_incidents.robot_action' },
      { name: 'checks_json', type: 'json', sql: 'i.checks_json', label: 'Checks that fired (JSON, may quote words)', freeText: true, source: 'safeguard_incidents.checks_json' },
      { name: 'resolution', type: 'text', sql: 'i.resolution', label: 'Resolution (staff)', freeText: true, source: 'safeguard_incidents.resolution' },
      { name: 'harm', type: 'category', sql: 'i.harm', label: 'Harm', source: 'safeguard_incidents.harm' },
      { name: 'causality', type: 'category', sql: 'i.causality', label: 'Causality', source: 'safeguard_incidents.causality' },
      { name: 'report_due_ts_utc', type: 'instant', sql: 'i.report_due_ts_utc', label: 'IRB report due (UTC)', source: 'safeguard_incidents.report_due_ts_utc' },
      { name: 'delivery_status', type: 'category', sql: 'i.delivery_status', label: 'Alert delivery', levels: { unsent: 'not yet delivered', sent: 'delivered', acknowledged: 'acknowledged by the receiver', failed: 'refused for good' }, source: 'safeguard_incidents.delivery_status' },
      { name: 'delivery_attempts', type: 'int', sql: 'i.delivery_attempts', label: 'Delivery attempts', source: 'safeguard_incidents.delivery_attempts' },
      { name: 'sent_ts_utc', type: 'instant', sql: 'i.sent_ts_utc', label: 'Delivered (UTC)', source: 'safeguard_incidents.sent_ts_utc' },
      { name: 'acknowledged_ts_utc', type: 'instant', sql: 'i.acknowledged_ts_utc', label: 'Acknowledged (UTC)', source: 'safeguard_incidents.acknowledged_ts_utc' },
      { name: 'retained_ts_utc', type: 'instant', sql: 'i.retained_ts_utc', label: 'Kept without words at withdrawal (UTC)', source: 'safeguard_incidents.retained_ts_utc' },
      { name: 'updated_ts_utc', type: 'instant', sql: 'i.updated_ts_utc', label: 'Last change (UTC)', source: 'safeguard_incidents.updated_ts_utc' },
      ...common('i', 'safeguard_incidents'),
    ],
  },
  {
    name: 'consent_records', longName: 'Consent records', description: 'Every consent answer, per modality (append-only; the latest per modality under the current version counts).',
    from: 'consent_records c', sinceDate: localDateOf('c'), orderBy: 'c.rowid',
    columns: [
      { name: 'consent_record_id', type: 'bigint', sql: 'c.consent_record_id', label: 'Record id', source: 'consent_records.consent_record_id' },
      pid('c.participant_id', 'consent_records.participant_id'),
      { name: 'consent_version', type: 'int', sql: 'c.consent_version', label: 'Consent version', source: 'consent_records.consent_version' },
      { name: 'modality', type: 'category', sql: 'c.modality', label: 'What the consent is for', levels: { audio_recording: 'audio', video_recording: 'video', transcripts: 'transcripts of speech', llm_processing: 'language-model processing', keep_raw_media: 'keeping raw recordings' }, source: 'consent_records.modality' },
      { name: 'granted', type: 'bool', sql: 'c.granted', label: 'Consent given', source: 'consent_records.granted' },
      { name: 'method', type: 'category', sql: 'c.method', label: 'How it was asked', levels: { voice: 'by the robot', staff: 'by study staff' }, source: 'consent_records.method' },
      { name: 'prompt', type: 'text', sql: 'c.prompt', label: 'Exactly what was asked', source: 'consent_records.prompt' },
      { name: 'protocol_hash', type: 'category', sql: 'c.protocol_hash', label: 'SHA-256 of the protocol file', source: 'consent_records.protocol_hash' },
      ...common('c', 'consent_records'),
    ],
  },
  {
    name: 'memories', longName: 'Memories', description: 'What the participant shared, kept only with consent for transcripts; participants whose latest transcripts consent is a refusal are left out.',
    from: 'memories m', sinceDate: localDateOf('m'), orderBy: 'm.rowid',
    where: `COALESCE((SELECT c.granted FROM consent_records c WHERE c.participant_id = m.participant_id AND c.modality = 'transcripts'
      ORDER BY c.consent_version DESC, c.seq DESC LIMIT 1), 1) = 1`,
    columns: [
      { name: 'memory_id', type: 'bigint', sql: 'm.memory_id', label: 'Memory id', source: 'memories.memory_id' },
      pid('m.participant_id', 'memories.participant_id'),
      sessionId('m.session_id', 'memories.session_id'),
      { name: 'said_ts_utc', type: 'instant', sql: 'm.said_ts_utc', label: 'When it was said (UTC)', source: 'memories.said_ts_utc' },
      { name: 'said_ts_local', type: 'local', sql: 'm.said_ts_local', label: 'When it was said (local, with offset)', source: 'memories.said_ts_local' },
      { name: 'summary', type: 'text', sql: 'm.summary', label: 'Short note of what was shared', freeText: true, source: 'memories.summary' },
      { name: 'people_json', type: 'json', sql: 'm.people_json', label: 'People mentioned (JSON list)', freeText: true, source: 'memories.people_json' },
      { name: 'places_json', type: 'json', sql: 'm.places_json', label: 'Places mentioned (JSON list)', freeText: true, source: 'memories.places_json' },
      { name: 'feelings_json', type: 'json', sql: 'm.feelings_json', label: 'Feelings (JSON list of lexicon terms)', source: 'memories.feelings_json' },
      { name: 'topics_json', type: 'json', sql: 'm.topics_json', label: 'Topics (JSON list of lexicon terms)', source: 'memories.topics_json' },
      { name: 'method', type: 'category', sql: 'm.method', label: 'How the note was made', levels: { extractive: 'from the words, offline', model: 'by a language model' }, source: 'memories.method' },
      { name: 'last_recalled_ts_utc', type: 'instant', sql: 'm.last_recalled_ts_utc', label: 'Last recalled (UTC)', source: 'memories.last_recalled_ts_utc' },
      { name: 'recalled_count', type: 'int', sql: 'm.recalled_count', label: 'Times recalled', source: 'memories.recalled_count' },
      { name: 'updated_ts_utc', type: 'instant', sql: 'm.updated_ts_utc', label: 'Last change (UTC)', source: 'memories.updated_ts_utc' },
      ...common('m', 'memories'),
    ],
  },
  {
    name: 'device_health', longName: 'Device health', description: 'Device heartbeats and health reports (`device.*` events), when the device records them.',
    from: 'events ev LEFT JOIN sessions s ON s.session_id = ev.session_id', sinceDate: localDateOf('ev'), where: "ev.kind LIKE 'device.%'", orderBy: 'ev.rowid',
    columns: [
      { name: 'event_id', type: 'bigint', sql: 'ev.event_id', label: 'Event id', source: 'events.event_id' },
      pid(participantOf('ev', 's'), 'participants.participant_id (by device)'),
      { name: 'kind', type: 'category', sql: 'ev.kind', label: 'Event kind', source: 'events.kind' },
      { name: 'detail_json', type: 'json', sql: 'ev.detail_json', label: 'Detail (JSON)', source: 'events.detail_json' },
      ...common('ev', 'events'),
    ],
  },
  {
    name: 'daily_summary', longName: 'Daily summary', description: 'One row per participant and study day: what happened that day (from the other tables of this export).',
    columns: [
      pid('', 'participants.participant_id'),
      { name: 'study_day', type: 'int', label: 'Study day', units: 'day', source: 'schedule_instances.study_day, sessions.study_day' },
      { name: 'local_date', type: 'date', label: 'Local date of the study day', source: 'derived: participants.start_date + study_day - 1' },
      { name: 'tz', type: 'category', label: 'Participant\'s IANA time zone', source: 'participants.tz' },
      { name: 'condition', type: 'category', label: 'Allocated condition', source: 'participants.condition' },
      {
        name: 'day_status', type: 'category', label: 'What became of the day', source: 'derived: sessions.status, schedule_instances.status',
        levels: { completed: 'a session completed', interrupted: 'a session ended early', started: 'a session started and never ended', expired: 'invited, no session', missed: 'no session', scheduled: 'still planned', none: 'nothing planned' },
      },
      { name: 'instances_planned', type: 'int', label: 'Session windows planned', source: 'schedule_instances' },
      { name: 'sessions', type: 'int', label: 'Sessions (any status but missed)', source: 'sessions' },
      { name: 'sessions_completed', type: 'int', label: 'Sessions completed', source: 'sessions.status' },
      { name: 'session_minutes', type: 'double', label: 'Time in sessions', units: 'min', source: 'sessions.duration_s' },
      { name: 'turns', type: 'int', label: 'Turns (robot and participant)', source: 'turns' },
      { name: 'participant_turns', type: 'int', label: 'Participant turns', source: 'turns.speaker' },
      { name: 'affect_samples', type: 'int', label: 'Affect samples', source: 'affect_samples' },
      { name: 'valence_mean', type: 'double', label: 'Mean valence of the day\'s affect samples', units: '-1 to 1', source: 'affect_samples.valence' },
      { name: 'arousal_mean', type: 'double', label: 'Mean arousal of the day\'s affect samples', units: '-1 to 1', source: 'affect_samples.arousal' },
      { name: 'mood_valence', type: 'double', label: 'Self-rated mood valence (the `mood` instrument\'s `valence` score)', units: 'scale points', source: 'survey_scores' },
      { name: 'mood_arousal', type: 'double', label: 'Self-rated mood arousal (the `mood` instrument\'s `arousal` score)', units: 'scale points', source: 'survey_scores' },
      { name: 'safeguard_checks', type: 'int', label: 'Safeguard checks', source: 'safeguard_events' },
      { name: 'safeguard_flags', type: 'int', label: 'Safeguard checks that did not pass', source: 'safeguard_events.decision' },
      { name: 'incidents', type: 'int', label: 'Safeguard incidents', source: 'safeguard_incidents' },
    ],
  },
];

/** Names of every exported table. */
export const TABLE_NAMES: readonly string[] = TABLES.map((t) => t.name);
