// One PocketSphinx decoder that stays loaded: the `hearth-sphinx` helper (native/hearth-sphinx.c, built
// against Debian's libpocketsphinx) run as a long-lived child process, fed audio as it arrives.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TranscriberError } from './transcriber.js';

/** Where Debian's `pocketsphinx-en-us` puts the US English model. */
export const POCKETSPHINX_EN_US = '/usr/share/pocketsphinx/model/en-us';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from perception/audio/ (source) or dist/perception/audio/ (built). */
const REPO = existsSync(join(here, '..', '..', 'package.json')) ? resolve(here, '..', '..') : resolve(here, '..', '..', '..');

/** Where the helper is looked for: `$HEARTH_SPHINX_HELPER`, else `<repo>/perception/audio/native/build/hearth-sphinx` (built by scripts/setup.sh). */
export function sphinxHelperPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.HEARTH_SPHINX_HELPER || join(REPO, 'perception', 'audio', 'native', 'build', 'hearth-sphinx');
}

/**
 * The helper's path, building it first when it is missing and a C compiler and libpocketsphinx-dev are
 * here (scripts/setup.sh normally does this). Throws TranscriberError saying what to install otherwise.
 */
export function ensureSphinxHelper(path = sphinxHelperPath()): string {
  if (existsSync(path)) return path;
  const build = join(REPO, 'perception', 'audio', 'native', 'build.sh');
  const r = existsSync(build) ? spawnSync('bash', [build, path], { encoding: 'utf8' }) : undefined;
  if (r?.status === 0 && existsSync(path)) return path;
  const why = r ? (r.stderr || r.error?.message || '').trim().split('\n').at(-1) : `${build} is missing`;
  throw new TranscriberError(`the pocketsphinx decoder helper ${path} is not built and could not be built (${why}): ` +
    'install the Debian packages pocketsphinx pocketsphinx-en-us libpocketsphinx-dev gcc pkg-config, then run scripts/setup.sh');
}

/** One word of a result; frames are 10 ms. */
export interface SphinxWord {
  word: string;
  startFrame: number;
  endFrame: number;
  /** Lattice posterior 0..1. */
  posterior: number;
  /** Acoustic and language scores (log base 1.0001, as pocketsphinx keeps them). */
  ascr: number;
  lscr: number;
}

/** What the decoder found in one utterance. */
export interface SphinxResult {
  hyp: string;
  /** Path score of the best hypothesis. */
  score: number;
  /** Posterior of the whole hypothesis 0..1. */
  posterior: number;
  frames: number;
  words: SphinxWord[];
  nbest: { hyp: string; score: number }[];
  /** Time the final search took inside the helper, ms. */
  finalMs: number;
}

/** How to run one decoder. */
export interface SphinxDecoderOptions {
  /** Model directory holding `en-us/` (acoustic), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Acoustic model directory; default `<modelDir>/en-us`. */
  hmm?: string;
  /** Dictionary; default `<modelDir>/cmudict-en-us.dict`. */
  dict?: string;
  /** Language model for open speech; default `<modelDir>/en-us.lm.bin`; `null` for a grammar-only decoder. */
  lm?: string | null;
  /** More pocketsphinx options, e.g. `['-beam', '1e-60']`. */
  args?: readonly string[];
  /**
   * Open speech: interpolate `lm` with this model (ARPA or binary; e.g. one built by `buildArpa` from
   * the story library), `weight` its share (0..1). Applied at every start of the process.
   */
  adaptedLm?: { path: string; weight: number };
  /** The helper binary; default `sphinxHelperPath()`, built on first use when missing. */
  helper?: string;
  /** Give up waiting for the model to load after this long; default 30 s. */
  startTimeoutMs?: number;
  /** A label for messages. */
  label?: string;
}

type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };
interface Waiter { resolve(r: Reply): void; reject(e: Error): void }

/**
 * A long-lived PocketSphinx decoder in its own process. `begin` starts an utterance, `feed` hands it
 * audio as it arrives (decoded at once), `end` runs the final search and returns the result. If the
 * process dies it is started again on the next call, with its grammars; the utterance in progress then
 * fails with a TranscriberError. Calls are queued: one utterance at a time.
 */
export class SphinxDecoder {
  readonly label: string;
  private child: ChildProcessWithoutNullStreams | null = null;
  private ready: Promise<void> | null = null;
  private waiters: Waiter[] = [];
  private stdout = '';
  private stderr = '';
  private readonly grammars = new Map<string, string>();
  /** Grammars the running process has (re-sent after a restart). */
  private loaded = new Set<string>();
  private closed = false;
  private generation = 0;
  /** How many times the process was started; more than 1 means it was restarted. */
  starts = 0;

  constructor(private readonly options: SphinxDecoderOptions = {}) {
    this.label = options.label ?? `pocketsphinx ${options.modelDir ?? POCKETSPHINX_EN_US}`;
  }

  /** The process id of the running decoder, if any (tests kill it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start the process and wait for the model to load (later calls do this themselves). */
  async start(): Promise<void> {
    if (this.closed) throw new TranscriberError(`${this.label}: decoder closed`);
    if (this.child && this.ready) return this.ready;
    const dir = this.options.modelDir ?? POCKETSPHINX_EN_US;
    const hmm = this.options.hmm ?? join(dir, 'en-us');
    const dict = this.options.dict ?? join(dir, 'cmudict-en-us.dict');
    const lm = this.options.lm === undefined ? join(dir, 'en-us.lm.bin') : this.options.lm;
    for (const [what, p] of [['acoustic model', hmm], ['dictionary', dict], ...(lm ? [['language model', lm]] : [])] as const) {
      if (!existsSync(p)) throw new TranscriberError(`${this.label}: ${what} ${p} not found: install the Debian packages pocketsphinx and pocketsphinx-en-us`);
    }
    const helper = this.options.helper ?? ensureSphinxHelper();
    const args = ['-hmm', hmm, '-dict', dict, ...(lm ? ['-lm', lm] : []), '-logfn', '/dev/null', ...(this.options.args ?? [])];
    const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const gen = ++this.generation;
    this.starts++;
    this.child = child;
    this.loaded = new Set();
    this.stdout = '';
    this.stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => { this.stderr = (this.stderr + d).slice(-2000); });
    // EPIPE when it died: the exit handler reports it.
    child.stdin.on('error', () => {});
    const died = (why: string) => {
      if (gen !== this.generation) return;
      this.child = null;
      this.ready = null;
      const err = new TranscriberError(`${this.label}: decoder process ${why}${this.stderr ? `: ${this.stderr.trim().split('\n').at(-1)}` : ''}`);
      for (const w of this.waiters.splice(0)) w.reject(err);
    };
    child.once('error', (e: NodeJS.ErrnoException) => died(e.code === 'ENOENT' ? `${helper} not found: run scripts/setup.sh` : e.message));
    child.once('exit', (code, sig) => died(`exited with ${sig ?? `code ${code}`}`));
    const loaded = new Promise<void>((res, rej) => {
      const timer = setTimeout(() => { rej(new TranscriberError(`${this.label}: model did not load within ${this.options.startTimeoutMs ?? 30_000} ms`)); child.kill('SIGKILL'); }, this.options.startTimeoutMs ?? 30_000);
      this.waiters.push({
        resolve: (r) => { clearTimeout(timer); if (r.ok) res(); else rej(new TranscriberError(`${this.label}: ${r.error}`)); },
        reject: (e) => { clearTimeout(timer); rej(e); },
      });
    });
    const adapted = this.options.adaptedLm;
    this.ready = adapted ? loaded.then(() => this.mix(adapted)) : loaded;
    return this.ready;
  }

  /** Interpolate the open-speech model with `adapted` (part of starting: not through `request`, which waits for the start). */
  private async mix(adapted: { path: string; weight: number }): Promise<void> {
    if (!existsSync(adapted.path)) throw new TranscriberError(`${this.label}: adapted language model ${adapted.path} not found`);
    const reply = new Promise<Reply>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.hold(true);
    this.send('M', Buffer.concat([Buffer.from(adapted.path, 'utf8'), Buffer.from([0]), Buffer.from(String(adapted.weight), 'utf8')]));
    const r = await reply;
    if (!r.ok) throw new TranscriberError(`${this.label}: ${r.error}`);
  }

  private onData(d: string): void {
    this.stdout += d;
    let nl: number;
    while ((nl = this.stdout.indexOf('\n')) >= 0) {
      const line = this.stdout.slice(0, nl);
      this.stdout = this.stdout.slice(nl + 1);
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        r = { ok: false, error: `unreadable reply ${JSON.stringify(line.slice(0, 100))}` };
      }
      this.waiters.shift()?.resolve(r);
    }
    this.hold(this.waiters.length > 0);
  }

  /** An idle decoder does not keep the runtime's process alive; one with a request pending does. */
  private hold(busy: boolean): void {
    const c = this.child;
    if (!c) return;
    const streams = [c.stdin, c.stdout, c.stderr] as unknown as { ref?(): void; unref?(): void }[];
    if (busy) { c.ref(); for (const s of streams) s.ref?.(); } else { c.unref(); for (const s of streams) s.unref?.(); }
  }

  private send(type: string, payload: Uint8Array = new Uint8Array(0)): void {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(payload.byteLength, 1);
    this.child!.stdin.write(head);
    if (payload.byteLength) this.child!.stdin.write(payload);
  }

  private async request(type: string, payload?: Uint8Array): Promise<Reply & { ok: true }> {
    await this.start();
    const reply = new Promise<Reply>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.hold(true);
    this.send(type, payload);
    const r = await reply;
    if (!r.ok) throw new TranscriberError(`${this.label}: ${r.error}`);
    return r;
  }

  /** Words the dictionary does not know (a grammar may use only known words). */
  async missingWords(words: readonly string[]): Promise<string[]> {
    if (words.length === 0) return [];
    const r = await this.request('V', Buffer.from(words.join(' '), 'utf8'));
    return r.missing as string[];
  }

  /** Resolves once the process has handled everything sent before (audio included). */
  async sync(): Promise<void> {
    await this.request('V', Buffer.from('a', 'utf8'));
  }

  /** Add (or replace) a JSGF grammar search; kept across restarts. */
  async setGrammar(name: string, jsgf: string): Promise<void> {
    this.grammars.set(name, jsgf);
    this.loaded.delete(name);
    await this.load(name);
  }

  /** Whether a grammar of this name was added. */
  hasGrammar(name: string): boolean {
    return this.grammars.has(name);
  }

  private async load(name: string): Promise<void> {
    await this.start();
    if (this.loaded.has(name)) return;
    const jsgf = this.grammars.get(name);
    if (jsgf === undefined) throw new TranscriberError(`${this.label}: no grammar "${name}"`);
    await this.request('G', Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0]), Buffer.from(jsgf, 'utf8')]));
    this.loaded.add(name);
  }

  /** Start an utterance with a grammar search by name, or the language model (`undefined`). */
  async begin(search?: string): Promise<void> {
    if (search) await this.load(search);
    await this.request('S', Buffer.from(search ?? (this.options.lm === null ? '' : '_default'), 'utf8'));
  }

  /** Hand the utterance more audio (16 kHz mono s16le); decoded as it arrives. */
  feed(samples: Int16Array): void {
    if (!this.child || samples.length === 0) return;
    this.send('A', new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  /** Hand the decoder a whole utterance at once: cepstral mean normalisation over all of it (more accurate, not streamed). */
  feedWhole(samples: Int16Array): void {
    if (!this.child || samples.length === 0) return;
    this.send('U', new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  /** Hand the utterance cepstral frames (float32, `ceplen` per frame): feature files such as tidigits'. */
  feedCepstra(frames: Float32Array): void {
    if (!this.child || frames.length === 0) return;
    this.send('C', new Uint8Array(frames.buffer, frames.byteOffset, frames.byteLength));
  }

  /** End the utterance: the final search, the words with their scores, and up to `nbest` alternatives. */
  async end(nbest = 0): Promise<SphinxResult> {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(nbest);
    const r = await this.request('E', n) as unknown as {
      hyp: string; score: number; prob: number; frames: number; finalMs: number;
      words: { w: string; sf: number; ef: number; p: number; ascr: number; lscr: number }[];
      nbest: { hyp: string; score: number }[];
    };
    return {
      hyp: r.hyp, score: r.score, posterior: r.prob, frames: r.frames, finalMs: r.finalMs, nbest: r.nbest,
      words: r.words.map((w) => ({ word: w.w, startFrame: w.sf, endFrame: w.ef, posterior: w.p, ascr: w.ascr, lscr: w.lscr })),
    };
  }

  /** Abandon the utterance in progress. */
  async cancel(): Promise<void> {
    if (!this.child) return;
    await this.request('X').catch(() => undefined);
  }

  /** Stop the process; the decoder cannot be used again. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((res) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, 2000);
      child.once('exit', () => { clearTimeout(timer); res(); });
      try { this.send('Q'); child.stdin.end(); } catch { child.kill('SIGKILL'); }
    });
  }
}
