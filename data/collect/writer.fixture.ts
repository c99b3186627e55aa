/**
 * A device that keeps writing, for the snapshot test: `node --import tsx writer.fixture.ts FILE DEVICE_ID`
 * registers the device, prints "ready", then appends batches of 50 affect samples, each batch one
 * transaction through the store's own API, until it has written 4000 batches or is killed.
 */
import { SqliteStore } from '../sqlite-store.js';

const [file, deviceId] = process.argv.slice(2) as [string, string];
const store = SqliteStore.open(file, { durability: 'crash' });
const log = store.forDevice({ deviceId, tz: 'America/New_York', clockSource: 'simulated' });
let at = Date.UTC(2026, 11, 1, 14, 0);
log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, at);
process.stdout.write('ready\n');
for (let batch = 0; batch < 4000; batch++) {
  log.recordAffectSamples(Array.from({ length: 50 }, (_, i) => ({
    atMs: at + i * 20, sessionId: null, valence: Math.sin(batch + i), arousal: 0.5, label: 'neutral', confidence: 0.8, sources: { face: 1 },
  })));
  at += 1000;
}
store.close();
