/**
 * The in-memory adapter of the store ports: plain arrays of rows, no SQLite. Rows have the columns of
 * the Hearth file (see README), so reading back, ordering, sequence numbers, withdrawal purge and scan
 * behave as in `SqliteStore`; both run `store.contract.ts`. For tests and tools where the file is not
 * what is being tested. Nothing survives `close()`.
 */
import { StoreError } from './errors.js';
import { SCHEMA_VERSION } from './migrations.js';
import type {
  AffectSampleRecord, ConsentRecords, DeviceLog, EventRecord, LatestEvent, MemoryRecords, ResponseRecord, SafeguardEventRecord, SafeguardRecords,
  Store, StoreStats, StudyRecords, WithdrawalRecords,
} from './ports.js';
import {
  alreadyEnrolled, checksWithoutWords, incidentReportOf, KEPT_TABLES, RETAINED_REASON, toAffectSample, toAllocation, toConsent, toEvent, toIncident, toMemory,
  toOutboxLine, toParticipant, toResponse, toRetainedIncident, toSafeguardEvent, toScheduleInstance, toSession, toTurn, toValue, type MemoryRow, type Row,
} from './rows.js';
import type { IncidentInput, IncidentRecord, OutboxEntry, ValueInput, ValueRecord } from './safeguard-records.js';
import type { MemoryRecord, NewMemoryRecord } from './memory-records.js';
import type {
  DeviceIdentity, NewAffectSample, NewParticipant, NewResponse, NewSafeguardEvent, NewSession, NewTurn, ParticipantRecord, SessionRecord,
  SessionStatus, TurnRecord,
} from './store.js';
import type { ParticipantScope, PurgeCounts, TableScan } from './study-records.js';
import { isoUtc, stamp, studyDay as studyDayOf } from './time.js';

/** The tables of the Hearth file and which of the scoping columns each has (as in `migrations.ts`). */
const TABLES: Readonly<Record<string, readonly ('participant_id' | 'session_id' | 'device_id')[]>> = {
  affect_samples: ['session_id', 'device_id'],
  allocation_seeds: [],
  allocations: ['participant_id'],
  consent_records: ['participant_id', 'device_id'],
  device_seq: ['device_id'],
  devices: ['device_id'],
  events: ['session_id', 'device_id'],
  memories: ['participant_id', 'session_id', 'device_id'],
  participant_values: ['participant_id', 'session_id', 'device_id'],
  participants: ['participant_id', 'device_id'],
  responses: ['session_id', 'device_id'],
  safeguard_events: ['session_id', 'device_id'],
  safeguard_incidents: ['participant_id', 'session_id', 'device_id'],
  schedule_instances: ['participant_id', 'session_id', 'device_id'],
  sessions: ['session_id', 'participant_id', 'device_id'],
  tombstones: ['participant_id', 'device_id'],
  turns: ['session_id', 'device_id'],
};

/** Integer primary keys, given in insertion order and never reused. */
const ID_COLUMNS: Readonly<Record<string, string>> = {
  turns: 'turn_id', events: 'event_id', responses: 'response_id', affect_samples: 'sample_id', safeguard_events: 'safeguard_event_id',
  memories: 'memory_id', allocations: 'allocation_id', consent_records: 'consent_record_id', participant_values: 'value_id',
};

const bySeq = (a: Row, b: Row) => (a.seq as number) - (b.seq as number);
const cmp = (a: unknown, b: unknown): number => (a === b ? 0 : a === null || a === undefined ? -1 : b === null || b === undefined ? 1 : (a as string) < (b as string) ? -1 : 1);
const sortedCounts = (entries: Iterable<string>): Record<string, number> => {
  const m = new Map<string, number>();
  for (const k of entries) m.set(k, (m.get(k) ?? 0) + 1);
  return Object.fromEntries([...m].sort(([a], [b]) => cmp(a, b)));
};

/** A Hearth store held in memory. */
export class MemoryStore implements Store {
  readonly path: string;
  readonly study: StudyRecords;
  readonly consent: ConsentRecords;
  readonly withdrawal: WithdrawalRecords;
  readonly stats: StoreStats;
  private readonly tables = new Map<string, Row[]>(Object.keys(TABLES).map((t) => [t, []]));
  private readonly nextIds = new Map<string, number>();
  /** Undo steps of the open transaction (null outside one). */
  private undo: (() => void)[] | null = null;
  private closed = false;

  private constructor(name: string) {
    this.path = `memory:${name}`;
    this.study = new MemoryStudyRecords(this);
    this.consent = {
      record: (identity, records, atMs) => this.write('cannot record consent', () => {
        for (const r of records) {
          const start = this.find('participants', (p) => p.participant_id === r.participantId)?.start_date as string | undefined;
          const day = start ? studyDayOf(atMs, start, identity.tz) : null;
          this.insert('consent_records', {
            participant_id: r.participantId, consent_version: r.consentVersion, modality: r.modality, granted: r.granted ? 1 : 0, method: r.method,
            prompt: r.prompt, protocol_hash: r.protocolHash, ...this.common(identity, atMs, day),
          });
        }
      }),
      list: (participantId) => this.select('consent_records', (r) => r.participant_id === participantId)
        .sort((a, b) => bySeq(a, b) || (a.consent_record_id as number) - (b.consent_record_id as number)).map(toConsent),
    };
    this.withdrawal = new MemoryWithdrawal(this);
    this.stats = new MemoryStats(this);
  }

  /** A new, empty store; `name` only labels it in messages. */
  static open(name = 'hearth'): MemoryStore {
    return new MemoryStore(name);
  }

  forDevice(identity: DeviceIdentity): DeviceLog {
    return new MemoryDeviceLog(this, identity);
  }

  memories(identity: DeviceIdentity): MemoryRecords {
    return new MemoryMemoryRecords(this, identity);
  }

  safeguards(log: DeviceLog): SafeguardRecords {
    return new MemorySafeguardRecords(this, log);
  }

  transaction<T>(fn: () => T): T {
    return this.write(`${this.path}: transaction failed`, fn, true);
  }

  close(): void {
    this.closed = true;
  }

  // ---- row access shared by the ports (not part of them) ------------------------------------

  /** Run `fn` atomically: on a throw every change it made is undone (a savepoint when nested). */
  write<T>(what: string, fn: () => T, keepStoreErrors = false): T {
    if (this.closed) throw new StoreError(`${this.path}: the store is closed`);
    const outer = this.undo === null;
    if (outer) this.undo = [];
    const mark = this.undo!.length;
    try {
      const out = fn();
      if (outer) this.undo = null;
      return out;
    } catch (cause) {
      const steps = this.undo!;
      while (steps.length > mark) steps.pop()!();
      if (outer) this.undo = null;
      if (keepStoreErrors && cause instanceof StoreError) throw cause;
      throw new StoreError(`${what}: ${(cause as Error).message}`, { cause });
    }
  }

  private recordUndo(step: () => void): void {
    this.undo?.push(step);
  }

  rows(table: string): Row[] {
    const rows = this.tables.get(table);
    if (!rows) throw new Error(`no such table: ${table}`);
    return rows;
  }

  /** Copies of the rows that match, in insertion order. */
  select(table: string, where: (r: Row) => boolean = () => true): Row[] {
    return this.rows(table).filter(where).map((r) => ({ ...r }));
  }

  find(table: string, where: (r: Row) => boolean): Row | undefined {
    return this.rows(table).find(where);
  }

  /** Insert a row (taking the table's next integer id, if it has one); returns the id. */
  insert(table: string, row: Row): number {
    const rows = this.rows(table);
    const idCol = ID_COLUMNS[table];
    let id = 0;
    if (idCol) {
      const before = this.nextIds.get(table) ?? 1;
      id = before;
      this.nextIds.set(table, before + 1);
      row = { [idCol]: id, ...row };
      this.recordUndo(() => this.nextIds.set(table, before));
    }
    rows.push(row);
    this.recordUndo(() => rows.splice(rows.indexOf(row), 1));
    return id;
  }

  /** Change a stored row in place. */
  update(row: Row, patch: Row): void {
    const old = Object.fromEntries(Object.keys(patch).map((k) => [k, row[k]]));
    Object.assign(row, patch);
    this.recordUndo(() => Object.assign(row, old));
  }

  /** Delete the rows that match; returns them. */
  remove(table: string, where: (r: Row) => boolean): Row[] {
    const rows = this.rows(table);
    const gone = rows.filter(where);
    if (gone.length === 0) return gone;
    const before = [...rows];
    rows.splice(0, rows.length, ...rows.filter((r) => !gone.includes(r)));
    this.recordUndo(() => rows.splice(0, rows.length, ...before));
    return gone;
  }

  /** Refuse a row whose reference is missing, as the file's foreign keys do. */
  requireRef(table: string, column: string, value: unknown): void {
    if (value === null || value === undefined) return;
    if (!this.find(table, (r) => r[column] === value)) throw new Error('FOREIGN KEY constraint failed');
  }

  /** The common columns of a new row, taking the device's next `seq` (inside `write`, so a rollback gives it back). */
  common(identity: DeviceIdentity, atMs: number, studyDay: number | null): Row {
    let counter = this.find('device_seq', (r) => r.device_id === identity.deviceId);
    if (!counter) {
      counter = { device_id: identity.deviceId, last_seq: 0 };
      this.insert('device_seq', counter);
    }
    this.update(counter, { last_seq: (counter.last_seq as number) + 1 });
    return { ...stamp(atMs, identity.tz), study_day: studyDay, device_id: identity.deviceId, seq: counter.last_seq, clock_source: identity.clockSource };
  }

  tableNames(): string[] {
    return Object.keys(TABLES).sort();
  }

  columnsOf(table: string): readonly string[] {
    return TABLES[table] ?? [];
  }
}

class MemoryDeviceLog implements DeviceLog {
  readonly identity: DeviceIdentity;
  private readonly s: MemoryStore;

  constructor(store: MemoryStore, identity: DeviceIdentity) {
    this.s = store;
    this.identity = identity;
  }

  private write<T>(fn: () => T): T {
    return this.s.write('database write failed', fn);
  }

  private common(atMs: number, day: number | null): Row {
    return this.s.common(this.identity, atMs, day);
  }

  private dayOfDevice(atMs: number): number | null {
    const active = this.s.select('participants', (p) => p.device_id === this.identity.deviceId && p.status === 'active').sort(bySeq).at(-1);
    return active ? studyDayOf(atMs, active.start_date as string, this.identity.tz) : null;
  }

  private dayOfSession(sessionId: string | null | undefined, atMs: number): number | null {
    if (!sessionId) return this.dayOfDevice(atMs);
    return (this.s.find('sessions', (r) => r.session_id === sessionId)?.study_day as number | null | undefined) ?? null;
  }

  private event(kind: string, detail: unknown, atMs: number, sessionId: string | null, day: number | null): void {
    this.s.requireRef('sessions', 'session_id', sessionId);
    this.s.insert('events', {
      session_id: sessionId, kind, detail_json: detail === undefined || detail === null ? null : JSON.stringify(detail), ...this.common(atMs, day),
    });
  }

  private sessionRow(sessionId: string): Row | undefined {
    return this.s.find('sessions', (r) => r.session_id === sessionId);
  }

  registerDevice(info: { hardware: string; hearthVersion: string }, atMs: number): void {
    this.write(() => {
      const c = this.common(atMs, null);
      const existing = this.s.find('devices', (r) => r.device_id === this.identity.deviceId);
      if (existing) this.s.update(existing, { hardware: info.hardware, hearth_version: info.hearthVersion });
      else this.s.insert('devices', { hardware: info.hardware, hearth_version: info.hearthVersion, ...c });
    });
  }

  enrollParticipant(p: NewParticipant, atMs: number): ParticipantRecord {
    const existing = alreadyEnrolled(this.participant(p.participantId), p.participantId, this.identity.deviceId);
    if (existing) return existing;
    this.write(() => {
      const c = this.common(atMs, studyDayOf(atMs, p.startDate, this.identity.tz));
      this.s.requireRef('devices', 'device_id', this.identity.deviceId);
      this.s.insert('participants', {
        participant_id: p.participantId, start_date: p.startDate, condition: p.condition, protocol_id: p.protocolId,
        protocol_version: p.protocolVersion, protocol_hash: p.protocolHash, status: 'active', ...c,
      });
    });
    return this.participant(p.participantId)!;
  }

  participant(participantId: string): ParticipantRecord | undefined {
    const r = this.s.find('participants', (x) => x.participant_id === participantId);
    return r && toParticipant(r);
  }

  updateParticipantProtocol(participantId: string, protocolVersion: string, protocolHash: string): void {
    this.write(() => {
      const r = this.s.find('participants', (x) => x.participant_id === participantId);
      if (r) this.s.update(r, { protocol_version: protocolVersion, protocol_hash: protocolHash });
    });
  }

  private insertSession(s: NewSession, atMs: number, status: 'started' | 'missed', reason: string | null): void {
    if (this.sessionRow(s.sessionId)) throw new Error('UNIQUE constraint failed: sessions.session_id');
    this.s.requireRef('participants', 'participant_id', s.participantId);
    const c = this.common(atMs, s.studyDay);
    this.s.insert('sessions', {
      session_id: s.sessionId, participant_id: s.participantId, status, status_reason: reason, step: null, progress_json: null,
      protocol_hash: s.protocolHash, condition: s.condition, story_id: null, started_ts_utc: status === 'started' ? c.ts_utc : null, ended_ts_utc: null,
      last_activity_ms: atMs, resumed_count: 0, ...c,
    });
  }

  startSession(s: NewSession, atMs: number): SessionRecord {
    this.write(() => {
      this.insertSession(s, atMs, 'started', null);
      this.event('session.started', null, atMs, s.sessionId, s.studyDay);
    });
    return this.session(s.sessionId)!;
  }

  saveProgress(sessionId: string, step: string, progress: unknown, atMs: number): void {
    this.write(() => {
      const r = this.sessionRow(sessionId);
      if (r) this.s.update(r, { step, progress_json: JSON.stringify(progress), last_activity_ms: atMs });
    });
  }

  setSessionStory(sessionId: string, storyId: string, atMs: number): void {
    this.write(() => {
      const r = this.sessionRow(sessionId);
      if (r) this.s.update(r, { story_id: storyId, last_activity_ms: atMs });
    });
  }

  markResumed(sessionId: string, atMs: number): void {
    this.write(() => {
      const r = this.sessionRow(sessionId);
      if (r) this.s.update(r, { resumed_count: (r.resumed_count as number) + 1, last_activity_ms: atMs });
      this.event('session.resumed', null, atMs, sessionId, this.dayOfSession(sessionId, atMs));
    });
  }

  finishSession(sessionId: string, status: Exclude<SessionStatus, 'started' | 'scheduled'>, reason: string | null, atMs: number): void {
    this.write(() => {
      const r = this.sessionRow(sessionId);
      if (!r || r.status !== 'started') throw new Error(`session ${sessionId} is not open`);
      this.s.update(r, { status, status_reason: reason, ended_ts_utc: stamp(atMs, this.identity.tz).ts_utc, last_activity_ms: atMs });
      this.event(`session.${status}`, reason === null ? null : { reason }, atMs, sessionId, this.dayOfSession(sessionId, atMs));
    });
  }

  session(sessionId: string): SessionRecord | undefined {
    const r = this.sessionRow(sessionId);
    return r && toSession(r);
  }

  openSessions(): SessionRecord[] {
    return this.s.select('sessions', (r) => r.device_id === this.identity.deviceId && r.status === 'started').sort(bySeq).map(toSession);
  }

  sessions(participantId: string): SessionRecord[] {
    return this.s.select('sessions', (r) => r.participant_id === participantId)
      .sort((a, b) => (a.study_day as number) - (b.study_day as number) || bySeq(a, b)).map(toSession);
  }

  recordTurn(t: NewTurn): number {
    return this.write(() => {
      this.s.requireRef('sessions', 'session_id', t.sessionId);
      const start = stamp(t.startMs, this.identity.tz);
      const end = stamp(t.endMs, this.identity.tz);
      const id = this.s.insert('turns', {
        session_id: t.sessionId, speaker: t.speaker, text: t.text, step: t.step, start_ts_utc: start.ts_utc, end_ts_utc: end.ts_utc,
        start_ts_local: start.ts_local, end_ts_local: end.ts_local, ...this.common(t.endMs, this.dayOfSession(t.sessionId, t.endMs)),
      });
      const r = this.sessionRow(t.sessionId);
      if (r) this.s.update(r, { last_activity_ms: t.endMs });
      return id;
    });
  }

  turns(sessionId: string): TurnRecord[] {
    return this.s.select('turns', (r) => r.session_id === sessionId).sort(bySeq).map(toTurn);
  }

  recordEvent(kind: string, detail: unknown, atMs: number, sessionId: string | null = null): void {
    this.write(() => this.event(kind, detail, atMs, sessionId, this.dayOfSession(sessionId, atMs)));
  }

  lastEvent(kind: string): unknown {
    const r = this.s.select('events', (e) => e.device_id === this.identity.deviceId && e.kind === kind).sort(bySeq).at(-1);
    return r?.detail_json ? JSON.parse(r.detail_json as string) : null;
  }

  events(filter: { kind?: string; sessionId?: string } = {}): EventRecord[] {
    return this.s.select('events', (e) => e.device_id === this.identity.deviceId && (filter.kind === undefined || e.kind === filter.kind)
      && (filter.sessionId === undefined || e.session_id === filter.sessionId)).sort(bySeq).map(toEvent);
  }

  recordResponse(r: NewResponse, atMs: number): void {
    this.write(() => {
      this.s.requireRef('sessions', 'session_id', r.sessionId);
      this.s.insert('responses', {
        session_id: r.sessionId, instrument: r.instrument, item: r.item, value: r.value, raw_text: r.rawText, status: r.status,
        scoring_version: r.scoringVersion, ...this.common(atMs, this.dayOfSession(r.sessionId, atMs)),
      });
    });
  }

  responses(sessionId?: string): ResponseRecord[] {
    return this.s.select('responses', (r) => r.device_id === this.identity.deviceId && (sessionId === undefined || r.session_id === sessionId))
      .sort(bySeq).map(toResponse);
  }

  recordAffectSamples(samples: readonly NewAffectSample[]): void {
    if (samples.length === 0) return;
    this.write(() => {
      for (const a of samples) {
        this.s.requireRef('sessions', 'session_id', a.sessionId);
        this.s.insert('affect_samples', {
          session_id: a.sessionId, valence: a.valence, arousal: a.arousal, label: a.label, confidence: a.confidence,
          sources_json: JSON.stringify(a.sources), ...this.common(a.atMs, this.dayOfSession(a.sessionId, a.atMs)),
        });
      }
    });
  }

  affectSamples(): AffectSampleRecord[] {
    return this.s.select('affect_samples', (r) => r.device_id === this.identity.deviceId).sort(bySeq).map(toAffectSample);
  }

  recordSafeguardEvents(events: readonly NewSafeguardEvent[]): void {
    if (events.length === 0) return;
    this.write(() => {
      for (const e of events) {
        this.s.requireRef('sessions', 'session_id', e.sessionId);
        this.s.requireRef('turns', 'turn_id', e.turnId);
        this.s.insert('safeguard_events', {
          session_id: e.sessionId, turn_id: e.turnId, direction: e.direction, check_name: e.checkName, check_version: e.checkVersion,
          score: e.score, threshold: e.threshold, decision: e.decision, evidence: e.evidence, fired_parts: e.firedParts ?? null,
          model_score: e.modelScore ?? null, model_threshold: e.modelThreshold ?? null, model_via: e.modelVia ?? null,
          ...this.common(e.atMs, this.dayOfSession(e.sessionId, e.atMs)),
        });
      }
    });
  }

  safeguardEvents(): SafeguardEventRecord[] {
    return this.s.select('safeguard_events', (r) => r.device_id === this.identity.deviceId).sort(bySeq).map(toSafeguardEvent);
  }

  recordMissedSession(s: NewSession, reason: string, atMs: number): void {
    this.write(() => {
      this.insertSession(s, atMs, 'missed', reason);
      this.event('session.missed', { reason }, atMs, s.sessionId, s.studyDay);
    });
  }

  recentRobotLines(participantId: string, limit: number): string[] {
    const sessions = new Set(this.s.select('sessions', (r) => r.participant_id === participantId).map((r) => r.session_id));
    // As in SQL, a turn without a step is not "not the story" (NULL != 'story' is not true).
    return this.s.select('turns', (t) => sessions.has(t.session_id) && t.speaker === 'robot' && t.step !== null && t.step !== 'story')
      .sort((a, b) => bySeq(b, a)).slice(0, Math.max(0, limit)).map((t) => t.text as string);
  }

  storiesHeard(participantId: string): string[] {
    return this.s.select('sessions', (r) => r.participant_id === participantId && r.story_id !== null).sort(bySeq).map((r) => r.story_id as string);
  }
}

class MemoryStudyRecords implements StudyRecords {
  private readonly s: MemoryStore;

  constructor(store: MemoryStore) {
    this.s = store;
  }

  allocationSeed(studyId: string, makeSeed: () => string, at: { atMs: number; tz: string; clockSource: DeviceIdentity['clockSource'] }): string {
    return this.s.write('allocation seed', () => {
      const row = this.s.find('allocation_seeds', (r) => r.study_id === studyId);
      if (row) return row.seed as string;
      const seed = makeSeed();
      const st = stamp(at.atMs, at.tz);
      this.s.insert('allocation_seeds', { study_id: studyId, seed, ts_utc: st.ts_utc, tz: st.tz, ts_local: st.ts_local, clock_source: at.clockSource });
      return seed;
    }, true);
  }

  findAllocation(studyId: string, participantId: string) {
    const r = this.s.find('allocations', (a) => a.study_id === studyId && a.participant_id === participantId);
    return r && toAllocation(r);
  }

  allocationsOf(studyId: string) {
    return this.s.select('allocations', (a) => a.study_id === studyId)
      .sort((a, b) => cmp(a.stratum, b.stratum) || (a.slot as number) - (b.slot as number)).map(toAllocation);
  }

  allocateOnce(...[a, choose]: Parameters<StudyRecords['allocateOnce']>): ReturnType<StudyRecords['allocateOnce']> {
    return this.s.write('allocation', () => {
      const existing = this.findAllocation(a.studyId, a.participantId);
      if (existing) return { record: existing, created: false };
      const slots = this.s.select('allocations', (r) => r.study_id === a.studyId && r.stratum === a.stratum).map((r) => r.slot as number);
      const next = slots.length === 0 ? 0 : Math.max(...slots) + 1;
      const c = choose(next);
      const st = stamp(a.atMs, a.tz);
      this.s.insert('allocations', {
        study_id: a.studyId, participant_id: a.participantId, stratum: a.stratum, slot: next, condition: c.condition, method: c.method,
        block_index: c.blockIndex, block_size: c.blockSize, seed: a.seed, protocol_hash: a.protocolHash, ts_utc: st.ts_utc, tz: st.tz, ts_local: st.ts_local,
        clock_source: a.clockSource,
      });
      return { record: this.findAllocation(a.studyId, a.participantId)!, created: true };
    }, true);
  }

  saveScheduleInstances(...[identity, instances, atMs]: Parameters<StudyRecords['saveScheduleInstances']>): number {
    return this.s.write(`cannot store schedule instances on device ${identity.deviceId}`, () => {
      let added = 0;
      for (const i of instances) {
        if (this.s.find('schedule_instances', (r) => r.participant_id === i.participantId && r.instance_id === i.instanceId)) continue;
        const c = this.s.common(identity, atMs, i.studyDay);
        this.s.insert('schedule_instances', {
          participant_id: i.participantId, instance_id: i.instanceId, slot: i.slot, local_date: i.localDate, template_id: i.templateId,
          window_start_utc: i.windowStartUtc, window_end_utc: i.windowEndUtc, window_start_local: i.windowStartLocal, window_end_local: i.windowEndLocal,
          status: 'scheduled', status_reason: null, invitations: 0, last_invited_ts_utc: null, session_id: null, protocol_hash: i.protocolHash,
          updated_ts_utc: c.ts_utc, ...c,
        });
        added++;
      }
      return added;
    });
  }

  loadScheduleInstances(participantId: string) {
    return this.s.select('schedule_instances', (r) => r.participant_id === participantId)
      .sort((a, b) => cmp(a.window_start_utc, b.window_start_utc) || cmp(a.slot, b.slot)).map(toScheduleInstance);
  }

  updateScheduleInstance(...[participantId, instanceId, change, atMs]: Parameters<StudyRecords['updateScheduleInstance']>): void {
    const row = this.s.find('schedule_instances', (r) => r.participant_id === participantId && r.instance_id === instanceId);
    if (!row) throw new StoreError(`schedule instance ${instanceId} of participant ${participantId} not found`);
    this.s.write('updating a schedule instance', () => this.s.update(row, {
      status: change.status, status_reason: change.statusReason,
      invitations: change.invitations ?? row.invitations,
      last_invited_ts_utc: change.lastInvitedMs === undefined || change.lastInvitedMs === null ? row.last_invited_ts_utc : new Date(change.lastInvitedMs).toISOString(),
      session_id: change.sessionId ?? row.session_id,
      updated_ts_utc: new Date(atMs).toISOString(),
    }));
  }
}

class MemoryMemoryRecords implements MemoryRecords {
  private readonly s: MemoryStore;
  private readonly identity: DeviceIdentity;

  constructor(store: MemoryStore, identity: DeviceIdentity) {
    this.s = store;
    this.identity = identity;
  }

  add(m: NewMemoryRecord): MemoryRecord {
    const name = this.s.path;
    if (!m.summary.trim()) throw new StoreError(`${name}: memory for ${m.participantId} has an empty summary`);
    if (m.tz !== this.identity.tz) {
      throw new StoreError(`${name}: memory for ${m.participantId} is in time zone ${m.tz}, but device ${this.identity.deviceId} is in ${this.identity.tz}`);
    }
    const id = this.s.write(`${name}: cannot store a memory for participant ${m.participantId}`, () => {
      this.s.requireRef('participants', 'participant_id', m.participantId);
      this.s.requireRef('sessions', 'session_id', m.sessionId);
      const c = this.s.common(this.identity, m.saidAtMs, m.studyDay);
      return this.s.insert('memories', {
        participant_id: m.participantId, session_id: m.sessionId, said_ts_utc: c.ts_utc, said_ts_local: c.ts_local, summary: m.summary,
        people_json: JSON.stringify(m.people), places_json: JSON.stringify(m.places), feelings_json: JSON.stringify(m.feelings),
        topics_json: JSON.stringify(m.topics), method: m.method, last_recalled_ts_utc: null, recalled_count: 0, updated_ts_utc: c.ts_utc, ...c,
      });
    });
    return toMemory(this.s.find('memories', (r) => r.memory_id === id) as MemoryRow);
  }

  list(participantId: string): MemoryRecord[] {
    return this.s.select('memories', (r) => r.participant_id === participantId)
      .sort((a, b) => cmp(a.said_ts_utc, b.said_ts_utc) || (a.memory_id as number) - (b.memory_id as number)).map((r) => toMemory(r as MemoryRow));
  }

  markRecalled(memoryId: number, atMs: number): void {
    const r = this.s.find('memories', (x) => x.memory_id === memoryId);
    if (r) this.s.write('recalling a memory', () => this.s.update(r, { last_recalled_ts_utc: isoUtc(atMs), updated_ts_utc: isoUtc(atMs), recalled_count: (r.recalled_count as number) + 1 }));
  }

  delete(participantId: string, memoryIds: readonly number[]): number[] {
    return this.s.write('forgetting memories', () =>
      memoryIds.flatMap((id) => this.s.remove('memories', (r) => r.participant_id === participantId && r.memory_id === id).map((r) => r.memory_id as number)));
  }

  deleteAll(participantId: string): number[] {
    return this.s.write('forgetting memories', () =>
      this.s.remove('memories', (r) => r.participant_id === participantId).map((r) => r.memory_id as number).sort((a, b) => a - b));
  }
}

class MemorySafeguardRecords implements SafeguardRecords {
  private readonly s: MemoryStore;
  private readonly log: DeviceLog;

  constructor(store: MemoryStore, log: DeviceLog) {
    this.s = store;
    this.log = log;
  }

  private dayOf(atMs: number, participantId: string | null): number | null {
    const start = participantId ? this.log.participant(participantId)?.startDate : undefined;
    return start ? studyDayOf(atMs, start, this.log.identity.tz) : null;
  }

  private run<T>(what: string, fn: () => T): T {
    return this.s.write(`safeguard records: ${what} failed`, fn);
  }

  private row(incidentId: string): Row | undefined {
    return this.s.find('safeguard_incidents', (r) => r.incident_id === incidentId);
  }

  private ofDevice(where: (r: Row) => boolean = () => true): Row[] {
    return this.s.select('safeguard_incidents', (r) => r.device_id === this.log.identity.deviceId && where(r));
  }

  recordIncident(r: IncidentInput, atMs: number): void {
    const day = this.dayOf(atMs, r.participantId);
    this.run(`recording incident ${r.incidentId}`, () => {
      if (this.row(r.incidentId)) throw new Error('UNIQUE constraint failed: safeguard_incidents.incident_id');
      const c = this.s.common(this.log.identity, atMs, day);
      this.s.insert('safeguard_incidents', {
        incident_id: r.incidentId, kind: r.kind, severity: r.severity, participant_id: r.participantId, session_id: r.sessionId, turn_id: r.turnId,
        event_ts_utc: c.ts_utc, event_ts_local: c.ts_local, staff_learned_ts_utc: null, description: r.description, robot_action: r.robotAction,
        checks_json: JSON.stringify(r.checks), resolution: null, harm: r.harm, causality: r.causality, report_due_ts_utc: r.reportDueBy,
        alert_status: 'pending', delivery_status: 'unsent', delivery_attempts: 0, next_attempt_ts_utc: null, last_error: null, sent_ts_utc: null,
        acknowledged_ts_utc: null, retained_ts_utc: null, retained_reason: null, updated_ts_utc: c.ts_utc, ...c,
      });
    });
    this.log.recordEvent('safeguard.incident', { incidentId: r.incidentId, kind: r.kind, severity: r.severity }, atMs, r.sessionId);
  }

  /** Change an incident in place: it keeps its `seq`; `updated_ts_utc` records when. */
  private update(incidentId: string, patch: (r: Row) => Row, atMs: number): void {
    const r = this.row(incidentId);
    if (!r) throw new StoreError(`safeguard records: no incident ${incidentId}`);
    this.run(`updating incident ${incidentId}`, () => this.s.update(r, { ...patch(r), updated_ts_utc: isoUtc(atMs) }));
  }

  markAlert(incidentId: string, status: 'sent' | 'failed', atMs: number): void {
    this.update(incidentId, () => ({ alert_status: status }), atMs);
    this.log.recordEvent('safeguard.alert-marked', { incidentId, status }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  acknowledge(incidentId: string, atMs: number): void {
    this.update(incidentId, (r) => ({ staff_learned_ts_utc: r.staff_learned_ts_utc ?? isoUtc(atMs) }), atMs);
    this.log.recordEvent('safeguard.incident-acknowledged', { incidentId }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  resolve(incidentId: string, outcome: { resolution: string; harm: string; causality: string }, atMs: number): void {
    this.update(incidentId, (r) => ({
      resolution: outcome.resolution, harm: outcome.harm, causality: outcome.causality, staff_learned_ts_utc: r.staff_learned_ts_utc ?? isoUtc(atMs),
    }), atMs);
    this.log.recordEvent('safeguard.incident-resolved', { incidentId, causality: outcome.causality }, atMs, this.incident(incidentId)?.sessionId ?? null);
  }

  incident(incidentId: string): IncidentRecord | undefined {
    const r = this.row(incidentId);
    return r && toIncident(r);
  }

  incidents(participantId?: string): IncidentRecord[] {
    const rows = participantId === undefined
      ? this.ofDevice()
      : this.s.select('safeguard_incidents', (r) => r.participant_id === participantId);
    return rows.sort((a, b) => cmp(a.event_ts_utc, b.event_ts_utc)).map(toIncident);
  }

  unsentIncidents(): IncidentRecord[] {
    return this.ofDevice((r) => r.delivery_status === 'unsent' || r.delivery_status === 'failed').sort((a, b) => cmp(a.event_ts_utc, b.event_ts_utc)).map(toIncident);
  }

  dueAlerts(atMs: number | null, limit = 50, horizonMs: number | null = null): OutboxEntry[] {
    const at = atMs === null ? null : isoUtc(atMs);
    const horizon = horizonMs === null ? null : isoUtc(horizonMs);
    return this.ofDevice((r) => {
      if (r.delivery_status !== 'unsent') return false;
      const next = r.next_attempt_ts_utc as string | null;
      return at === null || next === null || next <= at || (horizon !== null && next > horizon);
    })
      .sort((a, b) => Number(b.severity === 'serious') - Number(a.severity === 'serious') || cmp(a.event_ts_utc, b.event_ts_utc) || cmp(a.incident_id, b.incident_id))
      .slice(0, limit)
      .map((r) => {
        const record = toIncident(r);
        const report = { ...incidentReportOf(record, r.device_id as string), checks: checksWithoutWords(record.checks) };
        return { incidentId: record.incidentId, kind: record.kind, severity: record.severity, attempts: record.deliveryAttempts, report };
      });
  }

  nextAlertDueMs(): number | null {
    const due = this.ofDevice((r) => r.delivery_status === 'unsent').map((r) => (r.next_attempt_ts_utc ?? r.ts_utc) as string).sort(cmp)[0];
    return due === undefined ? null : Date.parse(due);
  }

  alertAttempted(incidentId: string, attempt: number, retryAtMs: number, atMs: number): void {
    this.update(incidentId, () => ({ delivery_attempts: attempt, next_attempt_ts_utc: isoUtc(retryAtMs) }), atMs);
  }

  alertDelivered(incidentId: string, outcome: 'sent' | 'acknowledged', atMs: number): void {
    const at = isoUtc(atMs);
    this.update(incidentId, (r) => ({
      delivery_status: outcome, next_attempt_ts_utc: null, sent_ts_utc: r.sent_ts_utc ?? at,
      acknowledged_ts_utc: outcome === 'acknowledged' ? r.acknowledged_ts_utc ?? at : r.acknowledged_ts_utc,
    }), atMs);
  }

  alertFailed(incidentId: string, failure: { error: string; permanent: boolean; retryAtMs: number | null }, atMs: number): void {
    const next = failure.permanent || failure.retryAtMs === null ? null : isoUtc(failure.retryAtMs);
    this.update(incidentId, () => ({ delivery_status: failure.permanent ? 'failed' : 'unsent', last_error: failure.error.slice(0, 500), next_attempt_ts_utc: next }), atMs);
  }

  saveValues(participantId: string, values: readonly ValueInput[], source: { sessionId: string | null; turnId: number | null; version: string }, atMs: number): void {
    if (values.length === 0) return;
    const day = this.dayOf(atMs, participantId);
    this.run('saving values', () => {
      for (const v of values) {
        const existing = this.s.find('participant_values', (r) => r.participant_id === participantId && r.value === v.value);
        if (existing && (existing.confidence as number) > v.confidence) continue;
        if (existing) this.s.remove('participant_values', (r) => r === existing);
        this.s.requireRef('participants', 'participant_id', participantId);
        this.s.insert('participant_values', {
          participant_id: participantId, value: v.value, confidence: v.confidence, evidence: v.evidence.text, evidence_cue: v.evidence.cue ?? null,
          session_id: source.sessionId, turn_id: source.turnId, inference_version: source.version, ...this.s.common(this.log.identity, atMs, day),
        });
      }
    });
    this.log.recordEvent('safeguard.values-inferred', { values: values.map((v) => v.value) }, atMs, source.sessionId);
  }

  values(participantId: string): ValueRecord[] {
    return this.s.select('participant_values', (r) => r.participant_id === participantId)
      .sort((a, b) => (b.confidence as number) - (a.confidence as number) || cmp(a.value, b.value)).map(toValue);
  }

  deleteValues(participantId: string, value: string | null, atMs: number): number {
    const n = this.run('deleting values', () =>
      this.s.remove('participant_values', (r) => r.participant_id === participantId && (value === null || r.value === value)).length);
    this.log.recordEvent('safeguard.values-deleted', { count: n, scope: value === null ? 'all' : 'one' }, atMs, null);
    return n;
  }

  attachmentByDay(participantId: string): { studyDay: number; count: number }[] {
    const sessions = new Set(this.s.select('sessions', (r) => r.participant_id === participantId).map((r) => r.session_id));
    const days = this.s.select('safeguard_events', (e) => sessions.has(e.session_id) && e.check_name === 'attachment' && e.decision === 'flag' && e.study_day !== null)
      .map((e) => e.study_day as number);
    const counts = new Map<number, number>();
    for (const d of days) counts.set(d, (counts.get(d) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => a - b).map(([studyDay, count]) => ({ studyDay, count }));
  }
}

class MemoryWithdrawal implements WithdrawalRecords {
  private readonly s: MemoryStore;

  constructor(store: MemoryStore) {
    this.s = store;
  }

  participantScope(participantId: string, extraDeviceIds: readonly string[] = []): ParticipantScope {
    const tables = this.s.tableNames();
    const sessionIds = new Set<string>();
    const devices = new Set<string>(extraDeviceIds);
    for (const t of tables) {
      const cols = this.s.columnsOf(t);
      if (!cols.includes('participant_id')) continue;
      for (const r of this.s.rows(t)) {
        if (r.participant_id !== participantId) continue;
        if (cols.includes('session_id') && r.session_id !== null && r.session_id !== undefined) sessionIds.add(r.session_id as string);
        if (cols.includes('device_id') && !KEPT_TABLES.includes(t) && r.device_id !== null && r.device_id !== undefined) devices.add(r.device_id as string);
      }
    }
    const soleUse = [...devices].filter((d) => !tables.some((t) => {
      const cols = this.s.columnsOf(t);
      if (KEPT_TABLES.includes(t) || !cols.includes('participant_id') || !cols.includes('device_id')) return false;
      return this.s.rows(t).some((r) => r.device_id === d && r.participant_id !== null && r.participant_id !== undefined && r.participant_id !== participantId);
    }));
    return { participantId, sessionIds: [...sessionIds].sort(), deviceIds: soleUse.sort() };
  }

  private inScope(scope: { participantId: string; sessionIds: readonly string[]; deviceIds: readonly string[] }, table: string): (r: Row) => boolean {
    const cols = this.s.columnsOf(table);
    return (r) => (cols.includes('participant_id') && r.participant_id === scope.participantId)
      || (cols.includes('session_id') && scope.sessionIds.includes(r.session_id as string))
      || (cols.includes('device_id') && scope.deviceIds.includes(r.device_id as string));
  }

  retainIncidentsWithoutWords(scope: ParticipantScope, atMs: number) {
    const at = isoUtc(atMs);
    this.s.write(`withdrawal of ${scope.participantId}: keeping incident records failed and nothing was deleted`, () => {
      for (const r of this.s.rows('safeguard_incidents').filter(this.inScope(scope, 'safeguard_incidents'))) {
        this.s.update(r, {
          checks_json: JSON.stringify(checksWithoutWords(JSON.parse(r.checks_json as string))), session_id: null, turn_id: null,
          retained_ts_utc: r.retained_ts_utc ?? at, retained_reason: RETAINED_REASON, updated_ts_utc: at,
        });
      }
    });
    return this.retainedIncidents(scope.participantId, scope.deviceIds);
  }

  purgeParticipant(...[scope, tombstone]: Parameters<WithdrawalRecords['purgeParticipant']>): PurgeCounts {
    const counts: PurgeCounts = {};
    this.s.write(`withdrawal of ${scope.participantId} failed and nothing was deleted`, () => {
      const start = this.s.find('participants', (p) => p.participant_id === scope.participantId)?.start_date as string | undefined;
      const day = start ? studyDayOf(tombstone.atMs, start, tombstone.identity.tz) : null;
      for (const t of this.s.tableNames()) {
        if (KEPT_TABLES.includes(t) || this.s.columnsOf(t).length === 0) continue;
        const match = this.inScope(scope, t);
        // Incident records kept without words stay (the file's trigger `safeguard_incidents_keep_retained`).
        const n = this.s.remove(t, (r) => match(r) && !(t === 'safeguard_incidents' && r.retained_ts_utc !== null)).length;
        if (n > 0) counts[t] = n;
      }
      const c = this.s.common(tombstone.identity, tombstone.atMs, day);
      this.s.remove('tombstones', (r) => r.participant_id === scope.participantId);
      this.s.insert('tombstones', {
        participant_id: scope.participantId, study_id: tombstone.studyId, protocol_hash: tombstone.protocolHash, withdrawn_ts_utc: c.ts_utc,
        withdrawn_ts_local: c.ts_local, rows_purged_json: JSON.stringify(counts), files_purged: tombstone.filesPurged, updated_ts_utc: c.ts_utc, ...c,
      });
    });
    return counts;
  }

  setTombstoneFiles(participantId: string, filesPurged: number, atMs: number): void {
    const r = this.s.find('tombstones', (x) => x.participant_id === participantId);
    if (r) this.s.write('updating the tombstone', () => this.s.update(r, { files_purged: filesPurged, updated_ts_utc: new Date(atMs).toISOString() }));
  }

  tombstoneOf(participantId: string): Record<string, unknown> | undefined {
    return this.s.select('tombstones', (r) => r.participant_id === participantId)[0];
  }

  scanParticipant(scope: ParticipantScope): TableScan[] {
    const token = new RegExp(`(^|[^A-Za-z0-9])${scope.participantId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9])`);
    return this.s.tableNames().map((t) => {
      const kept = KEPT_TABLES.includes(t);
      const rows = this.s.rows(t).filter((r) => Object.values(r).some((v) => {
        if (v === null || v === undefined) return false;
        const text = String(v);
        return token.test(text) || scope.sessionIds.some((s) => text.includes(s)) || (!kept && scope.deviceIds.includes(text) && r.device_id === text);
      })).length;
      return { table: t, rows, kept };
    });
  }

  retainedIncidents(participantId: string, deviceIds: readonly string[] = []) {
    return this.s.select('safeguard_incidents', (r) => r.retained_ts_utc !== null && (r.participant_id === participantId || deviceIds.includes(r.device_id as string)))
      .sort((a, b) => cmp(a.event_ts_utc, b.event_ts_utc) || cmp(a.incident_id, b.incident_id)).map(toRetainedIncident);
  }
}

class MemoryStats implements StoreStats {
  private readonly s: MemoryStore;

  constructor(store: MemoryStore) {
    this.s = store;
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  integrityCheck(): string {
    return 'ok';
  }

  sessionsByStatus(): Record<string, number> {
    return sortedCounts(this.s.rows('sessions').map((r) => r.status as string));
  }

  counts(deviceId?: string) {
    const n = (t: string) => this.s.rows(t).filter((r) => deviceId === undefined || r.device_id === deviceId).length;
    return { devices: n('devices'), participants: n('participants'), sessions: n('sessions'), turns: n('turns'), responses: n('responses') };
  }

  lastEventTsUtc(): string | null {
    return (this.s.rows('events').map((r) => r.ts_utc as string).sort(cmp).at(-1)) ?? null;
  }

  latestEvent(kinds: readonly string[]): LatestEvent | null {
    const r = this.s.select('events', (e) => kinds.includes(e.kind as string))
      .sort((a, b) => cmp(b.ts_utc, a.ts_utc) || (b.event_id as number) - (a.event_id as number))[0];
    return r ? { kind: r.kind as string, detail: r.detail_json ? JSON.parse(r.detail_json as string) : null, tsUtc: r.ts_utc as string } : null;
  }

  instancesByStatus(participantId: string, throughStudyDay: number): Record<string, number> {
    return sortedCounts(this.s.rows('schedule_instances').filter((r) => r.participant_id === participantId && (r.study_day as number) <= throughStudyDay).map((r) => r.status as string));
  }

  incidentOutbox() {
    return this.s.select('safeguard_incidents').sort((a, b) => cmp(a.event_ts_utc, b.event_ts_utc) || cmp(a.incident_id, b.incident_id)).map(toOutboxLine);
  }

  lastSeq(deviceId: string): number | null {
    return (this.s.find('device_seq', (r) => r.device_id === deviceId)?.last_seq as number | undefined) ?? null;
  }
}
