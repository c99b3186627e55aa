import type { Command } from 'commander';
import { SqliteStore } from '../../../data/index.js';

/** `hearth status`: health of a device database — schema, integrity, sessions by status. */
export function register(program: Command): void {
  program
    .command('status')
    .description('check a Hearth database: schema version, integrity, sessions by status, last activity')
    .requiredOption('--db <file>', 'SQLite file')
    .action((o: { db: string }) => {
      const store = SqliteStore.open(o.db, { create: false });
      try {
        const db = store.db;
        const sessions = Object.fromEntries(
          (db.prepare('SELECT status, COUNT(*) AS n FROM sessions GROUP BY status').all() as { status: string; n: number }[]).map((r) => [r.status, r.n]),
        );
        const count = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
        const last = db.prepare('SELECT ts_utc FROM events ORDER BY ts_utc DESC LIMIT 1').get() as { ts_utc: string } | undefined;
        console.log(JSON.stringify({
          db: store.path, schema_version: store.schemaVersion, integrity: store.integrityCheck(),
          devices: count('devices'), participants: count('participants'), sessions, turns: count('turns'), last_event_utc: last?.ts_utc ?? null,
        }));
      } finally {
        store.close();
      }
    });
}
