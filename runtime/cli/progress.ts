/**
 * Progress bars for long commands (`hearth collect`, `hearth export`): the only module importing
 * cli-progress. A bar is drawn only when the stream is a terminal; otherwise (a pipe, a file, `--json`,
 * tests) nothing is printed, so output stays machine-readable.
 */
import cliProgress from 'cli-progress';

/** A progress bar over `total` steps; `tick` advances it by one and names the step just done. */
export interface Progress {
  tick(label: string): void;
  stop(): void;
}

/** A bar on `stream` (default stdout) when it is a TTY and `quiet` is not set; a no-op otherwise. */
export function progressBar(total: number, unit: string, o: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = o.stream ?? process.stdout;
  if (o.quiet || !stream.isTTY || total === 0) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    stream, format: `{bar} {value}/{total} ${unit} | {eta_formatted} left | {label}`, hideCursor: true, clearOnComplete: true, etaBuffer: 5,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { label: '' });
  return {
    tick: (label) => bar.increment(1, { label }),
    stop: () => bar.stop(),
  };
}
