/**
 * `hearth report` end to end: a study month written through the store ports, the report written by the
 * command, then opened in headless Debian chromium (playwright-core) with every request that is not
 * file: or data: blocked. Each chart's marks are counted against what the fixture wrote, and the
 * primary comparison's interval is recomputed here, independently of runtime/report/stats.ts.
 * Screenshots: $TMPDIR/hearth-report-test/report.png and empty.png.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectDevices, openForAnalysis, SqliteStore, type DeviceIdentity } from '../../../data/index.js';
import { BUNDLED_PROTOCOL, loadProtocol } from '../../../study-protocol/index.js';
import { simulate } from '../../simulate.js';
import { ADHERENCE_COLOURS } from '../../report/model.js';
import { isUserError } from '../errors.js';
import { runCommand } from '../../../test/support/run-command.js';
import { register } from './report.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(tmpdir(), 'hearth-report-test');
const MIN = 60_000;
const DAY = 86_400_000;

/** What the fixture wrote, kept here so the test checks the page against it, not against the report's own numbers. */
interface Truth {
  cells: Map<string, 'completed' | 'interrupted' | 'missed' | 'expired' | 'open'>;
  sessions: number;
  affectDays: number;
  moodAnswers: number;
  /** Story-empathy session scores per participant (reverse key applied here). */
  scores: Map<string, { condition: string; values: number[] }>;
  safeguardGroups: Set<string>;
  incidents: number;
  rowsPerDay: Map<string, number>;
}

/** A deterministic pseudo-random sequence. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Six participants (three per condition) over ten days, with every adherence status, answers, affect, safeguard checks and two incidents. */
function studyFixture(file: string): Truth {
  const loaded = loadProtocol(BUNDLED_PROTOCOL);
  const store = SqliteStore.open(file);
  const rand = lcg(11);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const truth: Truth = { cells: new Map(), sessions: 0, affectDays: 0, moodAnswers: 0, scores: new Map(), safeguardGroups: new Set(), incidents: 0, rowsPerDay: new Map() };
  const count = (table: string, day: number, n = 1) => truth.rowsPerDay.set(`${table}|${day}`, (truth.rowsPerDay.get(`${table}|${day}`) ?? 0) + n);
  const start = Date.UTC(2026, 2, 1);
  for (let p = 1; p <= 6; p++) {
    const participantId = `P0${p}`;
    const condition = p % 2 ? 'matched' : 'random';
    // The matched condition is made to rate stories higher, so the interval has something to find.
    const lift = condition === 'matched' ? 1 : 0;
    const identity: DeviceIdentity = { deviceId: `dev-${p}`, tz: 'UTC', clockSource: 'simulated' };
    const log = store.forDevice(identity);
    log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, start - DAY);
    log.enrollParticipant({ participantId, startDate: '2026-03-01', condition, protocolId: loaded.protocol.study.id, protocolVersion: loaded.protocol.study.version, protocolHash: loaded.hash }, start - DAY);
    const days = 10;
    store.study.saveScheduleInstances(identity, Array.from({ length: days }, (_, i) => {
      const w = start + i * DAY + 17 * 3_600_000;
      return {
        participantId, instanceId: `d${i + 1}`, slot: 'evening', studyDay: i + 1, localDate: new Date(start + i * DAY).toISOString().slice(0, 10), templateId: 'daily_story',
        windowStartUtc: new Date(w).toISOString(), windowEndUtc: new Date(w + 4 * 3_600_000).toISOString(),
        windowStartLocal: new Date(w).toISOString(), windowEndLocal: new Date(w + 4 * 3_600_000).toISOString(), protocolHash: loaded.hash,
      };
    }), start - DAY);
    count('schedule_instances', 1, 0);
    for (let day = 1; day <= days; day++) {
      count('schedule_instances', day);
      const at = start + (day - 1) * DAY + 17 * 3_600_000 + p * MIN;
      const roll = rand();
      const status = p === 6 && day === days ? 'open'
        : day === 2 && p <= 2 ? 'interrupted' : day === 4 && p === 3 ? 'missed' : roll < 0.12 ? 'expired' : 'completed';
      truth.cells.set(`${participantId}|${day}`, status);
      if (status === 'open') continue;
      if (status === 'missed') {
        store.study.updateScheduleInstance(participantId, `d${day}`, { status: 'missed', statusReason: 'not invited before the window ended' }, at + 4 * 3_600_000);
        continue;
      }
      if (status === 'expired') {
        store.study.updateScheduleInstance(participantId, `d${day}`, { status: 'expired', statusReason: 'invited 3 times', invitations: 3 }, at + 4 * 3_600_000);
        continue;
      }
      const sessionId = `${participantId}-d${day}`;
      log.startSession({ sessionId, participantId, studyDay: day, protocolHash: loaded.hash, condition }, at);
      count('sessions', day);
      truth.sessions += 1;
      const minutes = status === 'interrupted' ? int(1, 3) : int(5, 12);
      for (const [item, value] of [['mood_valence', int(1, 9)], ['mood_arousal', int(1, 9)]] as const) {
        const skipped = rand() < 0.1;
        log.recordResponse({ sessionId, instrument: 'mood', item, value: skipped ? null : value, rawText: null, status: skipped ? 'skipped' : 'answered', scoringVersion: 'mood-1' }, at + MIN);
        count('responses', day);
        if (!skipped) truth.moodAnswers += 1;
      }
      const samples = Array.from({ length: 5 }, (_, i) => ({
        atMs: at + i * 10_000, sessionId, valence: rand() * 2 - 1, arousal: rand() * 2 - 1, label: null, confidence: 0.8, sources: { face: true },
      }));
      log.recordAffectSamples(samples);
      count('affect_samples', day, samples.length);
      truth.affectDays += 1;
      const checks = ['crisis', 'harm', 'manipulation'].map((checkName) => ({
        atMs: at + 2 * MIN, sessionId, turnId: null, direction: 'input' as const, checkName, checkVersion: '1', score: 0.1, threshold: 0.5,
        decision: checkName === 'manipulation' && rand() < 0.25 ? 'flag' : 'pass', evidence: null,
      }));
      log.recordSafeguardEvents(checks);
      count('safeguard_events', day, checks.length);
      for (const c of checks) truth.safeguardGroups.add(`${day}|${c.decision}`);
      if (status === 'completed') {
        const items = ['se_similar_emotions', 'se_relate', 'se_feel_for', 'se_distant'];
        const answers = items.map((item) => (rand() < 0.1 ? null : Math.min(5, Math.max(1, int(1, 4) + lift))));
        // A session with two items skipped has no score (min_answered: 3).
        if (day === 5) answers[0] = answers[1] = null;
        items.forEach((item, i) => {
          const v = answers[i] ?? null;
          log.recordResponse({ sessionId, instrument: 'story_empathy', item, value: v, rawText: null, status: v === null ? 'skipped' : 'answered', scoringVersion: 'story-empathy-1' }, at + 3 * MIN);
          count('responses', day);
        });
        const scored = answers.map((v, i) => (v === null ? null : items[i] === 'se_distant' ? 6 - v : v)).filter((v): v is number => v !== null);
        if (scored.length >= 3) {
          const s = truth.scores.get(participantId) ?? { condition, values: [] };
          s.values.push(scored.reduce((a, b) => a + b, 0) / scored.length);
          truth.scores.set(participantId, s);
        }
        store.study.updateScheduleInstance(participantId, `d${day}`, { status: 'completed', statusReason: null, sessionId }, at + minutes * MIN);
      } else {
        store.study.updateScheduleInstance(participantId, `d${day}`, { status: 'expired', statusReason: 'session interrupted', sessionId }, at + 4 * 3_600_000);
      }
      if ((p === 2 && day === 3) || (p === 5 && day === 7)) {
        store.safeguards(log).recordIncident({
          incidentId: `inc-${p}-${day}`, kind: p === 2 ? 'crisis' : 'medical', severity: p === 2 ? 'serious' : 'moderate', participantId, sessionId, turnId: null,
          description: 'the participant said something private', robotAction: 'gave a resource', checks: [], harm: 'unknown', causality: 'not yet assessed', reportDueBy: null,
        }, at + 2 * MIN);
        count('safeguard_incidents', day);
        truth.incidents += 1;
      }
      log.finishSession(sessionId, status, status === 'interrupted' ? 'participant left' : null, at + minutes * MIN);
    }
  }
  store.close();
  return truth;
}

/** The 97.5% quantile of Student's t by Simpson integration of its density (not the report's incomplete-beta code). */
function tCritical(df: number): number {
  const logGamma = (x: number): number => {
    // Stirling series with a shift: accurate to ~1e-12 for x ≥ 0.5 after shifting by 8.
    let shift = 0;
    while (x < 8) { shift += Math.log(x); x += 1; }
    return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5) - shift;
  };
  const c = Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) / Math.sqrt(df * Math.PI);
  const pdf = (t: number) => c * (1 + (t * t) / df) ** (-(df + 1) / 2);
  const area = (x: number) => {
    const n = 2000;
    const h = x / n;
    let s = pdf(0) + pdf(x);
    for (let i = 1; i < n; i++) s += pdf(i * h) * (i % 2 ? 4 : 2);
    return (s * h) / 3;
  };
  let lo = 0;
  let hi = 50;
  while (hi - lo > 1e-9) {
    const mid = (lo + hi) / 2;
    if (0.5 + area(mid) < 0.975) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** matched − random with Welch's 95% interval, from the fixture's own scores. */
function expectedDifference(truth: Truth): { diff: number; low: number; high: number } {
  const means = (cond: string) => [...truth.scores.values()].filter((s) => s.condition === cond).map((s) => s.values.reduce((a, b) => a + b, 0) / s.values.length);
  const stats = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return { m, v: xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1), n: xs.length };
  };
  const a = stats(means('matched'));
  const b = stats(means('random'));
  const se2 = a.v / a.n + b.v / b.n;
  const df = se2 ** 2 / ((a.v / a.n) ** 2 / (a.n - 1) + (b.v / b.n) ** 2 / (b.n - 1));
  const half = tCritical(df) * Math.sqrt(se2);
  return { diff: a.m - b.m, low: a.m - b.m - half, high: a.m - b.m + half };
}

const report = (...args: string[]) => runCommand(register, 'report', ...args);

/** Run the command expecting a user error; return its message. */
async function reportError(...args: string[]): Promise<string> {
  try {
    await report(...args);
  } catch (e) {
    expect(isUserError(e), `expected a user error (exit 2), got ${String(e)}`).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected hearth report to fail');
}

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Debian chromium is missing (${CHROMIUM}): the report's browser test needs it; run \`bash scripts/setup.sh\` (it installs the chromium package)`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  dir = mkdtempSync(join(tmpdir(), 'hearth-report-'));
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const d of outDirs) rmSync(d, { recursive: true, force: true });
});

/** Output folders of the bad-input cases, removed at the end. */
const outDirs: string[] = [];
const outDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hearth-report-out-'));
  outDirs.push(d);
  return d;
};

/** Open a report with every request that is not file: or data: blocked; returns the page and what was attempted. */
async function openReport(file: string): Promise<{ page: Page; blocked: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return { page, blocked, errors };
}

describe('hearth report', () => {
  it('draws every chart from the data: adherence cells, sessions, affect, mood, the primary comparison with its 95% CI, safeguards, completeness', async () => {
    const db = join(dir, 'study.sqlite');
    const truth = studyFixture(db);
    const out = join(dir, 'report.html');
    const printed = await report('--db', db, '--out', out);
    expect(printed.at(-1)).toMatch(/^wrote .*report\.html \(\d+ KB\): 6 participant\(s\), 60 participant-day\(s\); charts: adherence, durations, affect, mood, empathy, safeguards, incidents, completeness \(0 with no data\)$/);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/something private/); // incident descriptions may hold the participant's words
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i);

    const { page, blocked, errors } = await openReport(out);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    const drawn = await page.$$eval('section.chart', (ss) => ss.map((s) => [s.id, s.getAttribute('data-drawn'), s.querySelectorAll('h2').length, s.querySelectorAll('p.note').length]));
    expect(drawn).toEqual(['adherence', 'durations', 'affect', 'mood', 'empathy', 'safeguards', 'incidents', 'completeness'].map((id) => [`chart-${id}`, 'true', 1, 1]));
    // Every chart has axis labels.
    const axisLabels = await page.$$eval('.plot', (plots) => plots.map((d) => [d.id, d.querySelectorAll('g[aria-label="x-axis label"]').length > 0, d.querySelectorAll('g[aria-label="y-axis label"]').length > 0]));
    expect(axisLabels).toHaveLength(8);
    for (const [id, x, y] of axisLabels) expect([id, x, y]).toEqual([id, true, true]);

    // Adherence: one cell per participant-day, classes and colours by status.
    const cells = await page.$$eval('#plot-adherence g[aria-label="cell"] > rect', (rs) => rs.map((r) => [r.getAttribute('class'), r.getAttribute('fill')]));
    expect(cells).toHaveLength(truth.cells.size);
    const want: Record<string, number> = {};
    for (const s of truth.cells.values()) want[s] = (want[s] ?? 0) + 1;
    expect(Object.keys(want).sort()).toEqual(['completed', 'expired', 'interrupted', 'missed', 'open']);
    for (const [status, n] of Object.entries(want)) {
      expect(cells.filter(([c]) => c === `status-${status}`), status).toHaveLength(n);
      expect(cells.filter(([, fill]) => fill === ADHERENCE_COLOURS[status as keyof typeof ADHERENCE_COLOURS]), `${status} colour`).toHaveLength(n);
    }
    const p2day2 = await page.$$eval('#plot-adherence g[aria-label="cell"] > rect', (rs) => rs.map((r) => r.querySelector('title')?.textContent).find((t) => t?.startsWith('P02, day 2:')));
    expect(p2day2).toBe('P02, day 2: interrupted');

    // Marks are the drawn elements of a mark's group (inside facet groups when faceted), not their <title>s.
    const marks = (sel: string) => page.$$eval(`${sel} :not(g):not(title)`, (xs) => xs.length);
    expect(await marks('#plot-durations g[aria-label="dot"]')).toBe(truth.sessions);
    expect(await marks('#plot-affect g[aria-label="dot"]')).toBe(truth.affectDays * 2);
    expect(await marks('#plot-mood g[aria-label="dot"]')).toBe(truth.moodAnswers);

    // The primary comparison: one dot per participant with a score, one tick per condition, the CI drawn where it belongs.
    expect(await marks('#plot-empathy .empathy-by-condition g[aria-label="dot"]')).toBe(truth.scores.size);
    expect(await marks('#plot-empathy .empathy-by-condition g[aria-label="tick"]')).toBe(2);
    const expected = expectedDifference(truth);
    expect(expected.diff).toBeGreaterThan(0);
    // The interval's rule spans scale.apply(low)..scale.apply(high) of the chart's own x scale (Plot keeps .scale on its node).
    const ci = await page.$eval('#plot-empathy .empathy-difference', (node, v) => {
      const scale = (node as unknown as { scale: (n: string) => { apply: (x: number) => number } }).scale('x');
      return {
        spans: [...node.querySelectorAll('g[aria-label="rule"] > line')].map((l) => [Number(l.getAttribute('x1')), Number(l.getAttribute('x2'))]).filter(([a, b]) => a !== b),
        text: node.querySelector('g[aria-label="text"] text')?.textContent ?? '',
        want: v.map((x) => scale.apply(x)),
      };
    }, [expected.low, expected.high]);
    expect(ci.text).toBe(`${expected.diff.toFixed(2)} [${expected.low.toFixed(2)}, ${expected.high.toFixed(2)}]`);
    expect(ci.spans).toHaveLength(1);
    expect(ci.spans[0]![0]).toBeCloseTo(ci.want[0]!, 1);
    expect(ci.spans[0]![1]).toBeCloseTo(ci.want[1]!, 1);
    const note = await page.$eval('#chart-empathy p.note', (p) => p.textContent ?? '');
    expect(note).toContain(`matched − random = ${expected.diff.toFixed(2)}, 95% CI [${expected.low.toFixed(2)}, ${expected.high.toFixed(2)}]`);

    expect(await marks('#plot-safeguards g[aria-label="bar"]')).toBe(truth.safeguardGroups.size);
    expect(await marks('#plot-incidents g[aria-label="dot"]')).toBe(truth.incidents);

    // Completeness: the rows the fixture wrote, per table and day, are the cells' counts.
    const titles = new Set(await page.$$eval('#plot-completeness g[aria-label="cell"] > rect title', (ts) => ts.map((t) => t.textContent)));
    for (const [key, n] of truth.rowsPerDay) {
      const [table, day] = key.split('|');
      if (n > 0) expect(titles.has(`${table}, day ${day}: ${n} rows`), `${table} day ${day}`).toBe(true);
    }
    await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
    await page.close();
  });

  it('a study database (hearth collect) gives the same charts as the device file it was collected from', async () => {
    const device = join(dir, 'device-for-collect.sqlite');
    studyFixture(device);
    const study = join(dir, 'collected.sqlite');
    const collected = await collectDevices({ files: [device], into: study, hearthVersion: 'test' });
    expect(collected.files.map((r) => r.status)).toEqual(['collected']);
    await report('--db', device, '--out', join(dir, 'device.html'));
    const modelOf = (file: string) => {
      const json = /<script type="application\/json" id="hearth-report-data">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]!;
      return JSON.parse(json) as Record<string, unknown> & { meta: { kind: string; collections: number } };
    };
    await report('--db', study, '--out', join(dir, 'collected.html'));
    const fromStudy = modelOf(join(dir, 'collected.html'));
    const fromDevice = modelOf(join(dir, 'device.html'));
    const source = openForAnalysis(study);
    const collections = source.collections;
    source.close();
    expect(collections).toBeGreaterThan(0);
    expect(fromStudy.meta).toMatchObject({ kind: 'study', collections });
    const { meta: _a, ...studyCharts } = fromStudy;
    const { meta: _b, ...deviceCharts } = fromDevice;
    expect(studyCharts).toEqual(deviceCharts);
    expect(readFileSync(join(dir, 'collected.html'), 'utf8')).toContain(`study database, ${collections} collection(s)`);
  });

  it('a simulated month: the grid shows each participant-day as the simulator stored it', async () => {
    const db = join(dir, 'sim.sqlite');
    const summaries = await simulate({ participants: 2, days: 2, seed: 3, dbFile: db, hearthVersion: 'test' });
    const out = join(dir, 'sim.html');
    await report('--db', db, '--out', out);
    const { page, blocked, errors } = await openReport(out);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    // The simulator stores the protocol's whole schedule (30 days) and runs the first days; the rest are still open.
    // Expected counts come from the store's own port (StoreStats.instancesByStatus), not from the report's SQL.
    const classes = await page.$$eval('#plot-adherence g[aria-label="cell"] > rect', (rs) => rs.map((r) => r.getAttribute('class')));
    const days = loadProtocol(BUNDLED_PROTOCOL).protocol.study.days;
    expect(classes).toHaveLength(2 * days);
    const store = SqliteStore.open(db, { create: false, readonly: true });
    const stored: Record<string, number> = {};
    for (const s of summaries) {
      for (const [status, n] of Object.entries(store.stats.instancesByStatus(s.participantId, days))) {
        const cell = ['scheduled', 'delivered', 'started'].includes(status) ? 'open' : status;
        stored[cell] = (stored[cell] ?? 0) + n;
      }
    }
    store.close();
    expect(stored.completed).toBeGreaterThanOrEqual(summaries.reduce((a, s) => a + (s.instances.completed ?? 0), 0));
    for (const [status, n] of Object.entries(stored)) expect(classes.filter((c) => c === `status-${status}`), status).toHaveLength(n);
    const sessions = summaries.reduce((a, s) => a + (s.sessions.completed ?? 0) + (s.sessions.interrupted ?? 0), 0);
    expect(await page.$$eval('#plot-durations g[aria-label="dot"] > *', (xs) => xs.length)).toBe(sessions);
    await page.close();
  });

  it('empty data: every chart says "no data" instead of drawing', async () => {
    const db = join(dir, 'empty.sqlite');
    const store = SqliteStore.open(db);
    store.forDevice({ deviceId: 'dev-empty', tz: 'UTC', clockSource: 'system' }).registerDevice({ hardware: 'sim', hearthVersion: 'test' }, Date.UTC(2026, 2, 1));
    store.close();
    const out = join(dir, 'empty.html');
    expect((await report('--db', db, '--out', out)).at(-1)).toMatch(/0 participant\(s\), 0 participant-day\(s\); charts: none \(8 with no data\)$/);
    const { page, blocked, errors } = await openReport(out);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    const sections = await page.$$eval('section.chart', (ss) => ss.map((s) => [s.querySelectorAll('svg').length, s.querySelector('.no-data')?.textContent ?? '']));
    expect(sections).toHaveLength(8);
    for (const [svgs, text] of sections) {
      expect(svgs).toBe(0);
      expect(text).toMatch(/^No (data: |safeguard incidents)/);
    }
    await page.screenshot({ path: join(SHOTS, 'empty.png'), fullPage: true });
    await page.close();
  });
});

describe('hearth report: bad input', () => {
  let good: string;
  beforeAll(() => {
    good = join(dir, 'good.sqlite');
    const store = SqliteStore.open(good);
    store.forDevice({ deviceId: 'dev-1', tz: 'UTC', clockSource: 'system' }).registerDevice({ hardware: 'sim', hearthVersion: 'test' }, Date.UTC(2026, 2, 1));
    store.close();
  });

  const nothingWritten = (folder: string) => expect(readdirSync(folder)).toEqual([]);

  it('a file that is not a database, not Hearth\'s, from a newer Hearth, or truncated: one line naming it, exit 2, nothing written', async () => {
    const cases: [string, (f: string) => void, RegExp][] = [
      ['text.sqlite', (f) => writeFileSync(f, 'participant,day\nP01,1\n'.repeat(200)), /not a readable Hearth database/],
      ['empty.sqlite', (f) => writeFileSync(f, ''), /not a Hearth database/],
      ['newer.sqlite', (f) => {
        writeFileSync(f, readFileSync(good));
        // PRAGMA user_version is the big-endian integer at byte 60 of the SQLite header.
        const fd = openSync(f, 'r+');
        const b = Buffer.alloc(4);
        b.writeUInt32BE(99);
        writeSync(fd, b, 0, 4, 60);
        closeSync(fd);
      }, /database schema version 99 is newer than this Hearth supports \(\d+\); upgrade Hearth/],
      ['truncated.sqlite', (f) => {
        writeFileSync(f, readFileSync(good));
        truncateSync(f, Math.floor(statSync(f).size / 3));
      }, /(not a readable Hearth database|malformed|not a Hearth database)/],
    ];
    for (const [name, make, problem] of cases) {
      const file = join(dir, name);
      make(file);
      const folder = outDir();
      const message = await reportError('--db', file, '--out', join(folder, 'r.html'));
      expect(message, name).toContain(file);
      expect(message, name).toMatch(problem);
      expect(message.split('\n'), name).toHaveLength(1);
      nothingWritten(folder);
    }
  });

  it('an existing --out is refused unless --force, which replaces it through a temporary file', async () => {
    const folder = outDir();
    const out = join(folder, 'r.html');
    writeFileSync(out, 'old report');
    expect(await reportError('--db', good, '--out', out)).toBe(`${out}: already exists; pass --force to replace it`);
    expect(readFileSync(out, 'utf8')).toBe('old report');
    await report('--db', good, '--out', out, '--force');
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/);
    expect(readdirSync(folder)).toEqual(['r.html']);
  });
});
