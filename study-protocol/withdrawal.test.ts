import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../data/index.js';
import { BUNDLED_PROTOCOL, provisionDevice, readDeviceConfig, saveInstance, scanDevice, storedSchedule, transition, withdrawParticipant, loadDevice } from './index.js';

const NOW = Date.parse('2026-11-20T15:00:00Z');
const T = Date.parse('2026-12-01T22:05:00Z');

/** A provisioned device with a month-like trace: sessions, turns, answers, affect, safeguards, memories, media files. */
function deviceWithData(participantId = 'P01') {
  const root = mkdtempSync(join(tmpdir(), 'hearth-withdraw-'));
  const dir = join(root, 'device');
  const config = provisionDevice({
    protocolFile: BUNDLED_PROTOCOL, participantId, tz: 'America/New_York', startDate: '2026-12-01', deviceDir: dir, now: NOW,
    registryFile: join(root, 'registry.sqlite'), strata: { household: 'lives_alone' }, consentGranted: ['audio_recording', 'transcripts', 'keep_raw_media'],
  });
  const { protocol } = loadDevice(dir);
  const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
  const log = store.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: 'simulated' });
  const sessionIds: string[] = [];
  const instances = storedSchedule(store.study, protocol.protocol, config, protocol.hash, T);
  for (let d = 0; d < 3; d++) {
    const sessionId = `${config.deviceId}-s${d + 1}`;
    sessionIds.push(sessionId);
    const at = T + d * 86_400_000;
    log.startSession({ sessionId, participantId, studyDay: d + 1, protocolHash: protocol.hash, condition: config.condition } as never, at);
    saveInstance(store.study, participantId, transition(instances[d]!, 'started', at), at, sessionId);
    const turnId = log.recordTurn({ sessionId, speaker: 'participant', text: `I told my sister about the hospital (day ${d + 1})`, step: 'checkin', startMs: at, endMs: at + 5000 });
    log.recordResponse({ sessionId, instrument: 'mood', item: 'mood_valence', value: 6, rawText: 'six', status: 'answered', scoringVersion: 'mood-1' }, at + 6000);
    log.recordAffectSamples([{ atMs: at + 7000, sessionId, valence: 0.1, arousal: 0.3, label: 'sad', confidence: 0.6, sources: ['face', 'voice'] }]);
    log.recordSafeguardEvents([{ atMs: at + 8000, sessionId, turnId, direction: 'input', checkName: 'crisis', checkVersion: '1', score: 0.02, threshold: 0.5, decision: 'pass', evidence: null }]);
    log.finishSession(sessionId, 'completed', null, at + 600_000);
  }
  log.recordEvent('device.heartbeat', { version: '0.1.0' }, T + 3 * 86_400_000);
  store.memories(log.identity).add({
    participantId, sessionId: sessionIds[0]!, saidAtMs: T, tz: config.tz, studyDay: 1, summary: 'sister in hospital',
    people: ['sister'], places: [], feelings: [], topics: [], method: 'extractive',
  });
  store.close();
  mkdirSync(join(dir, 'media', 'audio'), { recursive: true });
  writeFileSync(join(dir, 'media', 'audio', `${sessionIds[0]}.wav`), Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4000, 7)]));
  writeFileSync(join(dir, 'media', 'frame-0001.jpg'), Buffer.alloc(2000, 3));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'runtime.log'), `boot\nsession for ${participantId} started\n`);
  return { root, dir, config, sessionIds };
}

describe('withdrawParticipant', () => {
  it('finds the participant everywhere before withdrawal (the scan can fail)', () => {
    const { dir, config } = deviceWithData();
    const scan = scanDevice(dir, 'P01', config.deviceId);
    expect(scan.sessionIds).toBe(3);
    expect(scan.remaining).toBeGreaterThan(10);
    for (const t of ['participants', 'sessions', 'turns', 'events', 'responses', 'affect_samples', 'safeguard_events', 'schedule_instances']) {
      expect(scan.tables.find((x) => x.table === t)!.rows, t).toBeGreaterThan(0);
    }
    expect(scan.files.filter((f) => !f.kept).map((f) => f.file).sort()).toEqual(['hearth.sqlite', 'logs/runtime.log', expect.stringMatching(/^media\/audio\/dev-.*-s1\.wav$/)]);
  });

  it('purges every row and file, keeps tombstone and consent, and the scan shows nothing remains', () => {
    const { dir, sessionIds } = deviceWithData();
    const report = withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: Date.parse('2026-12-05T12:00:00Z') });
    expect(report.scan.remaining).toBe(0);
    expect(report.rowsPurged).toMatchObject({ sessions: 3, turns: 3, responses: 3, affect_samples: 3, safeguard_events: 3, participants: 1, schedule_instances: 30, devices: 1 });
    expect(report.rowsPurged).toMatchObject({ memories: 1 });
    expect(report.filesPurged.sort()).toEqual(['logs/runtime.log', 'media/audio/' + `${sessionIds[0]}.wav`, 'media/frame-0001.jpg'].sort());
    expect(readdirSync(dir).sort()).toEqual(['device.json', 'hearth.sqlite', 'protocol.yaml']);
    expect(report.scan.tables.filter((t) => t.rows > 0).map((t) => `${t.table}:${t.kept}`).sort()).toEqual(['consent_records:true', 'tombstones:true']);
    expect(report.scan.files.map((f) => [f.file, f.kept])).toEqual([['device.json', true], ['hearth.sqlite', true]]);

    const db = readFileSync(join(dir, 'hearth.sqlite'));
    expect(db.includes('hospital')).toBe(false);
    for (const s of sessionIds) expect(db.includes(s)).toBe(false);
    expect(existsSync(join(dir, 'hearth.sqlite-wal')) && readFileSync(join(dir, 'hearth.sqlite-wal')).includes('hospital')).toBe(false);

    const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    const tomb = store.withdrawal.tombstoneOf('P01')!;
    expect(tomb).toMatchObject({ participant_id: 'P01', files_purged: 3, withdrawn_ts_utc: '2026-12-05T12:00:00.000Z' });
    // The tombstone carries the common columns: the device's next seq (device_seq is kept), day 5 of the study.
    const lastSeq = store.stats.lastSeq(tomb.device_id as string);
    expect(tomb).toMatchObject({
      ts_utc: '2026-12-05T12:00:00.000Z', tz: 'America/New_York', ts_local: '2026-12-05T07:00:00.000-05:00', study_day: 5,
      seq: lastSeq, clock_source: 'system', updated_ts_utc: '2026-12-05T12:00:00.000Z',
    });
    expect(tomb.seq as number).toBeGreaterThan(Math.max(...store.consent.list('P01').map((r) => r.seq)));
    expect(JSON.parse(tomb.rows_purged_json as string)).toMatchObject({ turns: 3 });
    expect(store.consent.list('P01')).toHaveLength(5);
    expect(store.integrityCheck()).toBe('ok');
    store.close();

    expect(() => readDeviceConfig(dir)).toThrow(/participant P01 withdrew on 2026-12-05T12:00:00.000Z/);
    const again = withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: Date.parse('2026-12-06T12:00:00Z') });
    expect(again).toMatchObject({ alreadyWithdrawn: true, scan: { remaining: 0 } });

    // A file left behind later is caught by the scan.
    writeFileSync(join(dir, 'stray.txt'), `copied ${sessionIds[1]}`);
    expect(scanDevice(dir, 'P01', readFileSync(join(dir, 'device.json'), 'utf8').match(/"deviceId": "([^"]+)"/)![1]!, sessionIds).remaining).toBe(1);
  });

  it('refuses another participant\'s id and deletes nothing', () => {
    const { dir } = deviceWithData('P02');
    expect(() => withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: NOW })).toThrow(/belongs to participant P02, not P01; nothing was deleted/);
    expect(existsSync(join(dir, 'logs', 'runtime.log'))).toBe(true);
  });

  it("keeps each safeguard incident as a required record without the participant's words, undelivered ones still in the outbox", () => {
    const root = mkdtempSync(join(tmpdir(), 'hearth-withdraw-alerts-'));
    const protocolFile = join(root, 'study.yaml');
    writeFileSync(protocolFile, readFileSync(BUNDLED_PROTOCOL, 'utf8').replace('  heartbeat_minutes: 5', '  heartbeat_minutes: 5\n  alert_webhook:\n    url: https://alerts.example.edu/hearth\n    secret_file: alert-secret'));
    const dir = join(root, 'device');
    const config = provisionDevice({
      protocolFile, participantId: 'P01', tz: 'America/New_York', startDate: '2026-12-01', deviceDir: dir, now: NOW,
      registryFile: join(root, 'registry.sqlite'), strata: { household: 'lives_alone' }, consentGranted: ['audio_recording', 'transcripts'],
    });
    writeFileSync(join(dir, 'alert-secret'), 'shared-secret\n');
    const words = ["I've got the pills counted out on the kitchen table", 'my brother hits me when he drinks'];
    const store = SqliteStore.open(join(dir, 'hearth.sqlite'));
    const log = store.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: 'simulated' });
    const records = store.safeguards(log);
    const sessionId = `${config.deviceId}-s1`;
    log.startSession({ sessionId, participantId: 'P01', studyDay: 1, protocolHash: null, condition: config.condition } as never, T);
    const lines: string[] = [];
    words.forEach((text, i) => {
      const turnId = log.recordTurn({ sessionId, speaker: 'participant', text, step: 'checkin', startMs: T + i, endMs: T + i + 1 });
      const report = {
        incidentId: `inc-${config.deviceId}-${i}`, kind: i === 0 ? 'crisis' as const : 'harm' as const, severity: 'serious' as const, participantId: 'P01',
        deviceId: config.deviceId, sessionId, turnId, eventDate: new Date(T + i).toISOString(), staffLearnedDate: null, description: 'The robot gave resources.',
        robotAction: 'I am glad you told me. You can call or text 988.', resolution: null, harm: 'unknown', causality: 'not yet assessed' as const, reportDueBy: null,
        checks: [{ check: i === 0 ? 'crisis' : 'harm', version: '3', score: 0.92, threshold: 0.5, decision: 'flag', evidenceSpan: { start: 0, end: text.length, text, cue: 'x.y' } }],
      };
      records.recordIncident(report, T + i);
      lines.push(JSON.stringify(report));
      log.recordSafeguardEvents([{ atMs: T + i, sessionId, turnId, direction: 'input', checkName: report.checks[0]!.check, checkVersion: '3', score: 0.92, threshold: 0.5, decision: 'flag', evidence: JSON.stringify({ text }) }]);
    });
    records.alertDelivered(`inc-${config.deviceId}-1`, 'acknowledged', T + 60_000);
    store.close();
    writeFileSync(join(dir, 'alerts.jsonl'), `${lines.join('\n')}\n{"incidentId": "torn by a power cut, ${words[0]}`);

    const report = withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: Date.parse('2026-12-05T12:00:00Z') });
    expect(report.scan.remaining).toBe(0);
    expect(report.alertsFile).toEqual({ reports: 2, unreadableLinesDropped: 1 });
    expect(readdirSync(dir).sort()).toEqual(['alert-secret', 'alerts.jsonl', 'device.json', 'hearth.sqlite', 'protocol.yaml']);
    // The proof says which incident records were kept, where, and why.
    expect(report.scan.retained).toEqual([
      { incidentId: `inc-${config.deviceId}-0`, kind: 'crisis', severity: 'serious', deliveryStatus: 'unsent', where: ['hearth.sqlite (safeguard_incidents)', 'alerts.jsonl'],
        reason: expect.stringMatching(/required record for the IRB.*without the participant's words; not yet delivered to study staff, so it stays in the alert outbox/) },
      { incidentId: `inc-${config.deviceId}-1`, kind: 'harm', severity: 'serious', deliveryStatus: 'acknowledged', where: ['hearth.sqlite (safeguard_incidents)', 'alerts.jsonl'],
        reason: expect.stringMatching(/delivered to study staff \(acknowledged\)$/) },
    ]);
    expect(report.scan.tables.filter((t) => t.rows > 0).map((t) => `${t.table}:${t.rows}:${t.kept}`).sort()).toEqual(['consent_records:5:true', 'safeguard_incidents:2:true', 'tombstones:1:true']);
    expect(report.scan.files.map((f) => [f.file, f.kept])).toEqual([['alerts.jsonl', true], ['device.json', true], ['hearth.sqlite', true]]);
    expect(report.scan.files[2]!.found.join('; ')).toMatch(/2 incident records kept without the participant's words \(1 not yet delivered, still in the outbox\)/);

    // No participant words and no session id anywhere in the folder, in any file's bytes.
    const all = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(d, e.name)) : [join(d, e.name)]));
    for (const file of all(dir)) {
      const bytes = readFileSync(file);
      for (const needle of ['pills', 'kitchen table', 'brother hits', 'drinks', sessionId]) expect(bytes.includes(needle), `${file} contains "${needle}"`).toBe(false);
    }

    // The kept records: IRB fields, pseudonymous id, device, check names and scores; the unsent one still goes out.
    const kept = readFileSync(join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(kept[0]).toMatchObject({
      incidentId: `inc-${config.deviceId}-0`, kind: 'crisis', severity: 'serious', participantId: 'P01', deviceId: config.deviceId, sessionId: null, turnId: null,
      eventDate: new Date(T).toISOString(), robotAction: 'I am glad you told me. You can call or text 988.',
      checks: [{ check: 'crisis', version: '3', score: 0.92, threshold: 0.5, decision: 'flag' }], retained: { date: '2026-12-05T12:00:00.000Z' },
    });
    const after = SqliteStore.open(join(dir, 'hearth.sqlite'));
    try {
      const outbox = after.safeguards(after.forDevice({ deviceId: config.deviceId, tz: config.tz, clockSource: 'simulated' }));
      expect(outbox.dueAlerts(null).map((e) => [e.incidentId, e.report.participantId, e.report.sessionId])).toEqual([[`inc-${config.deviceId}-0`, 'P01', null]]);
    } finally {
      after.close();
    }

    const again = withdrawParticipant({ deviceDir: dir, participantId: 'P01', now: Date.parse('2026-12-06T12:00:00Z') });
    expect(again).toMatchObject({ alreadyWithdrawn: true, scan: { remaining: 0 } });
    expect(again.scan.retained.map((r) => r.deliveryStatus)).toEqual(['unsent', 'acknowledged']);
    // A report with words put back into the local copy is caught.
    writeFileSync(join(dir, 'alerts.jsonl'), `${lines[0]}\n`);
    expect(scanDevice(dir, 'P01', config.deviceId, [sessionId]).files.find((f) => f.file === 'alerts.jsonl')).toMatchObject({ kept: false });
  });
});
