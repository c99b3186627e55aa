// The merge queue's durability: a batch acknowledged to a device stays in the spool until the rows it
// brought are durable in the study database (its log fsynced), so that a power cut between the
// merge's commit (synchronous = NORMAL) and the next checkpoint loses nothing the device was told was received.
import { existsSync, mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildIncrement, collectionsOf, openStudyStore, type SqliteStore } from '../../data/index.js';
import { ServerRecords } from '../../data/server/index.js';
import { FixtureDevice } from '../../data/uplink/device.fixture.js';
import { MergeQueue } from './merge-queue.js';

let dir = '';
const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A gate for the log sync: closed until `open()`; counts the syncs asked for. */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((ok) => (release = ok));
  const g = { asked: 0, open: () => release(), sync: async () => { g.asked++; await opened; } };
  return g;
}

describe('MergeQueue', () => {
  it('keeps a merged batch spooled until the study database\'s log is synced; a restart before that merges it again, adding nothing twice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-merge-queue-'));
    const device = new FixtureDevice(join(dir, 'device.sqlite'), 'dev-a');
    open.push(device.store);
    device.session();
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir });
    const study: SqliteStore = openStudyStore(join(dir, 'study.sqlite'));
    open.push(study);
    const records = ServerRecords.open(study);
    const spoolDir = join(dir, 'spool');
    const held = gate();
    const options = { study, records, spoolDir, now: () => Date.parse('2026-03-02T10:00:00Z'), hearthVersion: 'test', log: () => undefined };
    const queue = new MergeQueue({ ...options, syncLog: held.sync });
    const received = join(dir, 'batch.sqlite.gz');
    copyFileSync(inc.file, received);
    await queue.accept('dev-a', 0, inc.seqTo, received);
    const pending = join(spoolDir, 'pending');

    // Merged (the study holds the rows) but not yet durable: the spooled batch stays, and drained() waits.
    for (let i = 0; i < 200 && records.lastSeq('dev-a') < inc.seqTo; i++) await new Promise((ok) => setTimeout(ok, 10));
    expect(records.lastSeq('dev-a')).toBe(inc.seqTo);
    expect(held.asked).toBe(1);
    expect(readdirSync(pending)).toHaveLength(1);
    let drained = false;
    void queue.drained().then(() => (drained = true));
    await new Promise((ok) => setTimeout(ok, 50));
    expect(drained).toBe(false);

    // What a start after a power cut at this point does: the batch is still pending and is merged
    // again, harmlessly (every row already held: nothing added).
    const restarted = new MergeQueue({ ...options, spoolDir, syncLog: async () => undefined });
    const added = () => collectionsOf(study).map((c) => Object.values(c.added).reduce((a, b) => a + b, 0));
    for (let i = 0; i < 200 && collectionsOf(study).length < 2; i++) await new Promise((ok) => setTimeout(ok, 10));
    const [first, second] = added();
    expect(first).toBeGreaterThan(0);
    expect(second).toBe(0);
    await restarted.drained();
    expect(existsSync(pending) && readdirSync(pending)).toEqual([]);

    // Once the sync completes, the first queue is drained too (its file already gone).
    held.open();
    await queue.drained();
    expect(drained).toBe(true);
    await queue.stop();
    await restarted.stop();
  });
});
