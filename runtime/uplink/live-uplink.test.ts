import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../data/index.js';
import { runLive } from '../live.js';
import { readUplinkState, writeUplinkConfig } from './config.js';
import { FixtureServer } from './uplink-server.fixture.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures');
const PROTOCOL = join(FIXTURES, 'protocols', 'storytelling.yaml');
const SCRIPT = join(FIXTURES, 'scripts', 'demo.yaml');
// The learned layer fails to load, so the device raises a check-failure incident at start-up: an alert to deliver.
const broken = () => Promise.reject(new Error('models/use-lite.onnx: missing'));

describe('hearth talk on an enrolled device', () => {
  it('starts the uplink (heartbeat, data from the cursor) and sends alerts to the server\'s alerts route under the device token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-live-uplink-'));
    const server = new FixtureServer(dir);
    await server.listen();
    try {
      const protocol = join(dir, 'rules-only.yaml');
      writeFileSync(protocol, `${readFileSync(PROTOCOL, 'utf8')}\nsafeguards:\n  on_model_failure: rules_only\n`);
      const deviceDir = join(dir, 'device');
      const talk = () => runLive({
        deviceDir, participantId: 'P41', tz: 'Europe/London', script: SCRIPT, timeScale: 0.001, hearthVersion: 'test', input: new PassThrough(),
        output: new PassThrough(), replyTimeoutMs: 5_000, env: {}, protocolFile: protocol, loadLearned: broken,
      });
      // First run: not enrolled (sets up the demo participant); the incident waits in the outbox.
      await talk();
      const deviceId = (JSON.parse(readFileSync(join(deviceDir, 'device.json'), 'utf8')) as { deviceId: string }).deviceId;
      writeUplinkConfig(deviceDir, { server: server.url, deviceId, token: server.issueToken(deviceId), enrolledTsUtc: new Date().toISOString() });

      const result = await talk();
      expect(result.status).toBe('completed');
      expect(server.count('/heartbeat')).toBeGreaterThanOrEqual(1);
      expect(server.batches.length).toBeGreaterThanOrEqual(1);
      expect([...server.alerts.values()].map((a) => (a as { deviceId: string; incident: { kind: string } }))).toEqual(
        expect.arrayContaining([expect.objectContaining({ deviceId, incident: expect.objectContaining({ kind: 'check-failure' }) })]),
      );
      expect(server.requests.filter((r) => r.path.includes('/devices/')).every((r) => r.auth?.startsWith('Bearer hth_'))).toBe(true);
      const state = readUplinkState(deviceDir);
      expect(state?.cursor).toBeGreaterThan(0);
      const store = SqliteStore.open(join(deviceDir, 'hearth.sqlite'), { create: false });
      const log = store.forDevice({ deviceId, tz: 'Europe/London', clockSource: 'system' });
      expect(log.events({ kind: 'device.heartbeat' }).length).toBeGreaterThanOrEqual(1);
      expect(log.events({ kind: 'alerts.webhook' }).at(-1)?.detail).toMatchObject({ url: `${server.url}/api/v1/devices/${deviceId}/alerts`, deviceToken: true });
      const delivered = store.stats.incidentOutbox().filter((l) => l.deliveryStatus === 'sent');
      expect(delivered.length).toBeGreaterThanOrEqual(1);
      store.close();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
