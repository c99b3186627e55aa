/**
 * The port between the device's uplink and the study server (runtime/server/PROTOCOL.md, "Device
 * routes"): three calls, each failing with an `UplinkError` that says what the uplink should do next.
 */
import type { HeartbeatInput } from '../../data/index.js';

/** The heartbeat body, field for field as PROTOCOL.md lists it (every field present; null where unknown): the type the server stores. */
export type HeartbeatBody = HeartbeatInput;

/** The server's answer to `GET …/cursor`. */
export interface CursorAnswer {
  lastSeq: number;
  serverTimeMs: number;
}

/** The server's answer to `POST …/heartbeat`. */
export interface HeartbeatAnswer {
  receivedTsUtc: string;
  serverTimeMs: number;
}

/** The server's answer to `POST …/batches`. */
export interface BatchAnswer {
  /** The server's cursor for the device once this batch is held (merged, or acknowledged and queued). */
  lastSeq: number;
  /** Acknowledged batches the server has still to merge (PROTOCOL.md: it merges behind the answers). */
  queued?: number;
}

/** One gzipped increment to upload. */
export interface BatchUpload {
  seqFrom: number;
  seqTo: number;
  /** The gzip-compressed SQLite file. */
  body: Uint8Array;
}

/** The study server as the uplink sees it (implemented by `HttpUplinkTransport`). */
export interface UplinkTransport {
  /** The server, for messages: scheme, host, port and path. */
  readonly server: string;
  cursor(signal: AbortSignal): Promise<CursorAnswer>;
  heartbeat(body: HeartbeatBody, signal: AbortSignal): Promise<HeartbeatAnswer>;
  uploadBatch(batch: BatchUpload, signal: AbortSignal): Promise<BatchAnswer>;
}

/**
 * What a failed call means (PROTOCOL.md, "Device retry rule"): `retry` with backoff (408, 429, 5xx,
 * 507, timeouts, connection errors, an answer that cannot be read); `revoked` stops the uplink; `resync`
 * (409 `gap`) means the batch started above the server's cursor: rebuild from `lastSeq` at once;
 * `permanent` is a refusal of that request, logged and not repeated at once.
 */
export type UplinkFailure = 'retry' | 'revoked' | 'resync' | 'permanent';

/** A failed uplink call; the message names the server and the problem in one line. */
export class UplinkError extends Error {
  override readonly name = 'UplinkError';
  readonly failure: UplinkFailure;
  /** HTTP status, or null when there was no answer. */
  readonly status: number | null;
  /** How long the server asked us to wait (`Retry-After`), if it did. */
  readonly retryAfterMs: number | undefined;
  /** With `resync`: the server's cursor, when it said. */
  readonly lastSeq: number | undefined;
  constructor(message: string, o: { failure: UplinkFailure; status?: number | null; retryAfterMs?: number; lastSeq?: number; cause?: unknown }) {
    super(message, { cause: o.cause });
    this.failure = o.failure;
    this.status = o.status ?? null;
    this.retryAfterMs = o.retryAfterMs;
    this.lastSeq = o.lastSeq;
  }
}
