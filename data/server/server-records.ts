/**
 * The study server's own tables (`hearth serve`), kept in the study database beside the collected
 * device tables. Every name starts with `server_`, and no table has both a `device_id` and a `seq`
 * column, so `hearth collect`, export and the report, which treat such tables as device data, never
 * touch them. No column is called `participant_id` or `session_id` either: a collected withdrawal
 * deletes rows naming the participant from every table with such a column, and the server's alert
 * records, like the device's incident records, are kept for the IRB (they hold no words).
 *
 * Secrets are stored only as hashes (see `secrets.ts`). SQL runs on the study store's own handle
 * (`sqliteHandle`), so better-sqlite3 is still loaded only by `sqlite-store.ts`.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { sqliteHandle, type SqliteStore } from '../sqlite-store.js';
import { isoUtc } from '../time.js';
import { newDeviceToken, newEnrollmentCode, newOpaqueSecret, normaliseEnrollmentCode, sha256Hex } from './secrets.js';

type Db = BetterSqlite3.Database;

/** A staff role: `staff` sees devices, adherence and alerts; `researcher` can also download exports. */
export type StaffRole = 'staff' | 'researcher';
/** Every staff role. */
export const STAFF_ROLES: readonly StaffRole[] = ['staff', 'researcher'];

const DDL = `
  CREATE TABLE IF NOT EXISTS server_enrollment_codes (
    code_sha256 TEXT PRIMARY KEY,
    bound_device_id TEXT,
    created_ts_utc TEXT NOT NULL,
    expires_ts_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    used_ts_utc TEXT,
    used_by_device_id TEXT
  );
  CREATE TABLE IF NOT EXISTS server_devices (
    device_id TEXT PRIMARY KEY,
    hearth_version TEXT NOT NULL,
    enrolled_ts_utc TEXT NOT NULL,
    revoked_ts_utc TEXT,
    revoked_by TEXT
  );
  CREATE TABLE IF NOT EXISTS server_device_tokens (
    token_sha256 TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES server_devices (device_id),
    created_ts_utc TEXT NOT NULL,
    revoked_ts_utc TEXT,
    revoked_reason TEXT
  );
  CREATE INDEX IF NOT EXISTS server_device_tokens_by_device ON server_device_tokens (device_id);
  CREATE TABLE IF NOT EXISTS server_users (
    user_name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('staff', 'researcher')),
    password_scrypt TEXT NOT NULL,
    created_ts_utc TEXT NOT NULL,
    disabled_ts_utc TEXT
  );
  CREATE TABLE IF NOT EXISTS server_login_sessions (
    session_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES server_users (user_name),
    csrf_token TEXT NOT NULL,
    created_ts_utc TEXT NOT NULL,
    last_seen_ts_utc TEXT NOT NULL,
    expires_ts_utc TEXT NOT NULL,
    ended_ts_utc TEXT
  );
  CREATE TABLE IF NOT EXISTS server_login_attempts (
    attempt_id INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    address TEXT NOT NULL,
    ts_utc TEXT NOT NULL,
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
  );
  CREATE INDEX IF NOT EXISTS server_login_attempts_by_user ON server_login_attempts (user_name, ts_utc);
  CREATE INDEX IF NOT EXISTS server_login_attempts_by_address ON server_login_attempts (address, ts_utc);
  CREATE TABLE IF NOT EXISTS server_heartbeats (
    heartbeat_id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    received_ts_utc TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    device_ts_utc TEXT NOT NULL,
    device_clock_ms INTEGER NOT NULL,
    clock_source TEXT NOT NULL,
    clock_offset_ms INTEGER,
    hearth_version TEXT NOT NULL,
    protocol_hash TEXT,
    free_disk_bytes INTEGER,
    db_bytes INTEGER,
    last_session_ref TEXT,
    last_session_status TEXT,
    last_session_ts_utc TEXT,
    perception TEXT NOT NULL,
    safeguards TEXT NOT NULL,
    alert_outbox INTEGER NOT NULL,
    uplink_backlog_rows INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS server_heartbeats_by_device ON server_heartbeats (device_id, received_ms);
  CREATE TABLE IF NOT EXISTS server_alerts (
    incident_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    participant_ref TEXT,
    session_ref TEXT,
    event_ts_utc TEXT NOT NULL,
    report_due_ts_utc TEXT,
    checks_json TEXT NOT NULL,
    received_ts_utc TEXT NOT NULL,
    last_received_ts_utc TEXT NOT NULL,
    deliveries INTEGER NOT NULL,
    acknowledged_ts_utc TEXT,
    acknowledged_by TEXT,
    acknowledgement_note TEXT
  );
  CREATE TABLE IF NOT EXISTS server_audit (
    audit_id INTEGER PRIMARY KEY,
    ts_utc TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    address TEXT,
    detail_json TEXT NOT NULL
  );`;

/** What a device's token check found. */
export type DeviceAuth = { status: 'ok'; deviceId: string } | { status: 'unknown' } | { status: 'revoked'; deviceId: string };

/** The outcome of redeeming an enrollment code. */
export type Enrollment =
  | { status: 'enrolled'; deviceId: string; token: string }
  /** Unknown, already used or expired: one answer for all three, so a guesser learns nothing. */
  | { status: 'invalid' }
  | { status: 'bound-elsewhere'; boundDeviceId: string };

/** A staff account as stored. */
export interface StaffUser {
  userName: string;
  role: StaffRole;
  passwordScrypt: string;
  disabled: boolean;
}

/** An open login session. */
export interface LoginSession {
  userName: string;
  role: StaffRole;
  csrfToken: string;
  expiresTsUtc: string;
}

/** A heartbeat as the device sends it (PROTOCOL.md, "Device routes"). */
export interface HeartbeatInput {
  tsUtc: string;
  deviceClockMs: number;
  clockSource: string;
  clockOffsetMs: number | null;
  hearthVersion: string;
  protocolHash: string | null;
  freeDiskBytes: number | null;
  dbBytes: number | null;
  lastSession: { sessionId: string; status: string; tsUtc: string } | null;
  perception: string;
  safeguards: string;
  alertOutbox: number;
  uplinkBacklogRows: number;
}

/** The fields of an incident alert the server keeps: identifiers, kind, times and the checks without words. */
export interface AlertInput {
  incidentId: string;
  kind: string;
  severity: string;
  participantId: string | null;
  sessionId: string | null;
  eventDate: string;
  reportDueBy: string | null;
  /** Already stripped of words (`checksWithoutWords`). */
  checks: unknown[];
}

/** The outcome of storing an alert. */
export type AlertReceipt = { status: 'stored' | 'repeated'; acknowledged: boolean } | { status: 'other-device'; deviceId: string };

/** The server's records, on an open study store. */
export class ServerRecords {
  readonly #db: Db;
  readonly #now: () => number;

  private constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Create the server tables when absent (idempotent) on an open study store. */
  static open(study: SqliteStore, now: () => number = Date.now): ServerRecords {
    const db = sqliteHandle(study);
    try {
      db.exec(DDL);
    } catch (cause) {
      throw new StoreError(`${study.path}: cannot prepare the server tables (${(cause as Error).message})`, { cause });
    }
    return new ServerRecords(db, now);
  }

  private get nowIso(): string {
    return isoUtc(this.#now());
  }

  // --- enrollment and device tokens ---

  /** A new one-time code; only its sha256 is stored. The code itself is returned once, to be printed. */
  createEnrollmentCode(o: { deviceId?: string | undefined; expiresInMs: number; createdBy: string }): { code: string; expiresTsUtc: string } {
    const code = newEnrollmentCode();
    const now = this.#now();
    const expiresTsUtc = isoUtc(now + o.expiresInMs);
    this.#db.prepare(`INSERT INTO server_enrollment_codes (code_sha256, bound_device_id, created_ts_utc, expires_ts_utc, created_by)
      VALUES (?, ?, ?, ?, ?)`).run(sha256Hex(normaliseEnrollmentCode(code)), o.deviceId ?? null, isoUtc(now), expiresTsUtc, o.createdBy);
    return { code, expiresTsUtc };
  }

  /**
   * Redeem a code for a device: marks it used, (re-)registers the device, revokes the device's earlier
   * tokens (a re-enrolled device has one valid token) and returns a new token, all in one transaction.
   */
  redeemEnrollmentCode(o: { code: string; deviceId: string; hearthVersion: string }): Enrollment {
    const hash = sha256Hex(normaliseEnrollmentCode(o.code));
    return this.#db.transaction((): Enrollment => {
      const now = this.nowIso;
      const row = this.#db.prepare(`SELECT bound_device_id FROM server_enrollment_codes
        WHERE code_sha256 = ? AND used_ts_utc IS NULL AND expires_ts_utc > ?`).get(hash, now) as { bound_device_id: string | null } | undefined;
      if (!row) return { status: 'invalid' };
      if (row.bound_device_id !== null && row.bound_device_id !== o.deviceId) return { status: 'bound-elsewhere', boundDeviceId: row.bound_device_id };
      this.#db.prepare('UPDATE server_enrollment_codes SET used_ts_utc = ?, used_by_device_id = ? WHERE code_sha256 = ?').run(now, o.deviceId, hash);
      this.#db.prepare(`INSERT INTO server_devices (device_id, hearth_version, enrolled_ts_utc) VALUES (?, ?, ?)
        ON CONFLICT (device_id) DO UPDATE SET hearth_version = excluded.hearth_version, enrolled_ts_utc = excluded.enrolled_ts_utc,
          revoked_ts_utc = NULL, revoked_by = NULL`).run(o.deviceId, o.hearthVersion, now);
      this.#db.prepare(`UPDATE server_device_tokens SET revoked_ts_utc = ?, revoked_reason = 'replaced by a new enrollment'
        WHERE device_id = ? AND revoked_ts_utc IS NULL`).run(now, o.deviceId);
      const token = newDeviceToken();
      this.#db.prepare('INSERT INTO server_device_tokens (token_sha256, device_id, created_ts_utc) VALUES (?, ?, ?)').run(sha256Hex(token), o.deviceId, now);
      return { status: 'enrolled', deviceId: o.deviceId, token };
    }).immediate();
  }

  /** Which device a bearer token belongs to, and whether it was revoked. */
  authenticateDevice(token: string): DeviceAuth {
    const row = this.#db.prepare('SELECT device_id, revoked_ts_utc FROM server_device_tokens WHERE token_sha256 = ?').get(sha256Hex(token)) as
      { device_id: string; revoked_ts_utc: string | null } | undefined;
    if (!row) return { status: 'unknown' };
    return row.revoked_ts_utc === null ? { status: 'ok', deviceId: row.device_id } : { status: 'revoked', deviceId: row.device_id };
  }

  /** Revoke every token of a device; returns how many were live (0 for a device never enrolled or already revoked). */
  revokeDevice(deviceId: string, by: string): number {
    return this.#db.transaction(() => {
      const now = this.nowIso;
      const n = this.#db.prepare(`UPDATE server_device_tokens SET revoked_ts_utc = ?, revoked_reason = ? WHERE device_id = ? AND revoked_ts_utc IS NULL`)
        .run(now, `revoked by ${by}`, deviceId).changes;
      this.#db.prepare('UPDATE server_devices SET revoked_ts_utc = ?, revoked_by = ? WHERE device_id = ? AND revoked_ts_utc IS NULL').run(now, by, deviceId);
      return n;
    }).immediate();
  }

  /** Whether a device id was ever enrolled. */
  isEnrolled(deviceId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM server_devices WHERE device_id = ?').get(deviceId) !== undefined;
  }

  // --- staff accounts, sessions, login attempts ---

  /** Add a staff account (the password already hashed with `hashPassword`). Throws `StoreError` if the name is taken. */
  addUser(userName: string, role: StaffRole, passwordScrypt: string): void {
    try {
      this.#db.prepare('INSERT INTO server_users (user_name, role, password_scrypt, created_ts_utc) VALUES (?, ?, ?, ?)').run(userName, role, passwordScrypt, this.nowIso);
    } catch (cause) {
      if (/UNIQUE/.test((cause as Error).message)) throw new StoreError(`user ${userName} already exists`, { cause });
      throw cause;
    }
  }

  /** A staff account, or undefined. */
  user(userName: string): StaffUser | undefined {
    const r = this.#db.prepare('SELECT user_name, role, password_scrypt, disabled_ts_utc FROM server_users WHERE user_name = ?').get(userName) as
      { user_name: string; role: StaffRole; password_scrypt: string; disabled_ts_utc: string | null } | undefined;
    return r && { userName: r.user_name, role: r.role, passwordScrypt: r.password_scrypt, disabled: r.disabled_ts_utc !== null };
  }

  /** Record one login attempt (user name as typed, the client's address). */
  recordLoginAttempt(userName: string, address: string, succeeded: boolean): void {
    this.#db.prepare('INSERT INTO server_login_attempts (user_name, address, ts_utc, succeeded) VALUES (?, ?, ?, ?)').run(userName, address, this.nowIso, succeeded ? 1 : 0);
  }

  /**
   * Failed attempts for a user name since `sinceMs` and after its last success (a successful login
   * clears the count), with the time of the latest failure.
   */
  failedLogins(userName: string, sinceMs: number): { count: number; lastTsUtc: string | null } {
    const r = this.#db.prepare(`SELECT COUNT(*) AS n, MAX(ts_utc) AS last FROM server_login_attempts
      WHERE user_name = @u AND succeeded = 0 AND ts_utc >= @since
        AND ts_utc > COALESCE((SELECT MAX(ts_utc) FROM server_login_attempts WHERE user_name = @u AND succeeded = 1), '')`)
      .get({ u: userName, since: isoUtc(sinceMs) }) as { n: number; last: string | null };
    return { count: r.n, lastTsUtc: r.last };
  }

  /** Failed attempts from one address since `sinceMs`, whatever the user name. */
  failedLoginsFrom(address: string, sinceMs: number): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM server_login_attempts WHERE address = ? AND succeeded = 0 AND ts_utc >= ?')
      .get(address, isoUtc(sinceMs)) as { n: number }).n;
  }

  /** Open a login session; returns the session id (for the cookie; only its sha256 is stored) and its CSRF token. */
  createLoginSession(userName: string, lifetimeMs: number): { sessionId: string; csrfToken: string } {
    const sessionId = newOpaqueSecret();
    const csrfToken = newOpaqueSecret();
    const now = this.#now();
    this.#db.prepare(`INSERT INTO server_login_sessions (session_sha256, user_name, csrf_token, created_ts_utc, last_seen_ts_utc, expires_ts_utc)
      VALUES (?, ?, ?, ?, ?, ?)`).run(sha256Hex(sessionId), userName, csrfToken, isoUtc(now), isoUtc(now), isoUtc(now + lifetimeMs));
    return { sessionId, csrfToken };
  }

  /**
   * The live session for a cookie value: not ended, not past its expiry, not idle longer than
   * `idleMs`, its user not disabled. Marks it seen now.
   */
  loginSession(sessionId: string, idleMs: number): LoginSession | undefined {
    const now = this.#now();
    const hash = sha256Hex(sessionId);
    const r = this.#db.prepare(`SELECT s.user_name, u.role, s.csrf_token, s.expires_ts_utc FROM server_login_sessions s
      JOIN server_users u ON u.user_name = s.user_name
      WHERE s.session_sha256 = ? AND s.ended_ts_utc IS NULL AND s.expires_ts_utc > ? AND s.last_seen_ts_utc > ? AND u.disabled_ts_utc IS NULL`)
      .get(hash, isoUtc(now), isoUtc(now - idleMs)) as { user_name: string; role: StaffRole; csrf_token: string; expires_ts_utc: string } | undefined;
    if (!r) return undefined;
    this.#db.prepare('UPDATE server_login_sessions SET last_seen_ts_utc = ? WHERE session_sha256 = ?').run(isoUtc(now), hash);
    return { userName: r.user_name, role: r.role, csrfToken: r.csrf_token, expiresTsUtc: r.expires_ts_utc };
  }

  /** End a login session (log out). */
  endLoginSession(sessionId: string): void {
    this.#db.prepare('UPDATE server_login_sessions SET ended_ts_utc = ? WHERE session_sha256 = ? AND ended_ts_utc IS NULL').run(this.nowIso, sha256Hex(sessionId));
  }

  // --- what devices send ---

  /** The highest `seq` of a device the study database holds (0 when none). */
  lastSeq(deviceId: string): number {
    const r = this.#db.prepare('SELECT last_seq FROM device_seq WHERE device_id = ?').get(deviceId) as { last_seq: number } | undefined;
    return r?.last_seq ?? 0;
  }

  /** Store a heartbeat with the server's own receive time. */
  recordHeartbeat(deviceId: string, h: HeartbeatInput, receivedMs: number): void {
    this.#db.prepare(`INSERT INTO server_heartbeats (device_id, received_ts_utc, received_ms, device_ts_utc, device_clock_ms, clock_source,
        clock_offset_ms, hearth_version, protocol_hash, free_disk_bytes, db_bytes, last_session_ref, last_session_status, last_session_ts_utc,
        perception, safeguards, alert_outbox, uplink_backlog_rows)
      VALUES (@device, @received, @receivedMs, @tsUtc, @deviceClockMs, @clockSource, @clockOffsetMs, @hearthVersion, @protocolHash,
        @freeDiskBytes, @dbBytes, @sessionRef, @sessionStatus, @sessionTs, @perception, @safeguards, @alertOutbox, @uplinkBacklogRows)`).run({
      device: deviceId, received: isoUtc(receivedMs), receivedMs, tsUtc: h.tsUtc, deviceClockMs: h.deviceClockMs, clockSource: h.clockSource,
      clockOffsetMs: h.clockOffsetMs, hearthVersion: h.hearthVersion, protocolHash: h.protocolHash, freeDiskBytes: h.freeDiskBytes, dbBytes: h.dbBytes,
      sessionRef: h.lastSession?.sessionId ?? null, sessionStatus: h.lastSession?.status ?? null, sessionTs: h.lastSession?.tsUtc ?? null,
      perception: h.perception, safeguards: h.safeguards, alertOutbox: h.alertOutbox, uplinkBacklogRows: h.uplinkBacklogRows,
    });
  }

  /** Store an alert once per incident id; a repeat only counts the delivery. */
  receiveAlert(deviceId: string, a: AlertInput): AlertReceipt {
    return this.#db.transaction((): AlertReceipt => {
      const now = this.nowIso;
      const existing = this.#db.prepare('SELECT device_id, acknowledged_ts_utc FROM server_alerts WHERE incident_id = ?').get(a.incidentId) as
        { device_id: string; acknowledged_ts_utc: string | null } | undefined;
      if (existing) {
        if (existing.device_id !== deviceId) return { status: 'other-device', deviceId: existing.device_id };
        this.#db.prepare('UPDATE server_alerts SET deliveries = deliveries + 1, last_received_ts_utc = ? WHERE incident_id = ?').run(now, a.incidentId);
        return { status: 'repeated', acknowledged: existing.acknowledged_ts_utc !== null };
      }
      this.#db.prepare(`INSERT INTO server_alerts (incident_id, device_id, kind, severity, participant_ref, session_ref, event_ts_utc, report_due_ts_utc,
          checks_json, received_ts_utc, last_received_ts_utc, deliveries)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`).run(a.incidentId, deviceId, a.kind, a.severity, a.participantId, a.sessionId, a.eventDate,
        a.reportDueBy, JSON.stringify(a.checks), now, now);
      return { status: 'stored', acknowledged: false };
    }).immediate();
  }

  /** Acknowledge an open alert (who, when, a note). False when there is no such alert or it was already acknowledged. */
  acknowledgeAlert(incidentId: string, by: string, note: string): boolean {
    return this.#db.prepare(`UPDATE server_alerts SET acknowledged_ts_utc = ?, acknowledged_by = ?, acknowledgement_note = ?
      WHERE incident_id = ? AND acknowledged_ts_utc IS NULL`).run(this.nowIso, by, note, incidentId).changes === 1;
  }

  // --- audit ---

  /** One audit row for a staff action (login, acknowledgement, export, enrollment code, revocation, new user). */
  audit(e: { actor: string; action: string; target?: string | null; address?: string | null; detail?: Record<string, unknown> }): void {
    this.#db.prepare('INSERT INTO server_audit (ts_utc, actor, action, target, address, detail_json) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.nowIso, e.actor, e.action, e.target ?? null, e.address ?? null, JSON.stringify(e.detail ?? {}));
  }

  /** The audit trail, oldest first. */
  auditTrail(limit = 1000): { tsUtc: string; actor: string; action: string; target: string | null; address: string | null; detail: Record<string, unknown> }[] {
    return (this.#db.prepare('SELECT * FROM server_audit ORDER BY audit_id DESC LIMIT ?').all(limit) as Record<string, string | null>[]).reverse().map((r) => ({
      tsUtc: r.ts_utc!, actor: r.actor!, action: r.action!, target: r.target ?? null, address: r.address ?? null, detail: JSON.parse(r.detail_json!) as Record<string, unknown>,
    }));
  }
}
