// hearth doctor on real device folders made by hearth provision, real SQLite files and real local HTTP
// servers (the uplink's fixture study server; a plain webhook receiver; a port nobody listens on).
// The microphone and speaker are the one fake: this machine has no sound card (runtime/doctor/audio.test.ts
// runs them for real through a PulseAudio null sink).
import { copyFileSync, cpSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localDate } from '../../../data/index.js';
import { BUNDLED_PROTOCOL } from '../../../study-protocol/index.js';
import { runCommandResult } from '../../../test/support/run-command.js';
import type { AudioParts, CheckResult, DoctorReport } from '../../doctor/index.js';
import { FixtureServer } from '../../uplink/uplink-server.fixture.js';
import { register as provision } from './provision.js';
import { register } from './doctor.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-doctor-cli-'));
let study: FixtureServer;
let receiver: Server;
let receiverUrl: string;
const heads: string[] = [];
/** A port that refuses connections: bound, then released. */
let refusedUrl: string;

beforeAll(async () => {
  study = new FixtureServer(dir);
  await study.listen();
  study.codes.add('code-1');
  receiver = createServer((req, res) => { heads.push(`${req.method} ${req.url}`); res.writeHead(204).end(); });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hearth/alerts`;
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  refusedUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/alerts`;
  await new Promise<void>((r) => gone.close(() => r()));
});
afterAll(async () => {
  await study.close().catch(() => {});
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});
const exitBefore = process.exitCode;
afterEach(() => { process.exitCode = exitBefore; });

/**
 * The only fakes (no sound card here): a microphone that hears a −20 dBFS 1 kHz tone, and while the
 * speaker check listens (three seconds) hears faint noise around the 0.8 s tone, as a room would.
 */
const audio: AudioParts = {
  microphoneName: 'fake microphone', playerName: 'fake speaker', play: async () => {},
  record: async (ms) => Int16Array.from({ length: (ms * 16) | 0 }, (_, i) =>
    (ms >= 2000 && (i < 9600 || i >= 22_400) ? (i * 7919) % 61 - 30 : Math.round(3277 * Math.sqrt(2) * Math.sin((2 * Math.PI * 1000 * i) / 16_000)))),
};

async function provisionDevice(name: string, ...extra: string[]): Promise<string> {
  const deviceDir = join(dir, name);
  const { error } = await runCommandResult(provision, 'provision', '--protocol', BUNDLED_PROTOCOL, '--participant', name.toUpperCase(), '--tz', 'America/New_York',
    '--start', localDate(Date.now(), 'America/New_York'), '--device-dir', deviceDir, '--registry', join(dir, 'registry.sqlite'),
    '--stratum', 'household=lives_alone', '--consent', 'audio_recording,transcripts', ...extra);
  if (error) throw error;
  return deviceDir;
}

async function doctor(env: Record<string, string>, ...args: string[]): Promise<{ out: string; report: DoctorReport | null; exitCode: number | undefined }> {
  process.exitCode = undefined;
  const reg = (p: Command) => register(p, { audio, network: { env, timeoutMs: 2000 } });
  const { out, error } = await runCommandResult(reg, 'doctor', ...args);
  if (error) throw error;
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = undefined;
  const text = out.join('\n');
  return { out: text, report: args.includes('--json') ? JSON.parse(text) as DoctorReport : null, exitCode };
}
const check = (r: DoctorReport | null, name: string): CheckResult => r!.checks.find((c) => c.name === name)!;

describe('hearth doctor (microphone and speaker faked: no sound card here)', () => {
  it('checks an enrolled device: database, protocol, consent, the study server and the rows waiting for it', async () => {
    const d1 = await provisionDevice('p01', '--server', study.url, '--code', 'code-1');
    const { report, exitCode } = await doctor({}, '--device-dir', d1, '--json');
    expect(report!.deviceDir).toBe(d1);
    expect(report!.checks.map((c) => c.name)).toEqual(['microphone', 'speaker', 'camera', 'model files', 'sentence encoder', 'disk', 'clock', 'time zone',
      'database', 'protocol', 'consent', 'alert webhook', 'study server', 'uplink backlog']);
    expect(check(report, 'microphone').detail).toMatch(/level -20\.0 dBFS RMS/);
    expect(check(report, 'speaker')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/the microphone heard it/) });
    expect(check(report, 'camera').status).toBe('skip');
    expect(check(report, 'database')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/hearth\.sqlite: integrity ok, schema version \d+$/) });
    expect(check(report, 'protocol')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^empathic-stories-home v\S+ \(sha256:.*participant P01/) });
    expect(check(report, 'consent')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/consent version 1: audio_recording granted, video_recording declined, transcripts granted, llm_processing declined/) });
    expect(check(report, 'disk')).toMatchObject({ detail: expect.stringMatching(/free in .*p01; the database grows about .*\/day .* days of logging left; 30 study days to go/) });
    expect(check(report, 'time zone').detail).toMatch(/America\/New_York \(device\.json\)/);
    expect(check(report, 'alert webhook')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/\/api\/v1\/devices\/.*\/alerts \(from the study server's alerts route \(uplink\.json\)\) answered HTTP \d+ to HEAD/) });
    expect(check(report, 'study server')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/? answered in \d+ ms as device \S+; it holds rows up to seq 0$/) });
    const backlog = check(report, 'uplink backlog');
    expect(backlog.status).toBe('ok');
    const rows = Number(/^(\d+) rows waiting \(cursor 0 of last seq (\d+)\)$/.exec(backlog.detail)?.[1]);
    expect(rows).toBeGreaterThan(30);
    expect(exitCode === undefined || exitCode === 0).toBe(true);
    expect(study.alerts.size).toBe(0);

    // The study server goes away: the server fails, the backlog waits (as last recorded), alerts cannot be reached; exit 1.
    await study.close();
    const down = await doctor({}, '--device-dir', d1);
    expect(down.exitCode).toBe(1);
    const lines = down.out.split('\n');
    expect(lines[0]).toBe(`hearth doctor: ${d1}`);
    const serverLine = lines.findIndex((l) => l.startsWith('✗ study server'));
    expect(lines[serverLine]).toMatch(/cannot reach the study server: .*127\.0\.0\.1/);
    expect(lines[serverLine + 1]).toMatch(/^ +fix: check the device is online/);
    expect(lines.find((l) => l.startsWith('! uplink backlog'))).toMatch(/\d+ rows waiting \(cursor 0 of last seq \d+, as last recorded\); they go out once the server answers/);
    expect(lines.find((l) => l.startsWith('✗ alert webhook'))).toMatch(/cannot be reached: ECONNREFUSED; alerts wait in the outbox/);
    expect(lines.at(-1)).toMatch(/^\d+ ok, \d+ warnings?, 2 failed, 1 skipped$/);
  });

  it('reaches a plain webhook with HEAD (no alert sent), and fails one that refuses connections', async () => {
    const d2 = await provisionDevice('p02');
    const up = await doctor({ HEARTH_ALERT_WEBHOOK: receiverUrl }, '--device-dir', d2, '--json');
    expect(check(up.report, 'alert webhook')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/hearth\/alerts \(from HEARTH_ALERT_WEBHOOK\) answered HTTP 204 to HEAD in \d+ ms \(no alert sent\)$/) });
    expect(heads).toEqual(['HEAD /hearth/alerts']);
    expect(check(up.report, 'study server')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/not enrolled/) });
    const refused = await doctor({ HEARTH_ALERT_WEBHOOK: refusedUrl }, '--device-dir', d2, '--json');
    expect(check(refused.report, 'alert webhook')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/cannot be reached: ECONNREFUSED/), fix: expect.stringMatching(/online/) });
    expect(refused.exitCode).toBe(1);
    const none = await doctor({}, '--device-dir', d2, '--json');
    expect(check(none.report, 'alert webhook')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^none configured/) });
  });

  it('fails a truncated database and skips what needs it', async () => {
    const d2 = join(dir, 'p02');
    const d3 = join(dir, 'p02-truncated');
    cpSync(d2, d3, { recursive: true });
    const db = join(d3, 'hearth.sqlite');
    copyFileSync(join(d2, 'hearth.sqlite'), db);
    rmSync(`${db}-wal`, { force: true });
    rmSync(`${db}-shm`, { force: true });
    truncateSync(db, Math.floor(statSync(db).size / 2));
    const { report, exitCode } = await doctor({}, '--device-dir', d3, '--json');
    expect(exitCode).toBe(1);
    const database = check(report, 'database');
    expect(database.status).toBe('fail');
    expect(database.detail).toContain(db);
    expect(database.fix).toMatch(/copy hearth\.sqlite off the device/);
    expect(report!.passed).toBe(false);
  });

  it('without --device-dir checks the machine and skips the device checks, saying why', async () => {
    const { report } = await doctor({}, '--json');
    expect(report!.deviceDir).toBeNull();
    for (const name of ['database', 'protocol', 'consent']) expect(check(report, name)).toMatchObject({ status: 'skip', detail: expect.stringMatching(/^no --device-dir/) });
    expect(check(report, 'study server').status).toBe('skip');
    expect(check(report, 'model files').status).toBe('ok');
  });
});
