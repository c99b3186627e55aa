import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runLive } from '../runtime/live.js';

// A one-day storytelling protocol whose session the demo script answers in full.
const PROTOCOL = join(import.meta.dirname, 'fixtures', 'protocols', 'storytelling.yaml');

const SCRIPT = join(import.meta.dirname, 'fixtures', 'scripts', 'demo.yaml');
const broken = () => Promise.reject(new Error('models/use-lite.onnx: sha256 0000 does not match the manifest; refusing to load it'));

function live(dir: string, extra: Partial<Parameters<typeof runLive>[0]> = {}) {
  const output = new PassThrough();
  let printed = '';
  output.on('data', (c) => (printed += String(c)));
  const run = runLive({
    deviceDir: join(dir, 'device'), participantId: 'P31', tz: 'Europe/London', script: SCRIPT, timeScale: 0.001, hearthVersion: 'test',
    input: new PassThrough(), output, replyTimeoutMs: 5_000, env: {}, protocolFile: PROTOCOL, ...extra,
  });
  return { run, printed: () => printed };
}
const db = (dir: string) => new Database(join(dir, 'device', 'hearth.sqlite'), { readonly: true });

describe('when the learned safeguard layer cannot load', () => {
  it('by default no session starts: it says so at start-up, logs safeguards.degraded, alerts staff, and status can show it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-sg-degraded-'));
    const { run, printed } = live(dir, { loadLearned: broken });
    const result = await run;
    expect(result.sessionId).toBeNull();
    expect(result.reason).toMatch(/learned safeguard layer is unavailable \(models\/use-lite\.onnx: sha256 0000.*no session starts until it is fixed/);
    expect(printed()).toMatch(/\[hearth\] safeguards: the learned layer could not load .*no session will start until it is fixed/);
    const d = db(dir);
    const degraded = d.prepare("SELECT detail_json FROM events WHERE kind = 'safeguards.degraded'").all() as { detail_json: string }[];
    expect(degraded).toHaveLength(1);
    expect(JSON.parse(degraded[0]!.detail_json)).toMatchObject({ stage: 'load', policy: 'block', checking: 'no new sessions' });
    const incidents = d.prepare('SELECT kind, description, delivery_status FROM safeguard_incidents').all() as { kind: string; description: string; delivery_status: string }[];
    expect(incidents).toEqual([{ kind: 'check-failure', description: expect.stringMatching(/could not load on this device: models\/use-lite\.onnx/), delivery_status: 'unsent' }]);
    expect((d.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n).toBe(0);
    d.close();
  }, 60_000);

  it('with safeguards.on_model_failure: rules_only the session runs on the rules, and staff are still alerted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-sg-rules-'));
    const protocol = join(dir, 'rules-only.yaml');
    writeFileSync(protocol, `${readFileSync(PROTOCOL, 'utf8')}\nsafeguards:\n  on_model_failure: rules_only\n`);
    const { run } = live(dir, { loadLearned: broken, protocolFile: protocol });
    const result = await run;
    expect(result.status).toBe('completed');
    const d = db(dir);
    expect((d.prepare("SELECT COUNT(*) AS n FROM safeguard_incidents WHERE kind = 'check-failure'").get() as { n: number }).n).toBe(1);
    // Checks ran, on the rules alone: no model part on any row.
    expect((d.prepare('SELECT COUNT(*) AS n FROM safeguard_events').get() as { n: number }).n).toBeGreaterThan(10);
    expect((d.prepare('SELECT COUNT(*) AS n FROM safeguard_events WHERE fired_parts IS NOT NULL').get() as { n: number }).n).toBe(0);
    d.close();
  }, 60_000);
});

describe('with the shipped model and the real encoder (models/ from setup)', () => {
  it('every scored check of a participant turn records its model part and a version naming both parts; fixed robot lines get the rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-sg-ok-'));
    const result = await live(dir).run;
    expect(result.status).toBe('completed');
    const d = db(dir);
    const rows = d.prepare("SELECT direction, check_version, fired_parts, model_score FROM safeguard_events WHERE check_name IN ('crisis', 'harm', 'attachment')").all() as { direction: string; check_version: string; fired_parts: string | null; model_score: number | null }[];
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      expect(r.check_version).toMatch(/\+model-/);
      expect(r.fired_parts).not.toBeNull();
      expect(r.model_score).toBeGreaterThanOrEqual(0);
    }
    expect(d.prepare("SELECT kind FROM events WHERE kind LIKE 'safeguards.%'").all()).toEqual([{ kind: 'safeguards.ready' }]);
    // The offline responder's lines are Hearth's own fixed text (all tested against the rules in robot-lines.test.ts).
    expect((d.prepare("SELECT COUNT(*) AS n FROM safeguard_events WHERE direction = 'output' AND fired_parts IS NOT NULL").get() as { n: number }).n).toBe(0);
    expect((d.prepare("SELECT COUNT(*) AS n FROM safeguard_events WHERE direction = 'output'").get() as { n: number }).n).toBeGreaterThan(10);
    d.close();
  }, 60_000);
});
