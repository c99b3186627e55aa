/**
 * Shared by the server's tests: a real server on 127.0.0.1 (port 0) over a real study database in a
 * temporary folder, a device enrolled through the real route, a staff account, and a small cookie jar
 * for logging in with fetch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, type StaffRole } from '../../data/server/index.js';
import { startServer, type HearthServer, type ServerOptions } from './app.js';

/** A server in its own temporary folder; `cleanup` closes it and removes the folder. */
export async function testServer(o: Partial<ServerOptions> = {}): Promise<HearthServer & { dir: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-serve-test-'));
  const server = await startServer({ db: join(dir, 'study.sqlite'), port: 0, log: process.env.DEBUG_SERVER_LOG ? (l) => console.error(l) : () => undefined, ...o });
  return { ...server, dir, cleanup: async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Enroll a device through `POST /api/v1/enroll` with a fresh code; returns its token. */
export async function enrollDevice(server: HearthServer, deviceId: string): Promise<string> {
  const { code } = server.records.createEnrollmentCode({ expiresInMs: 3_600_000, createdBy: 'test' });
  const r = await fetch(`${server.url}/api/v1/enroll`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, deviceId, hearthVersion: 'test' }),
  });
  if (r.status !== 201) throw new Error(`enroll ${deviceId}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

/** Add a staff account. */
export async function addStaff(server: HearthServer, userName: string, password: string, role: StaffRole = 'staff'): Promise<void> {
  server.records.addUser(userName, role, await hashPassword(password));
}

/** A minimal cookie jar over fetch: keeps the cookies the server sets, never follows redirects. */
export class Browserless {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return r;
  }

  /** Post a URL-encoded form. */
  form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }

  /** The hidden CSRF field of a page. */
  static csrfOf(page: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(page);
    if (!m) throw new Error('no CSRF field on the page');
    return m[1]!;
  }

  /** Log in through the form; returns the final response. */
  async login(user: string, password: string): Promise<Response> {
    const csrf = Browserless.csrfOf(await (await this.request('/login')).text());
    return this.form('/login', { user, password, csrf });
  }
}
