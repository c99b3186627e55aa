// The fault soak (issue 13 item 5) in a bounded form for `npm test`: four simulated days through the
// runtime of `hearth run` with the language model down, slow and answering garbage, the disk full (a
// real tmpfs where one can be mounted), the clock jumping back and forward at restarts, the database
// locked by another process, a crisis disclosure, and four `kill -9`s (about 100 s). The month-long
// run is `npm run soak`.
import { describe, expect, it } from 'vitest';
import { runSoak } from './soak/run-soak.js';

describe('fault soak, bounded: 4 simulated days, every fault, 4 kills', () => {
  it('keeps every committed row, leaves no session started, ends every instance with a reason, loses no alert, and keeps the database intact', { timeout: 240_000 }, async () => {
    const lines: Record<string, unknown>[] = [];
    const f = await runSoak({
      days: 4, kills: 4, boundMs: 200_000, pace: 6_000, sessionPace: 150, seed: 7,
      faults: { llmDown: 1, llmSlow: 2, llmGarbage: 3, camera: 2, disk: 2, clockBack: 3, clockForward: 4, dbLocked: 3, crisis: [1] },
      print: (l) => lines.push(l),
    });
    const faults = lines.filter((l) => l.soak === 'fault').map((l) => l.fault);
    expect(f.boundReached, JSON.stringify(lines.slice(-5))).toBe(false);
    // The clock faults happen at a restart on their day, so whether they land depends on where the kills fall.
    expect(faults).toEqual(expect.arrayContaining(['camera lost', 'camera back', 'database locked by another process']));
    expect(f.kills).toMatchObject({ requested: 4, done: 4, survived: 4 });
    expect(f.rows.checked).toBeGreaterThan(500);
    expect([f.rows.lost, f.rows.changed]).toEqual([0, 0]);
    expect(f.danglingSessions).toBe(0);
    expect(f.instances).toMatchObject({ total: 4, terminal: 4, withReason: 4 });
    expect(f.integrity).toBe('ok');
    expect(f.alerts.incidents).toBeGreaterThanOrEqual(1);
    expect(f.alerts.lost).toBe(0);
    // The model is asked for real (whether a faulty day's session asks it depends on where the kills fall).
    expect(f.llm.requests).toBeGreaterThan(0);
    if (!f.disk.method.startsWith('not injected')) expect(faults).toEqual(expect.arrayContaining(['disk full', 'disk freed']));
  });
});
