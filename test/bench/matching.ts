// Story-matching benchmark: `npm run bench:matching` (= tsx test/bench/matching.ts).
// Ranks the bundled library (behaviors/stories/library.yaml) for every participant experience of
// test/fixtures/matching/experiences.yaml with the matched condition's own code (chooseStory), three ways:
//   lexical — shared words, themes and emotion words (MATCH_WEIGHTS), what ran before issue 15 and the fallback;
//   encoder — USE-lite sentence encoder and the pinned story vectors alone (blend 1);
//   blend   — both, standardised over the candidates and mixed at ENCODER_BLEND (the matched condition's default).
// A hit is a story labelled as resonant. Prints one JSON line per method and split (tune: the items the blend
// weight and the story pieces were chosen on, so those figures are contaminated; heldout: never looked at while
// tuning), one per method for the speech-recogniser-form items of both splits, one per method for the 30 items
// of paraphrase.yaml (a second held-out set that shares fewer words with its stories), and a timing line with
// the load average. BENCH_VECTORS=computed re-encodes the library instead of reading the pinned file.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  bundledStories, chooseStory, ENCODER_BLEND, loadStoryVectors, StoryVectors, type SentenceMatching,
} from '../../behaviors/index.js';
import { packageRoot } from '../../data/index.js';
import { readManifest, USE_LITE_MODEL, UseLiteEncoder } from '../../perception/index.js';

interface Experience { id: string; split: 'tune' | 'heldout'; form: 'typed' | 'asr'; text: string; resonant: string[] }

const fixture = (name: string) => parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'matching', name), 'utf8')) as Experience[];
const main = fixture('experiences.yaml');
// paraphrase.yaml: a second held-out set, told with fewer of the stories' words (written after tuning).
const paraphrase = fixture('paraphrase.yaml');
const experiences = [...main, ...paraphrase];
const stories = bundledStories();
const known = new Set(stories.map((s) => s.id));
for (const x of experiences) for (const id of x.resonant) if (!known.has(id)) throw new Error(`${x.id}: labelled with unknown story ${id}`);

const encoder = await UseLiteEncoder.load();
const modelSha256 = readManifest().models[USE_LITE_MODEL]?.sha256 ?? '';
const tv = performance.now();
const loaded = process.env.BENCH_VECTORS === 'computed'
  ? { vectors: await StoryVectors.compute(encoder, stories, modelSha256), source: 'computed' as const, refused: 'BENCH_VECTORS=computed' }
  : await loadStoryVectors(encoder, stories, { modelSha256 });
const vectorsMs = performance.now() - tv;

type Method = 'lexical' | 'encoder' | 'blend';
const methods: Record<Method, SentenceMatching | undefined> = {
  lexical: undefined,
  encoder: { encoder, vectors: loaded.vectors, vectorsSource: loaded.source, blend: 1 },
  blend: { encoder, vectors: loaded.vectors, vectorsSource: loaded.source, blend: ENCODER_BLEND },
};

/** Rank of the first resonant story (1-based; 0 when none is ranked, which cannot happen with a full library). */
const ranks = new Map<Method, Map<string, number>>();
const ms = new Map<Method, number[]>();
for (const [method, sentence] of Object.entries(methods) as [Method, SentenceMatching | undefined][]) {
  const r = new Map<string, number>();
  const times: number[] = [];
  for (const x of experiences) {
    const t0 = performance.now();
    const choice = await chooseStory({ condition: 'matched', participantId: 'bench', studyDay: 1, heard: [], stories, shared: x.text, seed: 'bench', ...(sentence ? { sentence } : {}) });
    times.push(performance.now() - t0);
    if (!choice) throw new Error('no story chosen');
    if (choice.method !== method) throw new Error(`${x.id}: asked for ${method}, chose by ${choice.method} (${choice.fallbackReason ?? ''})`);
    r.set(x.id, choice.candidates.findIndex((c) => x.resonant.includes(c.storyId)) + 1);
  }
  ranks.set(method, r);
  ms.set(method, times);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
function line(method: Method, subset: string, items: Experience[], contaminated: boolean): void {
  const r = items.map((x) => ranks.get(method)!.get(x.id)!);
  process.stdout.write(`${JSON.stringify({
    bench: 'matching', method, subset, contaminated, n: items.length,
    top1: round(r.filter((k) => k === 1).length / items.length),
    top3: round(r.filter((k) => k >= 1 && k <= 3).length / items.length),
    mrr: round(r.reduce((s, k) => s + (k ? 1 / k : 0), 0) / items.length),
  })}\n`);
}
const tune = main.filter((x) => x.split === 'tune');
const heldout = main.filter((x) => x.split === 'heldout');
const asr = main.filter((x) => x.form === 'asr');
for (const m of Object.keys(methods) as Method[]) {
  line(m, 'tune', tune, m !== 'lexical');
  line(m, 'heldout', heldout, false);
  line(m, 'asr-form (both splits)', asr, m !== 'lexical');
  line(m, 'paraphrase (held out)', paraphrase, false);
}
const p50 = (xs: number[]) => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
process.stdout.write(`${JSON.stringify({
  bench: 'matching', timing: true, stories: stories.length, experiences: experiences.length, encoder: encoder.id,
  vectors: loaded.source, ...(loaded.refused ? { refused: loaded.refused } : {}), vectors_ms: Math.round(vectorsMs),
  choice_ms_p50: Object.fromEntries([...ms].map(([m, t]) => [m, p50(t)])),
  loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
})}\n`);
await encoder.close();
