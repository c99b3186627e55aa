import { spawn } from 'node:child_process';
import type { Transcriber, Transcript, TranscriptWord } from './transcriber.js';
import { TranscriberError } from './transcriber.js';

/** Where Debian's `pocketsphinx-en-us` puts the US English model. */
export const POCKETSPHINX_EN_US = '/usr/share/pocketsphinx/model/en-us';

/** Options for the offline recogniser. */
export interface PocketsphinxOptions {
  /** Model directory holding `en-us/` (acoustic), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Binary; default `pocketsphinx_continuous` on PATH (Debian package `pocketsphinx`). */
  binary?: string;
  /** Give up after this long; default 60 s. */
  timeoutMs?: number;
}

const PAD_MS = 300;
const PAD_SAMPLES = (PAD_MS * 16_000) / 1000;
const WORD_LINE = /^(\S+) (\d+\.\d+) (\d+\.\d+) (\d+\.\d+)$/;
/** Silence, sentence marks and noise tokens that are not words. */
const FILLER = /^(<s>|<\/s>|<sil>|\[[A-Z_]+\]|\+\+.*\+\+)$/;

/**
 * Offline speech to text with CMU PocketSphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`), run
 * as a subprocess per utterance. Audio goes through a pipe: nothing is written to disk. Loading the
 * model costs about 0.7 s per utterance on an x86 core; weak on conversational speech.
 */
export class PocketsphinxTranscriber implements Transcriber {
  readonly name: string;
  constructor(private readonly options: PocketsphinxOptions = {}) {
    this.name = `pocketsphinx ${options.modelDir ?? POCKETSPHINX_EN_US}`;
  }

  async transcribe(samples: Int16Array, signal?: AbortSignal): Promise<Transcript> {
    const dir = this.options.modelDir ?? POCKETSPHINX_EN_US;
    const bin = this.options.binary ?? 'pocketsphinx_continuous';
    const args = ['-infile', '/dev/stdin', '-hmm', `${dir}/en-us`, '-lm', `${dir}/en-us.lm.bin`, '-dict', `${dir}/cmudict-en-us.dict`,
      '-logfn', '/dev/null', '-time', 'yes'];
    const out = await new Promise<string>((resolve, reject) => {
      // pocketsphinx fopen()s its input, which fails on the socket Node gives a child as stdin;
      // `cat |` makes stdin a real pipe. Audio still never touches the disk.
      const child = spawn('sh', ['-c', 'cat | exec "$0" "$@"', bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.timeoutMs ?? 60_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
      child.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TranscriberError(`${this.name}: ${e.message}`, { cause: e }));
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else if (code === 127) reject(new TranscriberError(`${bin} not found: install the Debian packages pocketsphinx and pocketsphinx-en-us`));
        else reject(new TranscriberError(`${this.name}: exited with ${sig ?? `code ${code}`}${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`));
      });
      // EPIPE if the process died early: the close handler reports it.
      child.stdin.on('error', () => {});
      // Its endpointer and cepstral mean normalisation need some silence around the speech, which a
      // tightly cut VAD segment lacks: pad both sides.
      // Digital silence upsets it as much as none, so the padding is faint deterministic noise (≈ −60 dBFS).
      const padded = new Int16Array(samples.length + 2 * PAD_SAMPLES);
      let seed = 1;
      for (let i = 0; i < padded.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        padded[i] = ((seed >> 16) % 61) - 30;
      }
      padded.set(samples, PAD_SAMPLES);
      child.stdin.end(Buffer.from(padded.buffer, padded.byteOffset, padded.byteLength));
    });
    const t = parsePocketsphinx(out, this.name);
    for (const w of t.words ?? []) {
      w.startMs = Math.max(0, w.startMs - PAD_MS);
      w.endMs = Math.max(0, w.endMs - PAD_MS);
    }
    return t;
  }
}

/** Parse `pocketsphinx_continuous -time yes` output: hypothesis lines, then `word start end posterior` lines. */
export function parsePocketsphinx(out: string, engine = 'pocketsphinx'): Transcript {
  const words: TranscriptWord[] = [];
  const hyps: string[] = [];
  for (const line of out.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = WORD_LINE.exec(line);
    if (!m) { hyps.push(line); continue; }
    const word = m[1]!.replace(/\(\d+\)$/, '');
    if (FILLER.test(word)) continue;
    words.push({ word, startMs: Math.round(Number(m[2]) * 1000), endMs: Math.round(Number(m[3]) * 1000), confidence: Number(m[4]) });
  }
  const text = words.length ? words.map((w) => w.word).join(' ') : hyps.join(' ');
  const t: Transcript = { text, engine, words };
  if (words.length) t.confidence = words.reduce((n, w) => n + (w.confidence ?? 0), 0) / words.length;
  return t;
}
