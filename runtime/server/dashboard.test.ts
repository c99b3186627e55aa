/**
 * The staff dashboard over real HTTP: login, lockout and the per-address limit, cookies, CSRF on
 * every state-changing form, roles, security headers, audit rows, and that no participant words
 * reach a page. Then, in headless Debian chromium (playwright-core): log in, see a stale device
 * flagged and an alert a device posted seconds earlier, acknowledge it, and find the acknowledgement
 * in the database. Screenshots: $TMPDIR/hearth-serve-test/*.png (printed).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildIncrement } from '../../data/index.js';
import { FixtureDevice } from '../../data/uplink/device.fixture.js';
import { DashboardQueries } from '../../data/server/index.js';
import { INCREMENT_MEDIA_TYPE } from './device-routes.js';
import { addStaff, Browserless, enrollDevice, testServer } from './server.fixture.js';

type Server = Awaited<ReturnType<typeof testServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
});

const PASSWORD = 'correct horse battery staple';
const MIN = 60_000;

describe('login', () => {
  it('logs in with an HttpOnly SameSite=Strict cookie, sets the security headers, and audits it', async () => {
    server = await testServer();
    await addStaff(server, 'sam', PASSWORD);
    const web = new Browserless(server.url);
    const page = await web.request('/login');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const csrf = Browserless.csrfOf(await page.text());
    const r = await web.form('/login', { user: 'sam', password: PASSWORD, csrf });
    expect(r.status).toBe(303);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('hearth_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toMatch(/Secure/i); // plain http on loopback; Secure over TLS
    expect((await web.request('/')).status).toBe(200);
    expect(server.records.auditTrail().map((a) => [a.actor, a.action])).toContainEqual(['sam', 'login']);
    // Logging out ends the session on the server, not only in the browser.
    const sessionCookie = web.cookies.get('hearth_session')!;
    const home = await (await web.request('/')).text();
    expect((await web.form('/logout', { csrf: Browserless.csrfOf(home) })).status).toBe(303);
    const stale = new Browserless(server.url);
    stale.cookies.set('hearth_session', sessionCookie);
    expect((await stale.request('/')).headers.get('location')).toBe('/login');
  });

  it('locks a user name after 5 failed logins, even with the right password, until 15 minutes have passed', async () => {
    let now = Date.UTC(2026, 11, 1, 9);
    server = await testServer({ now: () => now });
    await addStaff(server, 'sam', PASSWORD);
    const web = new Browserless(server.url);
    for (let i = 0; i < 5; i++) expect((await web.login('sam', `wrong ${i}`)).status).toBe(401);
    const locked = await web.login('sam', PASSWORD);
    expect(locked.status).toBe(429);
    expect(await locked.text()).toMatch(/locked after 5 failed logins/);
    expect(web.cookies.has('hearth_session')).toBe(false);
    expect(server.records.auditTrail().map((a) => a.action)).toContain('login.locked');
    now += 14 * MIN;
    expect((await web.login('sam', PASSWORD)).status).toBe(429);
    now += 2 * MIN;
    expect((await web.login('sam', PASSWORD)).status).toBe(303);
    expect(web.cookies.has('hearth_session')).toBe(true);
  });

  it('answers 429 to one address after 20 failures across user names, and refuses a login form without its CSRF cookie', async () => {
    server = await testServer();
    await addStaff(server, 'sam', PASSWORD);
    const web = new Browserless(server.url);
    for (let i = 0; i < 20; i++) expect((await web.login(`name${i % 4}`, 'nope')).status).toBe(401);
    expect((await web.login('sam', PASSWORD)).status).toBe(429);

    const other = await testServer();
    try {
      await addStaff(other, 'sam', PASSWORD);
      const forged = new Browserless(other.url);
      const r = await forged.form('/login', { user: 'sam', password: PASSWORD, csrf: 'made-up' });
      expect(r.status).toBe(403);
      expect(forged.cookies.has('hearth_session')).toBe(false);
    } finally {
      await other.cleanup();
    }
  });
});

describe('staff pages', () => {
  it('refuses every state-changing form without the session\'s CSRF token, and keeps exports to researchers', async () => {
    server = await testServer();
    await addStaff(server, 'sam', PASSWORD);
    await addStaff(server, 'rae', PASSWORD, 'researcher');
    const token = await enrollDevice(server, 'dev-a');
    const device = new FixtureDevice(join(server.dir, 'device.sqlite'), 'dev-a');
    device.session({ words: 'my secret words about my sister' });
    const inc = await buildIncrement(device.store, { deviceId: 'dev-a', seqFrom: 0, maxRows: 10_000, changedSince: null, dir: server.dir });
    device.store.close();
    const up = await fetch(`${server.url}/api/v1/devices/dev-a/batches`, {
      method: 'POST', body: readFileSync(inc.file),
      headers: { authorization: `Bearer ${token}`, 'content-type': INCREMENT_MEDIA_TYPE, 'content-encoding': 'gzip', 'x-hearth-batch': `0-${inc.seqTo}` },
    });
    expect(up.status).toBe(202);
    await server.merges.drained();
    server.records.receiveAlert('dev-a', { incidentId: 'inc-1', kind: 'crisis', severity: 'serious', participantId: 'P01', sessionId: 'P01-d1', eventDate: new Date().toISOString(), reportDueBy: null, checks: [] });

    const sam = new Browserless(server.url);
    expect((await sam.login('sam', PASSWORD)).status).toBe(303);
    for (const fields of [{ note: 'called' }, { note: 'called', csrf: 'wrong' }] as Record<string, string>[]) {
      const r = await sam.form('/alerts/inc-1/acknowledge', fields);
      expect(r.status, JSON.stringify(fields)).toBe(403);
    }
    expect((await sam.form('/logout', { csrf: 'wrong' })).status).toBe(403);
    expect(new DashboardQueries(server.study).alert('inc-1')!.acknowledgedTsUtc).toBeNull();
    expect(server.records.auditTrail().filter((a) => a.action === 'csrf.refused')).toHaveLength(3);

    // Pages show statuses and ids, never what the participant said.
    for (const path of ['/', '/adherence', '/devices/dev-a']) {
      const r = await sam.request(path);
      expect(r.status, path).toBe(200);
      const text = await r.text();
      expect(text).not.toMatch(/secret words|sister/);
      expect(text).not.toMatch(/<script/i);
    }
    expect(await (await sam.request('/adherence')).text()).toMatch(/<td class="completed"[^>]*>done<\/td>/);
    expect((await sam.request('/export')).status).toBe(403);
    expect((await sam.request('/export/sessions.csv')).status).toBe(403);

    const rae = new Browserless(server.url);
    await rae.login('rae', PASSWORD);
    const csv = await rae.request('/export/sessions.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('sessions.csv');
    const text = await csv.text();
    expect(text.split('\n')[0]).toContain('session_id');
    expect(text).toContain('P01-d1');
    expect(text).not.toContain('dev-a'); // de-identified: no device ids
    const turns = await (await rae.request('/export/turns.csv')).text();
    expect(turns).not.toMatch(/secret words/);
    expect(server.records.auditTrail().filter((a) => a.action === 'export.downloaded').map((a) => a.target)).toEqual(['sessions', 'turns']);
  });
});

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(tmpdir(), 'hearth-serve-test');

describe('the dashboard in a browser', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Debian chromium is missing (${CHROMIUM}): run \`bash scripts/setup.sh\` (it installs the chromium package)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('logs in, flags a stale device, shows an alert a device posted seconds ago, and records its acknowledgement', async () => {
    server = await testServer();
    await addStaff(server, 'sam', PASSWORD);
    const fresh = await enrollDevice(server, 'dev-fresh');
    const stale = await enrollDevice(server, 'dev-stale');
    const beat = (token: string, id: string, atMs: number) => fetch(`${server!.url}/api/v1/devices/${id}/heartbeat`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tsUtc: new Date(atMs).toISOString(), deviceClockMs: atMs, clockSource: 'ntp', clockOffsetMs: 3, hearthVersion: '0.1.0', protocolHash: null,
        freeDiskBytes: 5e9, dbBytes: 2e6, lastSession: null, perception: 'camera ok', safeguards: 'rules', alertOutbox: 0, uplinkBacklogRows: 0 }),
    });
    expect((await beat(stale, 'dev-stale', Date.now())).status).toBe(200);
    // The stale device's only heartbeat arrived 40 minutes "ago": move its receive time back, as a server clock would have stamped it.
    const at = Date.now();
    const later = await testServerWithClock(server, at + 40 * MIN);
    server = later;
    expect((await beat(fresh, 'dev-fresh', Date.now() + 40 * MIN)).status).toBe(200);

    const page = await browser!.newPage();
    await page.goto(`${server.url}/`);
    expect(page.url()).toMatch(/\/login$/);
    await page.getByLabel('User name').fill('sam');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.url}/`);
    const staleRow = page.locator('#devices tr[data-device="dev-stale"]');
    await expect.poll(() => staleRow.getAttribute('class')).toBe('stale');
    expect(await staleRow.innerText()).toMatch(/stale: 40 min ago/);
    expect(await page.locator('#devices tr[data-device="dev-fresh"]').getAttribute('class')).toBe('');
    expect(await page.locator('#open-alerts').count()).toBe(0);

    // A device raises an alert: a real POST to the alerts route, then the page is reloaded.
    const incidentId = `inc-${Date.now()}`;
    const posted = await fetch(`${server.url}/api/v1/devices/dev-fresh/alerts`, {
      method: 'POST', headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json', 'idempotency-key': incidentId },
      body: JSON.stringify({ hearthAlert: 1, deviceId: 'dev-fresh', incident: { incidentId, kind: 'crisis', severity: 'serious', participantId: 'P07', deviceId: 'dev-fresh',
        sessionId: 'P07-d3', turnId: 9, eventDate: new Date().toISOString(), description: 'words the dashboard must not show', robotAction: 'gave 988',
        checks: [{ check: 'crisis', version: '1', score: 0.9, threshold: 0.5, decision: 'flag', evidenceSpan: { cue: 'crisis.x', text: 'participant words' } }],
        staffLearnedDate: null, resolution: null, harm: 'unknown', causality: 'not yet assessed', reportDueBy: null } }),
    });
    expect(posted.status).toBe(200);
    await page.reload();
    const row = page.locator(`#open-alerts tr[data-incident="${incidentId}"]`);
    expect(await row.innerText()).toMatch(/serious\s+crisis\s+dev-fresh\s+P07/);
    expect(await page.content()).not.toMatch(/must not show|participant words/);
    await page.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true });

    // Keyboard only: focus the note, type, submit with Enter.
    await row.getByLabel('Note').focus();
    await page.keyboard.type('Phoned P07; safe, with family tonight.');
    await page.keyboard.press('Enter');
    await page.waitForURL(/acknowledged=/);
    expect(await page.getByRole('status').innerText()).toContain(`Alert ${incidentId} acknowledged.`);
    expect(await page.locator(`#acknowledged-alerts tr[data-incident="${incidentId}"]`).innerText()).toMatch(/sam at .*Phoned P07/);
    await page.screenshot({ path: join(SHOTS, 'acknowledged.png'), fullPage: true });
    console.log(`screenshots: ${join(SHOTS, 'dashboard.png')}, ${join(SHOTS, 'acknowledged.png')}`);

    const stored = new DashboardQueries(server.study).alert(incidentId)!;
    expect(stored.acknowledgedBy).toBe('sam');
    expect(stored.acknowledgementNote).toBe('Phoned P07; safe, with family tonight.');
    expect(Date.now() - Date.parse(stored.acknowledgedTsUtc!)).toBeLessThan(60 * MIN);
    expect(server.records.auditTrail().find((a) => a.action === 'alert.acknowledged')).toMatchObject({ actor: 'sam', target: incidentId });
    // The device hears it on its next delivery.
    const again = await fetch(`${server.url}/api/v1/devices/dev-fresh/alerts`, {
      method: 'POST', headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json', 'idempotency-key': incidentId },
      body: JSON.stringify({ hearthAlert: 1, deviceId: 'dev-fresh', incident: { incidentId, kind: 'crisis', severity: 'serious', eventDate: new Date().toISOString() } }),
    });
    expect(await again.json()).toEqual({ received: true, acknowledged: true });
    await page.close();
  });
});

/** The same study database served again with a clock `atMs` ahead, as if time had passed. */
async function testServerWithClock(s: Server, atMs: number): Promise<Server> {
  const offset = atMs - Date.now();
  const db = s.study.path;
  await s.close();
  const next = await testServer({ db, now: () => Date.now() + offset });
  return { ...next, cleanup: async () => { await next.cleanup(); await s.cleanup(); } };
}
