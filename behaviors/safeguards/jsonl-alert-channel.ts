/** An `AlertChannel` that appends one JSON line per alert to a file in the device directory. */
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AlertChannel, IncidentReport } from './alerts.js';

/** A failure to write an alert: the message names the file. */
export class AlertChannelError extends Error {
  override readonly name = 'AlertChannelError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Appends alerts to `<deviceDir>/alerts.jsonl` and fsyncs each one before resolving. */
export class JsonlAlertChannel implements AlertChannel {
  readonly path: string;

  constructor(deviceDir: string, fileName = 'alerts.jsonl') {
    this.path = join(deviceDir, fileName);
  }

  async send(alert: IncidentReport, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const handle = await open(this.path, 'a');
      try {
        await handle.appendFile(`${JSON.stringify(alert)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw new AlertChannelError(`${this.path}: cannot write alert ${alert.incidentId} (${(cause as Error).message})`, { cause });
    }
  }
}
