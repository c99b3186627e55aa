// The service heartbeat on real files in a temp folder; only the clocks and the timer are supplied,
// so an age of minutes is a number, not a wait.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHeartbeat, heartbeatPath, ServiceHeartbeat, systemHeartbeatEffects, withServiceHeartbeat, type HeartbeatEffects } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-heartbeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real file writes; a monotonic clock and boot id the test sets; a timer the test fires. */
function fakeMachine() {
  const m = { mono: 1_000_000, boot: 'boot-a', tick: null as null | (() => void), cleared: false };
  const real = systemHeartbeatEffects();
  const fx: HeartbeatEffects = {
    ...real,
    monotonicMs: () => m.mono,
    bootId: () => m.boot,
    nowUtc: () => '2026-12-02T05:00:00.000Z',
    pid: 4242,
    setInterval: (fn) => { m.tick = fn; return 1; },
    clearInterval: () => { m.cleared = true; },
  };
  return { m, fx };
}

describe('hearth run writes the heartbeat; service-check reads its age', () => {
  it('a fresh heartbeat passes and the same file fails once it is older than the limit', () => {
    const folder = mkdtempSync(join(dir, 'dev-'));
    const { m, fx } = fakeMachine();
    const beat = new ServiceHeartbeat(heartbeatPath(folder), fx);
    beat.start();
    expect(JSON.parse(readFileSync(heartbeatPath(folder), 'utf8'))).toMatchObject({ pid: 4242, bootId: 'boot-a', monotonicMs: 1_000_000 });

    m.mono += 30_000;
    expect(checkHeartbeat(heartbeatPath(folder), 120, fx)).toMatchObject({ ok: true, ageSec: 30 });
    m.mono += 100_000;
    const stale = checkHeartbeat(heartbeatPath(folder), 120, fx);
    expect(stale.ok).toBe(false);
    expect(stale.ageSec).toBe(130);
    expect(stale.line).toMatch(/130 s old \(limit 120 s; pid 4242.*hung or stopped/);

    // The next beat makes it fresh again; after stop nothing beats any more.
    m.tick!();
    expect(checkHeartbeat(heartbeatPath(folder), 120, fx).ok).toBe(true);
    beat.stop();
    expect(m.cleared).toBe(true);
  });

  it('a missing heartbeat fails with one line naming the file', () => {
    const { fx } = fakeMachine();
    const path = join(dir, 'never-ran', 'service-heartbeat.json');
    const r = checkHeartbeat(path, 120, fx);
    expect(r.ok).toBe(false);
    expect(r.line).toContain(path);
    expect(r.line).toMatch(/^no heartbeat at .*not running/);
    expect(r.line.split('\n')).toHaveLength(1);
  });

  it('a heartbeat written before a reboot is stale even when the new boot’s clock reads less', () => {
    const folder = mkdtempSync(join(dir, 'dev-'));
    const { m, fx } = fakeMachine();
    new ServiceHeartbeat(heartbeatPath(folder), fx).beat();
    m.boot = 'boot-b';
    m.mono = 5_000;
    const r = checkHeartbeat(heartbeatPath(folder), 120, fx);
    expect(r.ok).toBe(false);
    expect(r.line).toMatch(/before this machine last booted/);
  });

  it('a file that is not a heartbeat fails and says so', () => {
    const folder = mkdtempSync(join(dir, 'dev-'));
    writeFileSync(heartbeatPath(folder), 'garbage');
    const r = checkHeartbeat(heartbeatPath(folder), 120, fakeMachine().fx);
    expect(r).toMatchObject({ ok: false, ageSec: null });
    expect(r.line).toMatch(/not a Hearth heartbeat/);
  });

  it('a write that fails is reported once, never thrown, and its recovery is reported', () => {
    const folder = mkdtempSync(join(dir, 'dev-'));
    const { fx } = fakeMachine();
    let broken = true;
    const messages: string[] = [];
    const beat = new ServiceHeartbeat(heartbeatPath(folder), { ...fx, writeAtomic: (p, t) => { if (broken) throw new Error('ENOSPC: no space left on device'); fx.writeAtomic(p, t); } },
      { onError: (msg) => messages.push(msg) });
    beat.beat();
    beat.beat();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/cannot write .*service-heartbeat\.json: ENOSPC/);
    broken = false;
    beat.beat();
    expect(messages[1]).toMatch(/works again/);
    expect(existsSync(heartbeatPath(folder))).toBe(true);
  });

  it('on the real machine: the heartbeat written around a running body is fresh to a separate check', async () => {
    const folder = mkdtempSync(join(dir, 'dev-'));
    const seen = await withServiceHeartbeat(folder, async () => checkHeartbeat(heartbeatPath(folder), 120));
    expect(seen.ok).toBe(true);
    expect(seen.line).toContain(`pid ${process.pid}`);
  });
});
