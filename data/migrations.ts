/**
 * Versioned schema migrations. Migration N brings `PRAGMA user_version` from N-1 to N.
 * Never edit a migration that has shipped: add a new one.
 */

/** Columns every row carries: when (UTC, zone, local), which study day, which device, in what order. */
const COMMON = `
  ts_utc TEXT NOT NULL CHECK (ts_utc LIKE '____-__-__T__:__:__%Z'),
  tz TEXT NOT NULL,
  ts_local TEXT NOT NULL,
  study_day INTEGER,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  clock_source TEXT NOT NULL CHECK (clock_source IN ('system', 'simulated'))`;

/**
 * Time columns of the allocation registry's rows (migration 3). The registry is a file on the staff
 * machine shared by every device of a study, not a device database: its rows have no device id, study
 * day or device `seq`; `tz` is the zone of the participant whose provisioning wrote the row.
 */
const REGISTRY_TIME = `
  ts_utc TEXT NOT NULL CHECK (ts_utc LIKE '____-__-__T__:__:__%Z'),
  tz TEXT NOT NULL,
  ts_local TEXT NOT NULL,
  clock_source TEXT NOT NULL CHECK (clock_source IN ('system', 'simulated'))`;

export const MIGRATIONS: readonly string[] = [
  // 1: foundation tables
  `
  CREATE TABLE device_seq (
    device_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
  );
  CREATE TABLE devices (
    hardware TEXT NOT NULL,
    hearth_version TEXT NOT NULL,${COMMON},
    PRIMARY KEY (device_id)
  );
  CREATE TABLE participants (
    participant_id TEXT PRIMARY KEY,
    start_date TEXT NOT NULL,
    condition TEXT,
    protocol_id TEXT,
    protocol_version TEXT,
    protocol_hash TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),${COMMON},
    FOREIGN KEY (device_id) REFERENCES devices (device_id)
  );
  CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'started', 'completed', 'interrupted', 'missed')),
    status_reason TEXT,
    step TEXT,
    progress_json TEXT,
    protocol_hash TEXT,
    condition TEXT,
    story_id TEXT,
    started_ts_utc TEXT,
    ended_ts_utc TEXT,
    last_activity_ms INTEGER,
    resumed_count INTEGER NOT NULL DEFAULT 0,${COMMON}
  );
  CREATE INDEX sessions_by_participant ON sessions (participant_id, study_day);
  CREATE INDEX sessions_by_status ON sessions (device_id, status);
  CREATE TABLE turns (
    turn_id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id),
    speaker TEXT NOT NULL CHECK (speaker IN ('robot', 'participant')),
    text TEXT NOT NULL,
    step TEXT,
    start_ts_utc TEXT NOT NULL,
    end_ts_utc TEXT NOT NULL,
    start_ts_local TEXT NOT NULL,
    end_ts_local TEXT NOT NULL,${COMMON}
  );
  CREATE INDEX turns_by_session ON turns (session_id, seq);
  CREATE TABLE events (
    event_id INTEGER PRIMARY KEY,
    session_id TEXT REFERENCES sessions (session_id),
    kind TEXT NOT NULL,
    detail_json TEXT,${COMMON}
  );
  CREATE INDEX events_by_kind ON events (device_id, kind);
  CREATE TABLE responses (
    response_id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id),
    instrument TEXT NOT NULL,
    item TEXT NOT NULL,
    value REAL,
    raw_text TEXT,
    status TEXT NOT NULL CHECK (status IN ('answered', 'skipped', 'unanswered')),
    scoring_version TEXT NOT NULL,${COMMON}
  );
  CREATE TABLE affect_samples (
    sample_id INTEGER PRIMARY KEY,
    session_id TEXT REFERENCES sessions (session_id),
    valence REAL,
    arousal REAL,
    label TEXT,
    confidence REAL NOT NULL,
    sources_json TEXT NOT NULL,${COMMON}
  );
  CREATE INDEX affect_by_time ON affect_samples (device_id, seq);
  CREATE TABLE safeguard_events (
    safeguard_event_id INTEGER PRIMARY KEY,
    session_id TEXT REFERENCES sessions (session_id),
    turn_id INTEGER REFERENCES turns (turn_id),
    direction TEXT NOT NULL CHECK (direction IN ('input', 'output')),
    check_name TEXT NOT NULL,
    check_version TEXT NOT NULL,
    score REAL,
    threshold REAL,
    decision TEXT NOT NULL,
    evidence TEXT,${COMMON}
  );
  `,
  // 2: issue 5 — longitudinal memory: short summaries of what a participant shared (kept only with consent).
  // Forgetting deletes rows; the deletion itself is logged in `events` without the forgotten content.
  // `said_ts_*` is when the participant said it (what "last week you told me" counts from); the common
  // `ts_utc` is when the row was written. `updated_ts_utc` moves when the memory is recalled.
  `
  CREATE TABLE memories (
    memory_id INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    session_id TEXT REFERENCES sessions (session_id),
    said_ts_utc TEXT NOT NULL CHECK (said_ts_utc LIKE '____-__-__T__:__:__%Z'),
    said_ts_local TEXT NOT NULL,
    summary TEXT NOT NULL,
    people_json TEXT NOT NULL,
    places_json TEXT NOT NULL,
    feelings_json TEXT NOT NULL,
    topics_json TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('extractive', 'model')),
    last_recalled_ts_utc TEXT,
    recalled_count INTEGER NOT NULL DEFAULT 0,
    updated_ts_utc TEXT NOT NULL CHECK (updated_ts_utc LIKE '____-__-__T__:__:__%Z'),${COMMON}
  );
  CREATE INDEX memories_by_participant ON memories (participant_id, said_ts_utc);
  `,
  // 3: issue 4 — study records: allocation registry, schedule instances, consent records, withdrawal tombstones.
  // Device rows (schedule instances, consent records, tombstones) carry the common columns and take the
  // device's `seq`. The allocation tables are written only to the staff machine's allocation registry file,
  // which is no device: they carry UTC/zone/local time and clock source but no device id or `seq`.
  `
  CREATE TABLE allocation_seeds (
    study_id TEXT PRIMARY KEY,
    seed TEXT NOT NULL,${REGISTRY_TIME}
  );
  CREATE TABLE allocations (
    allocation_id INTEGER PRIMARY KEY,
    study_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    stratum TEXT NOT NULL,
    slot INTEGER NOT NULL,
    condition TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('blocked', 'simple')),
    block_index INTEGER,
    block_size INTEGER,
    seed TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,${REGISTRY_TIME},
    UNIQUE (study_id, participant_id),
    UNIQUE (study_id, stratum, slot)
  );
  CREATE TABLE schedule_instances (
    participant_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    local_date TEXT NOT NULL,
    template_id TEXT NOT NULL,
    window_start_utc TEXT NOT NULL CHECK (window_start_utc LIKE '____-__-__T__:__:__%Z'),
    window_end_utc TEXT NOT NULL,
    window_start_local TEXT NOT NULL,
    window_end_local TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'delivered', 'started', 'completed', 'missed', 'expired')),
    status_reason TEXT,
    invitations INTEGER NOT NULL DEFAULT 0,
    last_invited_ts_utc TEXT,
    session_id TEXT,
    protocol_hash TEXT NOT NULL,
    updated_ts_utc TEXT NOT NULL CHECK (updated_ts_utc LIKE '____-__-__T__:__:__%Z'),${COMMON},
    CHECK (study_day IS NOT NULL),
    PRIMARY KEY (participant_id, instance_id)
  );
  CREATE INDEX schedule_by_window ON schedule_instances (device_id, window_start_utc);
  CREATE TABLE consent_records (
    consent_record_id INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL,
    consent_version INTEGER NOT NULL,
    modality TEXT NOT NULL CHECK (modality IN ('audio_recording', 'video_recording', 'transcripts', 'llm_processing', 'keep_raw_media')),
    granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
    method TEXT NOT NULL CHECK (method IN ('voice', 'staff')),
    prompt TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,${COMMON}
  );
  CREATE INDEX consent_by_participant ON consent_records (participant_id, seq);
  CREATE TABLE tombstones (
    participant_id TEXT PRIMARY KEY,
    study_id TEXT,
    protocol_hash TEXT,
    withdrawn_ts_utc TEXT NOT NULL CHECK (withdrawn_ts_utc LIKE '____-__-__T__:__:__%Z'),
    withdrawn_ts_local TEXT NOT NULL,
    rows_purged_json TEXT NOT NULL,
    files_purged INTEGER NOT NULL,
    updated_ts_utc TEXT NOT NULL CHECK (updated_ts_utc LIKE '____-__-__T__:__:__%Z'),${COMMON}
  );
  `,
  // 4: issue 6 — safeguard incidents (IRB fields, alert status) and inferred participant values with evidence.
  // `event_ts_*` is the IRB "date of event"; the common `ts_utc` is when the row was written (the same instant
  // today). `updated_ts_utc` moves when the alert status, acknowledgement or resolution changes.
  `
  CREATE TABLE safeguard_incidents (
    incident_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('crisis', 'harm', 'medical', 'minor', 'check-failure', 'attachment-trend')),
    severity TEXT NOT NULL CHECK (severity IN ('serious', 'moderate', 'info')),
    participant_id TEXT,
    session_id TEXT,
    turn_id INTEGER,
    event_ts_utc TEXT NOT NULL CHECK (event_ts_utc LIKE '____-__-__T__:__:__%Z'),
    event_ts_local TEXT NOT NULL,
    staff_learned_ts_utc TEXT,
    description TEXT NOT NULL,
    robot_action TEXT NOT NULL,
    checks_json TEXT NOT NULL,
    resolution TEXT,
    harm TEXT NOT NULL,
    causality TEXT NOT NULL,
    report_due_ts_utc TEXT,
    alert_status TEXT NOT NULL DEFAULT 'pending' CHECK (alert_status IN ('pending', 'sent', 'failed')),
    updated_ts_utc TEXT NOT NULL CHECK (updated_ts_utc LIKE '____-__-__T__:__:__%Z'),${COMMON}
  );
  CREATE INDEX incidents_by_participant ON safeguard_incidents (participant_id, event_ts_utc);
  CREATE TABLE participant_values (
    value_id INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL,
    value TEXT NOT NULL,
    confidence REAL NOT NULL,
    evidence TEXT NOT NULL,
    evidence_cue TEXT,
    session_id TEXT,
    turn_id INTEGER,
    inference_version TEXT NOT NULL,${COMMON}
  );
  CREATE INDEX values_by_participant ON participant_values (participant_id, value);
  `,
  // 5: issue 9 — the alert outbox. Every incident row is also its delivery record, so an incident and its
  // place in the outbox are written in one transaction, before any network I/O. `delivery_status` is
  // `unsent` until a webhook answers 2xx (`sent`), or 2xx with {"acknowledged": true} (`acknowledged`), or
  // refuses it for good (`failed`, with `last_error`). `next_attempt_ts_utc` null means due now.
  // Rows existing before this migration start `unsent`: `alert_status` only ever meant the local alerts.jsonl copy.
  // A withdrawal keeps each incident as a required record without the participant's words (`retained_*`);
  // the trigger makes a retained row survive the generic purge, which deletes every row naming the participant.
  `
  ALTER TABLE safeguard_incidents ADD COLUMN delivery_status TEXT NOT NULL DEFAULT 'unsent'
    CHECK (delivery_status IN ('unsent', 'sent', 'acknowledged', 'failed'));
  ALTER TABLE safeguard_incidents ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE safeguard_incidents ADD COLUMN next_attempt_ts_utc TEXT CHECK (next_attempt_ts_utc LIKE '____-__-__T__:__:__%Z');
  ALTER TABLE safeguard_incidents ADD COLUMN last_error TEXT;
  ALTER TABLE safeguard_incidents ADD COLUMN sent_ts_utc TEXT CHECK (sent_ts_utc LIKE '____-__-__T__:__:__%Z');
  ALTER TABLE safeguard_incidents ADD COLUMN acknowledged_ts_utc TEXT CHECK (acknowledged_ts_utc LIKE '____-__-__T__:__:__%Z');
  ALTER TABLE safeguard_incidents ADD COLUMN retained_ts_utc TEXT CHECK (retained_ts_utc LIKE '____-__-__T__:__:__%Z');
  ALTER TABLE safeguard_incidents ADD COLUMN retained_reason TEXT;
  CREATE INDEX incidents_outbox ON safeguard_incidents (device_id, delivery_status, next_attempt_ts_utc);
  CREATE TRIGGER safeguard_incidents_keep_retained BEFORE DELETE ON safeguard_incidents
    WHEN OLD.retained_ts_utc IS NOT NULL
  BEGIN
    SELECT RAISE(IGNORE);
  END;
  `,
  // 6: issue 9 — the learned safeguard layer. `check_version` names both parts ("1.2.0+model-2.0.0");
  // `score`/`threshold` stay the rules'. `fired_parts` says which parts fired ('rules', 'model',
  // 'rules+model', '' when neither; NULL for checks with no model), `model_score`/`model_threshold`
  // are the model's, and `model_via` which encoded piece scored highest (whole, window, part).
  `
  ALTER TABLE safeguard_events ADD COLUMN fired_parts TEXT CHECK (fired_parts IN ('', 'rules', 'model', 'rules+model'));
  ALTER TABLE safeguard_events ADD COLUMN model_score REAL;
  ALTER TABLE safeguard_events ADD COLUMN model_threshold REAL;
  ALTER TABLE safeguard_events ADD COLUMN model_via TEXT CHECK (model_via IN ('whole', 'window', 'part'));
  `,
];

/** The schema version this build of Hearth writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
