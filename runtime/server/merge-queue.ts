/**
 * Batches acknowledged on durable receipt, merged behind. A batch is spooled as received (gzip),
 * checked (gzip, increment header inflated in memory, device, contiguous seq range), fsynced and
 * renamed into `pending/`; only then is it acknowledged. One merger drains `pending/` in arrival
 * order, inflating each batch again beside itself, through `collectInto` (the same merge as `hearth
 * collect`), so an upload waits for its own bytes to reach the disk, not for the 49 merges queued
 * ahead of it (runtime/server/README.md, "Scale and performance").
 *
 * After a crash, files in `pending/` are merged at the next start (the merge is idempotent, so one
 * merged just before the crash is merged again harmlessly). A batch the merge refuses after it was
 * acknowledged is moved to `refused/`, written to the audit trail and the log; the device's next
 * upload then starts above the server's cursor and gets 409 `gap`, so it resends from there.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { collectInto, syncWal, type SqliteStore } from '../../data/index.js';
import type { ServerRecords } from '../../data/server/index.js';

/** One acknowledged batch waiting to be merged. */
interface Pending {
  deviceId: string;
  from: number;
  to: number;
  file: string;
}

/** What the merger needs. */
export interface MergeQueueOptions {
  study: SqliteStore;
  records: ServerRecords;
  /** The spool folder; `pending/` and `refused/` are made inside it. */
  spoolDir: string;
  now: () => number;
  hearthVersion: string;
  log: (line: string) => void;
  /** Makes the study database's commits so far durable (default `syncWal`; tests hold it back). */
  syncLog?: (studyPath: string) => Promise<void>;
}

/** The longest a merge waits for uploads being received to finish (see `receiving`). */
export const MAX_DEFER_MS = 1000;

/** A pending batch: arrival, device, seq range; gzip as received (`.sqlite.gz`), or inflated (`.sqlite`, older servers). */
const NAME = /^(\d{16})__(.+)__(\d+)-(\d+)\.sqlite(\.gz)?$/;

/** The merge queue of one server. */
export class MergeQueue {
  readonly #o: MergeQueueOptions;
  readonly #pendingDir: string;
  readonly #refusedDir: string;
  readonly #queue: Pending[] = [];
  #arrivals = 0;
  #running: Promise<void> | null = null;
  #stopped = false;
  #idle: (() => void)[] = [];
  #receiving = 0;
  #dirSync: Promise<void> | null = null;
  #nextDirSync: Promise<void> | null = null;
  /** Spooled batches merged but not yet durable in the study database: removed once its log is synced. */
  readonly #unsynced: string[] = [];
  #syncing: Promise<void> | null = null;

  constructor(o: MergeQueueOptions) {
    this.#o = o;
    this.#pendingDir = join(o.spoolDir, 'pending');
    this.#refusedDir = join(o.spoolDir, 'refused');
    mkdirSync(this.#pendingDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.#refusedDir, { recursive: true, mode: 0o700 });
    // Batches acknowledged before a stop: merged first, in the order they arrived. An inflated copy a
    // stop left mid-merge is made again.
    for (const f of readdirSync(this.#pendingDir)) if (f.endsWith('.merging')) rmSync(join(this.#pendingDir, f), { force: true });
    const left = readdirSync(this.#pendingDir).map((f) => [f, NAME.exec(f)] as const).filter(([, m]) => m)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [f, m] of left) {
      this.#arrivals = Math.max(this.#arrivals, Number(m![1]) + 1);
      this.#queue.push({ deviceId: decodeURIComponent(m![2]!), from: Number(m![3]), to: Number(m![4]), file: join(this.#pendingDir, f) });
    }
    if (this.#queue.length) this.#kick();
  }

  /** Batches acknowledged and not yet merged. */
  get depth(): number {
    return this.#queue.length;
  }

  /** The device's cursor as its uploads see it: the highest seq merged or acknowledged. */
  cursor(deviceId: string): number {
    return this.#queue.reduce((seq, p) => (p.deviceId === deviceId ? Math.max(seq, p.to) : seq), this.#o.records.lastSeq(deviceId));
  }

  /**
   * Queue a checked batch the caller has written and fsynced: rename it into `pending/` and fsync the
   * folder. When this resolves the batch survives a crash, and the upload may be acknowledged.
   */
  async accept(deviceId: string, from: number, to: number, file: string): Promise<void> {
    const name = `${String(this.#arrivals++).padStart(16, '0')}__${encodeURIComponent(deviceId)}__${from}-${to}.sqlite${file.endsWith('.gz') ? '.gz' : ''}`;
    const dest = join(this.#pendingDir, name);
    renameSync(file, dest);
    await this.#syncPendingDir();
    this.#queue.push({ deviceId, from, to, file: dest });
    this.#kick();
  }

  /**
   * fsync `pending/`, shared between the uploads that renamed into it meanwhile (a group commit):
   * a caller whose rename came after the sync in flight began waits for the next one, which covers
   * every rename made before it starts. 50 uploads at once then cost a few folder syncs, not 50.
   */
  #syncPendingDir(): Promise<void> {
    if (!this.#dirSync) {
      this.#dirSync = (async () => {
        const dir = await open(this.#pendingDir, 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      })().finally(() => {
        this.#dirSync = null;
      });
      return this.#dirSync;
    }
    if (!this.#nextDirSync) {
      const again = () => {
        this.#nextDirSync = null;
        return this.#syncPendingDir();
      };
      this.#nextDirSync = this.#dirSync.then(again, again);
    }
    return this.#nextDirSync;
  }

  /**
   * An upload is being received (inflated, checked, made durable): merges wait while any is, for at
   * most MAX_DEFER_MS each, so that a batch is answered in the time its own receipt
   * takes rather than behind the merges queued before it. Call the returned function when it ends.
   */
  receiving(): () => void {
    this.#receiving++;
    let ended = false;
    return () => {
      if (!ended) this.#receiving--;
      ended = true;
    };
  }

  /** Resolves when every acknowledged batch is merged and durable, its spool file gone (tests, benchmarks, shutdown). */
  drained(): Promise<void> {
    if (!this.#queue.length && !this.#running) return this.#synced();
    return new Promise((ok) => this.#idle.push(ok));
  }

  /** Finish the merge in progress and stop; what is still pending stays on disk for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await this.#synced();
  }

  /**
   * A merged batch's spool file is removed only once the study database's log is fsynced: the study
   * connection runs at synchronous = NORMAL (a commit reaches the disk at the next checkpoint), so a
   * power cut just after a merge could otherwise lose rows the device was told were received. One
   * sync, on libuv's thread pool, covers every merge committed before it starts.
   */
  #syncMerged(): void {
    if (this.#syncing || !this.#unsynced.length) return;
    const files = this.#unsynced.splice(0);
    this.#syncing = (this.#o.syncLog ?? syncWal)(this.#o.study.path).then(
      () => {
        for (const f of files) rmSync(f, { force: true });
      },
      (e: Error) => {
        // Kept in pending/ (merged again, harmlessly, at the next start) unless a later sync succeeds.
        this.#o.log(`hearth serve: syncing the study database's log: ${e.message}; ${files.length} merged batches stay spooled until a later sync`);
        this.#unsynced.unshift(...files);
      },
    ).finally(() => {
      this.#syncing = null;
    });
  }

  /** Resolves when every merge so far is durable (another sync when merges came during the last; a failing sync is not retried forever). */
  async #synced(): Promise<void> {
    for (let tries = 0; (this.#syncing || this.#unsynced.length) && tries < 3; tries++) {
      this.#syncMerged();
      await this.#syncing;
    }
  }


  #kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#drain().finally(() => {
      this.#running = null;
      if (this.#queue.length && !this.#stopped) this.#kick();
      else {
        void this.#synced().then(() => {
          if (!this.#running) for (const ok of this.#idle.splice(0)) ok();
        });
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length && !this.#stopped) {
      // The merge is synchronous SQLite: yield to the event loop between merges, or a long queue
      // would starve every request (awaiting a settled promise runs no I/O callbacks).
      await new Promise((ok) => setImmediate(ok));
      for (const since = performance.now(); this.#receiving > 0 && performance.now() - since < MAX_DEFER_MS && !this.#stopped;) {
        await new Promise((ok) => setTimeout(ok, 5));
      }
      if (this.#stopped) break;
      const p = this.#queue[0]!;
      // A batch kept as received is inflated beside itself for the merge, and that copy removed after.
      const inflated = p.file.endsWith('.gz') ? `${p.file.slice(0, -3)}.merging` : null;
      try {
        if (inflated && !this.#inflate(p, inflated)) {
          this.#queue.shift();
          continue;
        }
        const result = await collectInto(this.#o.study, inflated ?? p.file, {
          private: true, onlyDevice: p.deviceId, label: `uplink:${p.deviceId}:${p.from}-${p.to}`, now: this.#o.now, hearthVersion: this.#o.hearthVersion,
        });
        // The server's own faults come back as refusals too: kept and retried, not refused.
        if (result.status === 'refused' && (isDiskFull(result.problem) || isBusy(result.problem))) throw new Error(result.problem);
        if (result.status === 'refused') this.#refuse(p, result.problem);
        else {
          this.#unsynced.push(p.file);
          this.#syncMerged();
        }
      } catch (e) {
        // A fault of the server itself (disk full, the study database unwritable): keep the batch, retry later.
        this.#o.log(`hearth serve: merging ${p.file}: ${(e as Error).message}; retrying in 5 s`);
        await new Promise((ok) => setTimeout(ok, 5000));
        continue;
      } finally {
        if (inflated) rmSync(inflated, { force: true });
      }
      this.#queue.shift();
    }
  }

  /**
   * Inflate a spooled batch to `to` for its merge; false (and the batch refused) when it no longer
   * inflates. It was checked at receipt, so only a damaged spool gets there.
   */
  #inflate(p: Pending, to: string): boolean {
    let bytes: Buffer;
    try {
      bytes = gunzipSync(readFileSync(p.file));
    } catch (e) {
      if (!(e as NodeJS.ErrnoException).code?.startsWith('Z_')) throw e;
      this.#refuse(p, `the spooled batch no longer inflates (${(e as Error).message})`);
      return false;
    }
    writeFileSync(to, bytes, { mode: 0o600 });
    return true;
  }

  #refuse(p: Pending, problem: string): void {
    const dest = join(this.#refusedDir, `${Date.now()}-${p.file.split('/').pop()}`);
    try {
      renameSync(p.file, dest);
    } catch {
      // already gone: nothing to keep
    }
    this.#o.log(`hearth serve: batch ${p.from}-${p.to} of ${p.deviceId} was acknowledged but the merge refused it: ${problem}; kept in ${dest}`);
    this.#o.records.audit({ actor: `device:${p.deviceId}`, action: 'batch.refused', target: `${p.from}-${p.to}`, detail: { problem, kept: dest } });
  }
}

/** A full disk or quota, from Node, SQLite or a merge's refusal line. */
export function isDiskFull(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err?.code === 'ENOSPC' || err?.code === 'EDQUOT' || err?.code === 'SQLITE_FULL' || /SQLITE_FULL|database or disk is full|ENOSPC/i.test(String(err?.message ?? e));
}

/** The study database locked by another connection for longer than its busy timeout. */
export function isBusy(problem: string): boolean {
  return /SQLITE_BUSY|database is locked/i.test(problem);
}

/** Bytes of acknowledged batches waiting in a spool (for health checks). */
export function pendingBytes(spoolDir: string): number {
  const dir = join(spoolDir, 'pending');
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}
