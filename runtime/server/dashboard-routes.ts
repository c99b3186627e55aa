/**
 * The staff dashboard: log in and out, devices and alerts, adherence, one device, acknowledging an
 * alert, and (researchers) a de-identified export. Sessions are cookies holding a random id (only its
 * sha256 is stored), HttpOnly and SameSite=Strict, Secure over HTTPS. Every form that changes state
 * carries a CSRF token: the session's own for logged-in forms, a double-submit cookie for the login
 * form. Every staff action writes an audit row.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { exportData, TABLE_NAMES } from '../../data/index.js';
import { dummyPasswordHash, verifyPassword } from '../../data/server/index.js';
import { fail, type ServerContext } from './app.js';
import { bearerToken } from './device-routes.js';
import type { Html } from './html.js';
import { adherencePage, DASHBOARD_CSS, devicePage, exportPage, loginPage, messagePage, overviewPage, type Viewer } from './pages.js';

/** The login session cookie. */
export const SESSION_COOKIE = 'hearth_session';
/** The pre-login CSRF cookie (double submit). */
export const LOGIN_CSRF_COOKIE = 'hearth_login_csrf';

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in staff member (staff routes only). */
    viewer: Viewer | null;
    /** The session cookie's value, when a session is live. */
    sessionId: string | null;
  }
}

const sameSecret = (a: string | undefined, b: string): boolean => {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function page(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body.text);
}

/** Register the dashboard's routes on `app`. */
export function registerDashboardRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('viewer', null);
  app.decorateRequest('sessionId', null);
  const cookieOptions = (req: FastifyRequest, path = '/') => ({
    httpOnly: true, sameSite: 'strict' as const, path, secure: ctx.tls || req.protocol === 'https',
  });

  /**
   * Staff routes: a device token is refused with 403 (PROTOCOL.md: a device token reads nothing), any
   * other bearer token with 401; without a live session a page redirects to the login form and a form
   * post is refused. `role` restricts the route further. Runs in `onRequest`, before any body is read.
   */
  const staff = (o: { role?: 'researcher' } = {}) => async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (token !== null || req.headers.authorization !== undefined) {
      const auth = token ? ctx.records.authenticateDevice(token) : { status: 'unknown' as const };
      if (auth.status === 'ok') return fail(reply, 403, 'forbidden', 'a device token cannot be used on staff routes');
      return fail(reply, 401, 'unauthorized', 'staff routes take a login session, not a bearer token');
    }
    const sessionId = req.cookies[SESSION_COOKIE];
    const session = sessionId ? ctx.records.loginSession(sessionId, ctx.login.idleMs) : undefined;
    if (!session) {
      if (req.method === 'GET') return reply.code(303).header('Location', '/login').send();
      return page(reply, messagePage('Log in again', 'Your session has ended. Log in again and repeat the action.', null), 401);
    }
    req.viewer = { userName: session.userName, role: session.role, csrfToken: session.csrfToken };
    req.sessionId = sessionId!;
    if (o.role === 'researcher' && session.role !== 'researcher') {
      return page(reply, messagePage('Not allowed', 'Only researchers can download exports.', req.viewer), 403);
    }
  };

  /** A logged-in form's CSRF token must be the session's: checked once the form is parsed, before its fields are validated. */
  const csrf = async (req: FastifyRequest, reply: FastifyReply) => {
    const viewer = req.viewer!;
    if (!sameSecret((req.body as Record<string, string> | undefined)?.csrf, viewer.csrfToken)) {
      ctx.records.audit({ actor: viewer.userName, action: 'csrf.refused', target: req.url, address: req.ip });
      return page(reply, messagePage('Form refused', 'This form was not sent from the dashboard you are logged in to (the CSRF token is missing or wrong). Reload the page and try again.', viewer), 403);
    }
  };

  app.get('/static/dashboard.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(DASHBOARD_CSS));

  app.get('/login', async (req, reply) => {
    const sessionId = req.cookies[SESSION_COOKIE];
    if (sessionId && ctx.records.loginSession(sessionId, ctx.login.idleMs)) return reply.code(303).header('Location', '/').send();
    const csrf = randomBytes(24).toString('base64url');
    reply.setCookie(LOGIN_CSRF_COOKIE, csrf, cookieOptions(req, '/login'));
    return page(reply, loginPage({ csrf }));
  });

  const loginForm = { type: 'object', required: ['user', 'password', 'csrf'], properties: {
    user: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 }, csrf: { type: 'string', maxLength: 100 },
  } } as const;

  app.post('/login', { schema: { body: loginForm } }, async (req, reply) => {
    const form = req.body as { user: string; password: string; csrf: string };
    const again = (problem: string, status: number) => {
      const csrf = randomBytes(24).toString('base64url');
      reply.setCookie(LOGIN_CSRF_COOKIE, csrf, cookieOptions(req, '/login'));
      return page(reply, loginPage({ csrf, problem, userName: form.user }), status);
    };
    if (!sameSecret(req.cookies[LOGIN_CSRF_COOKIE], form.csrf)) return again('The login form expired or was not sent from this site. Try again.', 403);
    const now = ctx.now();
    const p = ctx.login;
    if (ctx.records.failedLoginsFrom(req.ip, now - p.windowMs) >= p.maxFailuresPerAddress) {
      reply.header('Retry-After', String(Math.ceil(p.windowMs / 1000)));
      return again('Too many failed logins from this address. Wait 15 minutes and try again.', 429);
    }
    const failures = ctx.records.failedLogins(form.user, now - p.windowMs);
    if (failures.count >= p.maxFailures && failures.lastTsUtc && now - Date.parse(failures.lastTsUtc) < p.lockMs) {
      const minutes = Math.ceil((Date.parse(failures.lastTsUtc) + p.lockMs - now) / 60_000);
      reply.header('Retry-After', String(minutes * 60));
      return again(`This account is locked after ${p.maxFailures} failed logins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask another staff member.`, 429);
    }
    const user = ctx.records.user(form.user);
    // An unknown name costs as much as a wrong password, so timing does not tell which names exist.
    const ok = (await verifyPassword(form.password, user?.passwordScrypt ?? await dummyPasswordHash())) && user !== undefined && !user.disabled;
    ctx.records.recordLoginAttempt(form.user, req.ip, ok);
    if (!ok) {
      if (failures.count + 1 >= p.maxFailures) ctx.records.audit({ actor: form.user, action: 'login.locked', target: form.user, address: req.ip, detail: { failures: failures.count + 1 } });
      return again('Wrong user name or password.', 401);
    }
    const session = ctx.records.createLoginSession(user!.userName, p.sessionMs);
    ctx.records.audit({ actor: user!.userName, action: 'login', address: req.ip, detail: { role: user!.role } });
    reply.clearCookie(LOGIN_CSRF_COOKIE, cookieOptions(req, '/login'));
    reply.setCookie(SESSION_COOKIE, session.sessionId, cookieOptions(req));
    return reply.code(303).header('Location', '/').send();
  });

  const csrfForm = { type: 'object', required: ['csrf'], properties: { csrf: { type: 'string', maxLength: 100 } } } as const;

  app.post('/logout', { onRequest: staff(), preValidation: csrf, schema: { body: csrfForm } }, async (req, reply) => {
    ctx.records.endLoginSession(req.sessionId!);
    ctx.records.audit({ actor: req.viewer!.userName, action: 'logout', address: req.ip });
    reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
    return reply.code(303).header('Location', '/login').send();
  });

  app.get('/', { onRequest: staff() }, async (req, reply) => {
    const notice = typeof (req.query as Record<string, unknown>).acknowledged === 'string' ? `Alert ${(req.query as Record<string, string>).acknowledged} acknowledged.` : undefined;
    return page(reply, overviewPage({
      viewer: req.viewer!, nowMs: ctx.now(), devices: ctx.queries.devices(), open: ctx.queries.openAlerts(), acknowledged: ctx.queries.acknowledgedAlerts(), notice,
    }));
  });

  app.get('/adherence', { onRequest: staff() }, async (req, reply) => page(reply, adherencePage(req.viewer!, ctx.queries.adherence())));

  app.get('/devices/:deviceId', { onRequest: staff() }, async (req, reply) => {
    const { deviceId } = req.params as { deviceId: string };
    const device = ctx.queries.devices().find((d) => d.deviceId === deviceId);
    if (!device) return page(reply, messagePage('Not found', `No device ${deviceId} is known to this server.`, req.viewer), 404);
    return page(reply, devicePage({
      viewer: req.viewer!, nowMs: ctx.now(), device, sessions: ctx.queries.sessions(deviceId), heartbeats: ctx.queries.heartbeats(deviceId), alerts: ctx.queries.alertsOf(deviceId),
    }));
  });

  const ackForm = { type: 'object', required: ['csrf', 'note'], properties: {
    csrf: { type: 'string', maxLength: 100 }, note: { type: 'string', minLength: 1, maxLength: 2000 },
  } } as const;

  app.post('/alerts/:incidentId/acknowledge', { onRequest: staff(), preValidation: csrf, schema: { body: ackForm } }, async (req, reply) => {
    const { incidentId } = req.params as { incidentId: string };
    const note = (req.body as { note: string }).note.trim();
    const alert = ctx.queries.alert(incidentId);
    if (!alert) return page(reply, messagePage('Not found', `No alert ${incidentId}.`, req.viewer), 404);
    if (!ctx.records.acknowledgeAlert(incidentId, req.viewer!.userName, note)) {
      return page(reply, messagePage('Already acknowledged', `Alert ${incidentId} was already acknowledged by ${alert.acknowledgedBy ?? 'someone'} at ${alert.acknowledgedTsUtc ?? '?'}.`, req.viewer), 409);
    }
    ctx.records.audit({ actor: req.viewer!.userName, action: 'alert.acknowledged', target: incidentId, address: req.ip, detail: { deviceId: alert.deviceId, note } });
    return reply.code(303).header('Location', `/?acknowledged=${encodeURIComponent(incidentId)}`).send();
  });

  app.get('/export', { onRequest: staff({ role: 'researcher' }) }, async (req, reply) => page(reply, exportPage(req.viewer!, TABLE_NAMES)));

  app.get('/export/:file', { onRequest: staff({ role: 'researcher' }) }, async (req, reply) => {
    const m = /^([a-z_]+)\.csv$/.exec((req.params as { file: string }).file);
    const table = m?.[1];
    if (!table || !TABLE_NAMES.includes(table)) return page(reply, messagePage('Not found', 'No such export table.', req.viewer), 404);
    const dir = mkdtempSync(join(tmpdir(), 'hearth-serve-export-'));
    try {
      const out = join(dir, 'export');
      // De-identified, as the page says: no device ids, no free text, whatever the researcher asked.
      await exportData({ db: ctx.dbPath, out, formats: ['csv'], tables: [table], deidentify: true, generator: `hearth serve ${ctx.hearthVersion}` });
      ctx.records.audit({ actor: req.viewer!.userName, action: 'export.downloaded', target: table, address: req.ip, detail: { deidentified: true, format: 'csv' } });
      const stream = createReadStream(join(out, `${table}.csv`));
      stream.on('close', () => rmSync(dir, { recursive: true, force: true }));
      return reply.type('text/csv; charset=utf-8').header('Content-Disposition', `attachment; filename="${table}.csv"`).send(stream);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  });
}
