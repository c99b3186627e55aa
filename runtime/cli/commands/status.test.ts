import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../../data/index.js';
import { register } from './status.js';
import { isUserError } from '../errors.js';
import { runCommand, runCommandResult } from '../../../test/support/run-command.js';
import { freshUplinkState, writeUplinkConfig, UPLINK_STATE_FILE, type UplinkState } from '../../uplink/config.js';

const run = async (...args: string[]): Promise<string> => (await runCommand(register, 'status', ...args)).join('\n');
afterEach(() => vi.restoreAllMocks());

const WORDS = 'nobody would miss me if I took them all';
const HOUR = 3_600_000;

/** A device file with four incidents, one in each outbox state, whose evidence holds the participant's words. */
function deviceFile(webhook: 'configured' | 'none' | 'never'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'hearth.sqlite');
  const store = SqliteStore.open(file);
  const t0 = Date.now() - 26 * HOUR;
  const log = store.forDevice({ deviceId: 'dev-1', tz: 'UTC', clockSource: 'system' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, t0);
  log.enrollParticipant({ participantId: 'P07', startDate: '2026-03-01', condition: null, protocolId: null, protocolVersion: null, protocolHash: null }, t0);
  log.startSession({ sessionId: 's1', participantId: 'P07', studyDay: 1, protocolHash: null, condition: null }, t0);
  if (webhook === 'configured') log.recordEvent('alerts.webhook', { url: 'https://alerts.example.edu/hearth', signed: true }, t0);
  if (webhook === 'none') log.recordEvent('alerts.no-webhook', {}, t0);
  const records = store.safeguards(log);
  const incident = (id: string, kind: 'crisis' | 'harm' | 'medical' | 'minor', at: number) => records.recordIncident({
    incidentId: id, kind, severity: kind === 'minor' ? 'moderate' : 'serious', participantId: 'P07', sessionId: 's1', turnId: null, description: 'd', robotAction: 'a',
    checks: [{ check: kind, score: 0.9, evidenceSpan: { text: WORDS } }], harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
  }, at);
  incident('inc-unsent', 'crisis', t0);
  records.alertAttempted('inc-unsent', 3, Date.now() + 10 * 60_000, t0 + HOUR);
  records.alertFailed('inc-unsent', { error: 'HTTP 503 Service Unavailable', permanent: false, retryAtMs: Date.now() + 10 * 60_000 }, t0 + HOUR);
  incident('inc-sent', 'harm', t0 + HOUR);
  records.alertDelivered('inc-sent', 'sent', t0 + HOUR);
  incident('inc-ack', 'medical', t0 + 2 * HOUR);
  records.alertDelivered('inc-ack', 'acknowledged', t0 + 2 * HOUR);
  incident('inc-failed', 'minor', t0 + 3 * HOUR);
  records.alertFailed('inc-failed', { error: 'HTTP 403 Forbidden: refused by the receiver; not retried', permanent: true, retryAtMs: null }, t0 + 3 * HOUR);
  store.close();
  return file;
}

describe('hearth status', () => {
  it('shows the outbox: counts and one line per incident with status, id, kind, age, attempts and last error, never the words', async () => {
    const out = await run('--db', deviceFile('configured'));
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/hearth\.sqlite: schema \d+, integrity ok; 1 device\(s\), 1 participant\(s\); sessions: started 1/);
    expect(lines[1]).toMatch(/^alert webhook: https:\/\/alerts\.example\.edu\/hearth \(signed with HMAC-SHA256; at the start of /);
    expect(lines[2]).toBe('alert outbox: 4 incidents — 1 unsent, 1 sent, 1 acknowledged, 1 failed');
    expect(lines[3]).toMatch(/^ {2}unsent +inc-unsent +crisis +serious +26h( \d+m)? old {2}3 attempts {2}next in (9|10)m {2}last error: HTTP 503 Service Unavailable$/);
    expect(lines[4]).toMatch(/^ {2}sent +inc-sent +harm +serious +25h.* old {2}0 attempts {2}sent \d{4}-/);
    expect(lines[5]).toMatch(/^ {2}acknowledged +inc-ack +medical .* acknowledged \d{4}-/);
    expect(lines[6]).toMatch(/^ {2}failed +inc-failed +minor +moderate .* last error: HTTP 403 Forbidden: refused by the receiver; not retried$/);
    expect(lines.at(-2)).toMatch(/^safeguards: (no session prepared yet|rules \+ learned layer|DEGRADED)/);
    expect(lines.at(-1)).toBe('uplink: not enrolled with a study server (no uplink.json in the device folder)');
    expect(out).not.toMatch(/miss me|took them/);
  });

  it('says when the device started without a webhook, or never said', async () => {
    expect((await run('--db', deviceFile('none'))).split('\n')[1]).toMatch(/^alert webhook: NONE configured .*set device\.alert_webhook in the protocol or HEARTH_ALERT_WEBHOOK$/);
    expect((await run('--db', deviceFile('never'))).split('\n')[1]).toMatch(/^alert webhook: unknown/);
  });

  it('--json gives the same as one object, with the outbox', async () => {
    const got = JSON.parse(await run('--db', deviceFile('none'), '--json')) as { integrity: string; alerts: { webhook: { configured: boolean }; counts: Record<string, number>; incidents: { incidentId: string; deliveryStatus: string }[] } };
    expect(got.integrity).toBe('ok');
    expect(got.alerts.webhook).toMatchObject({ configured: false });
    expect(got.alerts.counts).toEqual({ unsent: 1, sent: 1, acknowledged: 1, failed: 1 });
    expect(got.alerts.incidents.map((i) => [i.incidentId, i.deliveryStatus])).toEqual([['inc-unsent', 'unsent'], ['inc-sent', 'sent'], ['inc-ack', 'acknowledged'], ['inc-failed', 'failed']]);
    expect(JSON.stringify(got)).not.toMatch(/miss me/);
  });

  describe('the study-server uplink', () => {
    const enrolled = (state: Partial<UplinkState> | null) => {
      const file = deviceFile('configured');
      const dir = dirname(file);
      const config = { server: 'https://study.example.edu', deviceId: 'dev-1', token: `hth_${'A'.repeat(43)}`, enrolledTsUtc: '2026-11-30T09:00:00.000Z' };
      writeUplinkConfig(dir, config);
      if (state) writeFileSync(join(dir, UPLINK_STATE_FILE), JSON.stringify({ ...freshUplinkState(config), ...state }));
      return file;
    };

    it('shows server, cursor against last_seq with the rows waiting, last heartbeat, last batch and last error — never the token', async () => {
      const hb = new Date(Date.now() - 4 * 60_000).toISOString();
      const file = enrolled({ cursor: 5, lastHeartbeatUtc: hb, lastError: { message: 'https://study.example.edu: cannot reach the server (ECONNREFUSED)', atUtc: hb } });
      const out = await run('--db', file);
      const line = out.split('\n').at(-1)!;
      expect(line).toMatch(/^uplink: https:\/\/study\.example\.edu as dev-1 \(enrolled 2026-11-30T09:00:00\.000Z\); cursor 5 of last_seq (\d+) \((\d+) rows waiting\); last heartbeat .* \(4m ago\); last batch never; last error .*: https:\/\/study\.example\.edu: cannot reach the server \(ECONNREFUSED\)$/);
      const [, lastSeq, waiting] = /last_seq (\d+) \((\d+) rows/.exec(line)!;
      // Every seq is one row here (nothing rolled back or deleted): the rows waiting are the ones above the cursor.
      expect(Number(waiting)).toBe(Number(lastSeq) - 5);
      expect(out).not.toMatch(/hth_/);
      const json = JSON.parse(await run('--db', file, '--json')) as { uplink: Record<string, unknown> };
      expect(json.uplink).toMatchObject({ enrolled: true, server: 'https://study.example.edu', cursor: 5, lastSeq: Number(lastSeq), backlogRows: Number(waiting), revoked: null });
      expect(JSON.stringify(json)).not.toMatch(/hth_/);
    });

    it('says when the server was never reached, and when the token was revoked', async () => {
      expect((await run('--db', enrolled(null))).split('\n').at(-1)).toMatch(/; server not reached yet; \d+ rows to send \(last_seq \d+\); last heartbeat never; last batch never$/);
      const revoked = enrolled({ cursor: 3, revoked: { message: 'revoked', atUtc: '2026-12-01T10:00:00.000Z' } });
      expect((await run('--db', revoked)).split('\n').at(-1)).toMatch(/: REVOKED at 2026-12-01T10:00:00\.000Z — nothing is sent; \d+ rows wait \(cursor 3 of last_seq \d+\); enroll again with hearth provision/);
    });
  });

  describe('only reads: never creates, migrates or writes the file', () => {
    /** The file's bytes and mtime (set in the past, so a write in the same millisecond still shows). */
    const fingerprint = (file: string) => ({ sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), mtimeMs: statSync(file).mtimeMs });
    const aged = (file: string) => {
      utimesSync(file, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
      return fingerprint(file);
    };
    const refused = async (file: string, pattern: RegExp) => {
      const { out, error } = await runCommandResult(register, 'status', '--db', file);
      expect(out).toEqual([]);
      expect(isUserError(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message).not.toMatch(/\n/);
    };

    it("another application's database: refused, not given Hearth's tables or user_version", async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'notes.sqlite');
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(file);
      db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('shopping list')");
      db.close();
      const before = aged(file);
      await refused(file, /notes\.sqlite: not a Hearth database .*the file was not modified/);
      expect(fingerprint(file)).toEqual(before);
      expect(existsSync(`${file}-wal`)).toBe(false);
    });

    it('a zero-byte file: refused, still zero bytes', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'empty.sqlite');
      writeFileSync(file, '');
      const before = aged(file);
      await refused(file, /empty\.sqlite: not a Hearth database/);
      expect(fingerprint(file)).toEqual(before);
      expect(statSync(file).size).toBe(0);
      expect(existsSync(`${file}-wal`)).toBe(false);
    });

    it('a missing file: refused, not created', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'missing.sqlite');
      await refused(file, /missing\.sqlite: database not found/);
      expect(existsSync(file)).toBe(false);
    });

    it('a Hearth file from an older schema: refused, not upgraded', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'hearth-status-')), 'old.sqlite');
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(file);
      db.exec('CREATE TABLE devices (device_id TEXT)');
      db.pragma('user_version = 1');
      db.close();
      const before = aged(file);
      await refused(file, /old\.sqlite: database schema version 1 is older .*does not upgrade it/);
      expect(fingerprint(file)).toEqual(before);
    });

    it("a device's own database: reported, and its bytes and mtime are unchanged", async () => {
      const file = deviceFile('configured');
      const before = aged(file);
      expect(await run('--db', file)).toMatch(/schema \d+, integrity ok; 1 device\(s\), 1 participant\(s\)/);
      expect(fingerprint(file)).toEqual(before);
    });
  });
});
