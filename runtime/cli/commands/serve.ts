import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { openStudyStore, type SqliteStore } from '../../../data/index.js';
import { hashPassword, ServerRecords, STAFF_ROLES, type StaffRole } from '../../../data/server/index.js';
import { startServer } from '../../server/app.js';
import { DEVICE_ID_PATTERN } from '../../server/schemas.js';
import { UsageError } from '../errors.js';
import { hearthVersion } from '../version.js';

/** Parse `--listen HOST:PORT` (`[::1]:8750` for IPv6). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`option --listen: expected HOST:PORT (e.g. 127.0.0.1:8750 or [::1]:8750), got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Parse `--expires 30m|24h|7d` into milliseconds (at most 30 days: a code is a short-lived secret). */
export function parseExpiry(value: string): number {
  const m = /^(\d{1,4})(m|h|d)$/.exec(value);
  const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : NaN;
  if (!m || ms <= 0 || ms > 30 * 86_400_000) throw new UsageError(`option --expires: expected a duration such as 30m, 24h or 7d (at most 30d), got "${value}"`);
  return ms;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `--db` of a subcommand. Commander gives an option the parent also declares to the parent
 * (`hearth serve enroll --db F` sets serve's --db), so it is read with the ancestors' options.
 */
function requireDb(cmd: Command): string {
  const db = (cmd.optsWithGlobals() as { db?: string }).db;
  if (!db) throw new UsageError('option --db <file> is required (the study database)');
  return db;
}

/** Open the study database and its server tables for one CLI action, closed afterwards. */
function withRecords<T>(db: string, fn: (records: ServerRecords, store: SqliteStore) => T | Promise<T>): Promise<T> {
  const store = openStudyStore(db);
  return (async () => {
    try {
      return await fn(ServerRecords.open(store), store);
    } finally {
      store.close();
    }
  })();
}

/** Who ran a CLI action, for the audit table. */
const cliActor = () => `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;

/** Read a password: from a file, else from stdin (hidden when stdin is a terminal); never from argv. */
async function readPassword(file: string | undefined): Promise<string> {
  let text: string;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new UsageError(`--password-file ${file}: cannot read it (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`);
    }
  } else if (process.stdin.isTTY) {
    let muted = false;
    const output = new Writable({ write: (chunk: Buffer, _enc, done) => { if (!muted) process.stderr.write(chunk); done(); } });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    text = await new Promise<string>((resolvePromise) => {
      rl.question('password (not shown): ', (answer) => resolvePromise(answer));
      muted = true;
    });
    rl.close();
    process.stderr.write('\n');
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password.length < 12) throw new UsageError('the password must have at least 12 characters');
  return password;
}

/** `hearth serve`: the study server, and its staff tools (enrollment codes, revocation, users). */
export function register(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the study server: devices enroll, send heartbeats, alerts and data; staff use the dashboard (binds 127.0.0.1 unless told)')
    .option('--db <file>', 'study database (created if absent; the same file hearth collect --into writes)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8750')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS directly (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--trust-proxy', 'trust X-Forwarded-For/-Proto from a reverse proxy on this machine (TLS terminated by Caddy or nginx)')
    .action(async (o: { db?: string; listen: string; tlsCert?: string; tlsKey?: string; trustProxy?: boolean }, cmd: Command) => {
      const db = requireDb(cmd);
      const { host, port } = parseListen(o.listen);
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
      let tls: { cert: Buffer; key: Buffer } | undefined;
      if (o.tlsCert && o.tlsKey) {
        try {
          tls = { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) };
        } catch (cause) {
          throw new UsageError(`cannot read the TLS certificate or key (${(cause as Error).message})`);
        }
      }
      let server;
      try {
        server = await startServer({ db, host, port, ...(tls ? { tls } : {}), trustProxy: o.trustProxy ?? false, hearthVersion: hearthVersion() });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new UsageError(`cannot listen on ${o.listen} (${code})`);
        throw e;
      }
      console.log(`hearth serve: ${server.url} (study database ${server.study.path}); Ctrl-C stops`);
      if (!LOOPBACK.has(host) && !tls) {
        process.stderr.write(`hearth serve: warning: listening on ${host} without TLS; device tokens and staff passwords would cross the network in clear. Use --tls-cert/--tls-key or a TLS reverse proxy on 127.0.0.1.\n`);
      }
      await new Promise<void>((resolvePromise) => {
        process.once('SIGINT', () => resolvePromise());
        process.once('SIGTERM', () => resolvePromise());
      });
      await server.close();
      console.log('hearth serve: stopped');
    });

  serve
    .command('enroll')
    .description('create a one-time enrollment code for a device (printed once; only its hash is kept)')
    .option('--db <file>', 'study database')
    .option('--device <id>', 'the code enrolls only this device id')
    .option('--expires <duration>', 'how long the code is valid: 30m, 24h, 7d (at most 30d)', '24h')
    .action(async (o: { device?: string; expires: string }, cmd: Command) => {
      const db = requireDb(cmd);
      const expiresInMs = parseExpiry(o.expires);
      if (o.device !== undefined && !new RegExp(DEVICE_ID_PATTERN).test(o.device)) throw new UsageError(`option --device: "${o.device}" is not a device id (letters, digits, . _ : -)`);
      const { code, expiresTsUtc } = await withRecords(db, (records) => {
        const created = records.createEnrollmentCode({ deviceId: o.device, expiresInMs, createdBy: cliActor() });
        records.audit({ actor: cliActor(), action: 'enrollment.created', target: o.device ?? null, detail: { expiresTsUtc: created.expiresTsUtc } });
        return created;
      });
      console.log(code);
      process.stderr.write(`hearth serve enroll: one-time code for ${o.device ? `device ${o.device}` : 'any device'}, valid until ${expiresTsUtc}; it is not stored and will not be shown again\n`);
    });

  serve
    .command('revoke')
    .description("revoke a device's token: its next request gets 401 revoked and its uplink stops")
    .option('--db <file>', 'study database')
    .requiredOption('--device <id>', 'device id')
    .action(async (o: { device: string }, cmd: Command) => {
      const db = requireDb(cmd);
      const n = await withRecords(db, (records) => {
        if (!records.isEnrolled(o.device)) throw new UsageError(`device ${o.device} was never enrolled on this server`);
        const revoked = records.revokeDevice(o.device, cliActor());
        records.audit({ actor: cliActor(), action: 'device.revoked', target: o.device, detail: { tokens: revoked } });
        return revoked;
      });
      console.log(n > 0 ? `revoked ${n} token${n === 1 ? '' : 's'} of device ${o.device}` : `device ${o.device} had no live token (already revoked)`);
    });

  const user = serve.command('user').description('staff accounts of the dashboard');
  user
    .command('add')
    .description('add a staff account; the password is read from stdin (or --password-file), never from the command line')
    .option('--db <file>', 'study database')
    .requiredOption('--user <name>', 'user name')
    .requiredOption('--role <role>', `role: ${STAFF_ROLES.join(' | ')} (researchers can also download exports)`)
    .option('--password-file <file>', 'read the password from the first line of this file')
    .action(async (o: { user: string; role: string; passwordFile?: string }, cmd: Command) => {
      const db = requireDb(cmd);
      if (!STAFF_ROLES.includes(o.role as StaffRole)) throw new UsageError(`option --role: expected ${STAFF_ROLES.join(' or ')}, got "${o.role}"`);
      if (!/^[A-Za-z0-9._@-]{1,64}$/.test(o.user)) throw new UsageError(`option --user: "${o.user}" is not a user name (letters, digits, . _ @ -; at most 64)`);
      const password = await readPassword(o.passwordFile);
      const hash = await hashPassword(password);
      await withRecords(db, (records) => {
        if (records.user(o.user)) throw new UsageError(`user ${o.user} already exists`);
        records.addUser(o.user, o.role as StaffRole, hash);
        records.audit({ actor: cliActor(), action: 'user.added', target: o.user, detail: { role: o.role } });
      });
      console.log(`added ${o.role} ${o.user}`);
    });
}
