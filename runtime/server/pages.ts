/**
 * The dashboard's pages, rendered on the server as plain HTML: no script, no CDN, one stylesheet from
 * the server itself (the CSP allows nothing else). Tables are real tables with captions and header
 * cells; every form control has a label; status is written in words, never only in colour.
 *
 * Nothing a participant said reaches these pages: the views they take (data/server/dashboard.ts) hold
 * statuses, ids, counts and times only.
 */
import type { AdherenceView, AlertView, DeviceView, HeartbeatView, SessionView, StaffRole } from '../../data/server/index.js';
import { CLOCK_SKEW_FLAG_MS } from '../../data/server/index.js';
import { html, type Html } from './html.js';

/** A heartbeat older than this marks the device stale (three missed 5-minute heartbeats). */
export const STALE_AFTER_MS = 15 * 60_000;

/** Who is looking, for the header and the forms. */
export interface Viewer {
  userName: string;
  role: StaffRole;
  csrfToken: string;
}

/** The stylesheet, served at /static/dashboard.css. */
export const DASHBOARD_CSS = `
:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafaf7; }
body { margin: 0 auto; max-width: 80rem; padding: 0 1rem 3rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; border-bottom: 1px solid #ccc; }
nav ul { display: flex; gap: 1rem; list-style: none; padding: 0; }
a { color: #0b4f8a; }
a:focus, button:focus, input:focus, textarea:focus { outline: 3px solid #f0a500; outline-offset: 2px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #eee; }
tr.stale td, tr.stale th { background: #fde2e1; }
.flag { font-weight: 600; color: #8a1c13; }
.ok { color: #1e5e2a; }
td.completed { background: #cde8d2; } td.interrupted { background: #f6dfa4; } td.missed { background: #f3b8b3; }
td.expired { background: #e1d5ee; } td.open { background: #fff; }
.grid td { text-align: center; min-width: 2.2rem; }
form.ack { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: end; }
label { display: block; font-weight: 600; }
input, textarea, button { font: inherit; }
button { padding: 0.3rem 0.8rem; }
.notice { padding: 0.5rem 0.8rem; border: 1px solid #8a1c13; background: #fde2e1; }
.muted { color: #555; }
`;

function layout(title: string, viewer: Viewer | null, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Hearth study server</title>
<link rel="stylesheet" href="/static/dashboard.css">
</head>
<body>
<header>
<p><strong>Hearth study server</strong></p>
${viewer ? html`<nav aria-label="Main"><ul>
<li><a href="/">Devices and alerts</a></li>
<li><a href="/adherence">Adherence</a></li>
${viewer.role === 'researcher' ? html`<li><a href="/export">Export</a></li>` : ''}
</ul></nav>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${viewer.csrfToken}">
<span class="muted">${viewer.userName} (${viewer.role})</span> <button type="submit">Log out</button></form>` : ''}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** The login form; `csrf` is the pre-login token also set as a cookie (double submit). */
export function loginPage(o: { csrf: string; problem?: string | undefined; userName?: string | undefined }): Html {
  return layout('Log in', null, html`
${o.problem ? html`<p class="notice" role="alert" id="login-problem">${o.problem}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${o.csrf}">
<p><label for="user">User name</label>
<input id="user" name="user" autocomplete="username" required maxlength="64" value="${o.userName ?? ''}"></p>
<p><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></p>
<p><button type="submit">Log in</button></p>
</form>`);
}

/** A plain message page (not found, forbidden, a refused form). */
export function messagePage(title: string, message: string, viewer: Viewer | null): Html {
  return layout(title, viewer, html`<p role="alert">${message}</p><p><a href="/">Back to the dashboard</a></p>`);
}

const MINUTE = 60_000;

/** "4 min ago", "3 h ago", "2 d ago". */
export function age(ms: number): string {
  if (ms < MINUTE) return 'just now';
  if (ms < 60 * MINUTE) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < 48 * 60 * MINUTE) return `${Math.floor(ms / (60 * MINUTE))} h ago`;
  return `${Math.floor(ms / (24 * 60 * MINUTE))} d ago`;
}

function duration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 60 * MINUTE) return `${Math.round(a / MINUTE)} min`;
  if (a < 48 * 60 * MINUTE) return `${Math.round(a / (60 * MINUTE))} h`;
  if (a < 730 * 24 * 60 * MINUTE) return `${Math.round(a / (24 * 60 * MINUTE))} d`;
  return `${(a / (365.25 * 24 * 60 * MINUTE)).toFixed(1)} years`;
}

function bytes(n: number | null): string {
  if (n === null) return 'unknown';
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

/** The clock cell: flagged when the device's clock was more than 5 minutes from the server's. */
function clockCell(h: HeartbeatView): Html {
  const off = Math.abs(h.skewMs) > CLOCK_SKEW_FLAG_MS;
  return off
    ? html`<span class="flag">clock off by ${duration(h.skewMs)} (${h.skewMs > 0 ? 'ahead' : 'behind'})</span>, ${h.clockSource}`
    : html`<span class="ok">ok</span>, ${h.clockSource}`;
}

function deviceRow(d: DeviceView, nowMs: number): Html {
  const h = d.heartbeat;
  const stale = !h || nowMs - h.receivedMs > STALE_AFTER_MS;
  return html`<tr class="${stale ? 'stale' : ''}" data-device="${d.deviceId}">
<th scope="row"><a href="/devices/${encodeURIComponent(d.deviceId)}">${d.deviceId}</a></th>
<td>${d.participantId ?? '—'}${d.participantStatus && d.participantStatus !== 'active' ? ` (${d.participantStatus})` : ''}</td>
<td>${h ? html`${stale ? html`<span class="flag">stale</span>: ` : ''}${age(nowMs - h.receivedMs)} <span class="muted">(${h.receivedTsUtc})</span>`
    : html`<span class="flag">stale</span>: never`}</td>
<td>${h?.hearthVersion ?? '—'}</td>
<td>${h ? bytes(h.freeDiskBytes) : '—'}</td>
<td>${h ? clockCell(h) : '—'}</td>
<td>${h ? html`${h.perception}; safeguards ${h.safeguards}` : '—'}</td>
<td>${h ? html`${h.alertOutbox} alerts, ${h.uplinkBacklogRows} rows` : '—'}</td>
<td>${d.lastSeq}</td>
<td>${d.token}</td>
<td>${d.openAlerts > 0 ? html`<span class="flag">${d.openAlerts}</span>` : '0'}</td>
</tr>`;
}

function alertRows(alerts: readonly AlertView[], viewer: Viewer, open: boolean): Html {
  return html`${alerts.map((a) => html`<tr data-incident="${a.incidentId}">
<th scope="row">${a.incidentId}</th>
<td>${a.severity}</td><td>${a.kind}</td>
<td><a href="/devices/${encodeURIComponent(a.deviceId)}">${a.deviceId}</a></td>
<td>${a.participantRef ?? '—'}</td>
<td>${a.eventTsUtc}</td>
<td>${a.checks.join(', ') || '—'}</td>
<td>${a.reportDueTsUtc ?? '—'}</td>
<td>${open ? html`<form class="ack" method="post" action="/alerts/${encodeURIComponent(a.incidentId)}/acknowledge">
<input type="hidden" name="csrf" value="${viewer.csrfToken}">
<span><label for="note-${a.incidentId}">Note</label>
<input id="note-${a.incidentId}" name="note" maxlength="2000" required></span>
<button type="submit">Acknowledge</button></form>`
    : html`${a.acknowledgedBy} at ${a.acknowledgedTsUtc}: ${a.acknowledgementNote}`}</td>
</tr>`)}`;
}

function alertTable(caption: string, alerts: readonly AlertView[], viewer: Viewer, open: boolean): Html {
  if (alerts.length === 0) return html`<p>${open ? 'No open alerts.' : ''}</p>`;
  return html`<table id="${open ? 'open-alerts' : 'acknowledged-alerts'}">
<caption>${caption}</caption>
<thead><tr><th scope="col">Incident</th><th scope="col">Severity</th><th scope="col">Kind</th><th scope="col">Device</th>
<th scope="col">Participant</th><th scope="col">Event (UTC)</th><th scope="col">Checks fired</th><th scope="col">IRB report due</th>
<th scope="col">${open ? 'Acknowledge' : 'Acknowledged'}</th></tr></thead>
<tbody>${alertRows(alerts, viewer, open)}</tbody>
</table>`;
}

/** Devices and alerts. */
export function overviewPage(o: { viewer: Viewer; nowMs: number; devices: readonly DeviceView[]; open: readonly AlertView[]; acknowledged: readonly AlertView[]; notice?: string | undefined }): Html {
  const stale = o.devices.filter((d) => !d.heartbeat || o.nowMs - d.heartbeat.receivedMs > STALE_AFTER_MS).length;
  return layout('Devices and alerts', o.viewer, html`
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
<p><a href="/">Refresh</a> · ${o.devices.length} devices, ${stale} stale (no heartbeat for 15 minutes), ${o.open.length} open alerts.</p>
<h2>Open alerts</h2>
${alertTable('Alerts waiting for acknowledgement, oldest first', o.open, o.viewer, true)}
<h2>Devices</h2>
<table id="devices">
<caption>Every device, with its latest heartbeat (stale rows are marked)</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Participant</th><th scope="col">Last heartbeat</th><th scope="col">Version</th>
<th scope="col">Free disk</th><th scope="col">Clock</th><th scope="col">Perception, safeguards</th><th scope="col">Waiting on device</th>
<th scope="col">Last seq held</th><th scope="col">Token</th><th scope="col">Open alerts</th></tr></thead>
<tbody>${o.devices.map((d) => deviceRow(d, o.nowMs))}</tbody>
</table>
<h2>Recently acknowledged</h2>
${alertTable('Alerts acknowledged most recently', o.acknowledged, o.viewer, false)}`);
}

const STATUS_WORD: Record<string, string> = { completed: 'done', interrupted: 'int', missed: 'miss', expired: 'exp', open: 'open' };

/** The participant × study-day grid. */
export function adherencePage(viewer: Viewer, cells: readonly AdherenceView[]): Html {
  const participants = [...new Set(cells.map((c) => c.participantId))].sort();
  const days = cells.length ? Array.from({ length: Math.max(...cells.map((c) => c.studyDay)) - Math.min(1, ...cells.map((c) => c.studyDay)) + 1 }, (_, i) => Math.min(1, ...cells.map((c) => c.studyDay)) + i) : [];
  const at = new Map(cells.map((c) => [`${c.participantId}\u0000${c.studyDay}`, c]));
  return layout('Adherence', viewer, html`
<p>One cell per participant and study day: <strong>done</strong> (completed), <strong>int</strong> (interrupted),
<strong>miss</strong> (missed: never invited), <strong>exp</strong> (expired: invited, never started), <strong>open</strong> (still to come or under way).
The data is as of the last batch each device uploaded.</p>
${participants.length === 0 ? html`<p>No schedule or sessions have arrived yet.</p>` : html`<table class="grid" id="adherence">
<caption>Adherence by participant and study day</caption>
<thead><tr><th scope="col">Participant</th>${days.map((d) => html`<th scope="col">${d}</th>`)}</tr></thead>
<tbody>${participants.map((p) => html`<tr><th scope="row">${p}</th>${days.map((d) => {
    const c = at.get(`${p}\u0000${d}`);
    return c ? html`<td class="${c.status}" title="day ${d}: ${c.status}${c.planned > 1 ? ` (${c.planned} planned)` : ''}">${STATUS_WORD[c.status] ?? c.status}</td>` : html`<td>—</td>`;
  })}</tr>`)}</tbody>
</table>`}`);
}

/** One device: its latest state, sessions, heartbeats and alerts. */
export function devicePage(o: { viewer: Viewer; nowMs: number; device: DeviceView; sessions: readonly SessionView[]; heartbeats: readonly HeartbeatView[]; alerts: readonly AlertView[] }): Html {
  const d = o.device;
  const open = o.alerts.filter((a) => a.acknowledgedTsUtc === null);
  const done = o.alerts.filter((a) => a.acknowledgedTsUtc !== null);
  return layout(`Device ${d.deviceId}`, o.viewer, html`
<table id="device"><caption>Latest state</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Participant</th><th scope="col">Last heartbeat</th><th scope="col">Version</th>
<th scope="col">Free disk</th><th scope="col">Clock</th><th scope="col">Perception, safeguards</th><th scope="col">Waiting on device</th>
<th scope="col">Last seq held</th><th scope="col">Token</th><th scope="col">Open alerts</th></tr></thead>
<tbody>${deviceRow(d, o.nowMs)}</tbody></table>
<h2>Alerts</h2>
${alertTable('Open alerts of this device', open, o.viewer, true)}
${alertTable('Acknowledged alerts of this device', done, o.viewer, false)}
<h2>Recent sessions</h2>
${o.sessions.length === 0 ? html`<p>No sessions have arrived from this device yet.</p>` : html`<table id="sessions">
<caption>The ${o.sessions.length} newest sessions (status and times only)</caption>
<thead><tr><th scope="col">Session</th><th scope="col">Participant</th><th scope="col">Study day</th><th scope="col">Status</th>
<th scope="col">Reason</th><th scope="col">Started (UTC)</th><th scope="col">Ended (UTC)</th></tr></thead>
<tbody>${o.sessions.map((s) => html`<tr><th scope="row">${s.sessionId}</th><td>${s.participantId}</td><td>${s.studyDay ?? '—'}</td>
<td>${s.status}</td><td>${s.statusReason ?? '—'}</td><td>${s.startedTsUtc ?? '—'}</td><td>${s.endedTsUtc ?? '—'}</td></tr>`)}</tbody>
</table>`}
<h2>Heartbeats</h2>
${o.heartbeats.length === 0 ? html`<p>No heartbeat yet.</p>` : html`<table id="heartbeats">
<caption>The ${o.heartbeats.length} newest heartbeats</caption>
<thead><tr><th scope="col">Received (server, UTC)</th><th scope="col">Device clock</th><th scope="col">Clock</th><th scope="col">Version</th>
<th scope="col">Free disk</th><th scope="col">Database</th><th scope="col">Last session</th><th scope="col">Perception</th>
<th scope="col">Safeguards</th><th scope="col">Alert outbox</th><th scope="col">Rows to upload</th></tr></thead>
<tbody>${o.heartbeats.map((h) => html`<tr><th scope="row">${h.receivedTsUtc}</th><td>${h.deviceTsUtc}</td><td>${clockCell(h)}</td>
<td>${h.hearthVersion}</td><td>${bytes(h.freeDiskBytes)}</td><td>${bytes(h.dbBytes)}</td>
<td>${h.lastSessionStatus ? `${h.lastSessionStatus} at ${h.lastSessionTsUtc ?? '?'}` : '—'}</td>
<td>${h.perception}</td><td>${h.safeguards}</td><td>${h.alertOutbox}</td><td>${h.uplinkBacklogRows}</td></tr>`)}</tbody>
</table>`}`);
}

/** The researcher's export page: one de-identified CSV per table. */
export function exportPage(viewer: Viewer, tables: readonly string[]): Html {
  return layout('Export', viewer, html`
<p>Each link exports one table of the study database as CSV, de-identified as <code>hearth export --deidentify</code> does:
device ids and every free-text column (the participants' words, memory notes, incident descriptions) are left out.
For a full export, Parquet or a date shift, run <code>hearth export</code> on the server itself.</p>
<ul>${tables.map((t) => html`<li><a href="/export/${t}.csv" download>${t}.csv</a></li>`)}</ul>`);
}
