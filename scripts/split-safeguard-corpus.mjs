#!/usr/bin/env node
// Split newly written safeguard cases into the training and test halves, once, before any
// training sees them. Usage: node scripts/split-safeguard-corpus.mjs behaviors/safeguards/corpus/new-file.jsonl...
// Each file F.jsonl is appended to corpus/train/F.jsonl and corpus/test/F.jsonl and then removed.
// Stratified and deterministic: within each (label, first tag) bucket, groups are ordered by an
// FNV-1a hash of their id and every 4th goes to test (25%). A group (a sentence and its
// speech-recogniser twin) never straddles the halves. Ids already in either half are refused.
import { existsSync, mkdirSync, readFileSync, readdirSync, appendFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = join(root, 'behaviors', 'safeguards', 'corpus');
const fnv1a = (s) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
};
const die = (m) => {
  console.error(`split-safeguard-corpus: ${m}`);
  process.exit(2);
};

const files = process.argv.slice(2);
if (!files.length) die('name the files to split');
const known = new Set();
for (const half of ['train', 'test']) {
  const dir = join(corpus, half);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.trim()) known.add(JSON.parse(line).id);
  }
}
for (const file of files) {
  const rows = readFileSync(file, 'utf8').split('\n').map((l, i) => [l, i + 1]).filter(([l]) => l.trim()).map(([l, n]) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      return die(`${file}:${n}: not valid JSON (${e.message})`);
    }
  });
  const groups = new Map();
  for (const r of rows) {
    if (known.has(r.id)) die(`${file}: id ${r.id} is already in the corpus`);
    known.add(r.id);
    const g = r.group ?? r.id;
    if (!groups.has(g)) groups.set(g, { bucket: `${r.direction}|${r.label}|${(r.tags ?? [])[0] ?? ''}`, rows: [] });
    groups.get(g).rows.push(r);
  }
  const buckets = new Map();
  for (const [g, v] of groups) {
    if (!buckets.has(v.bucket)) buckets.set(v.bucket, []);
    buckets.get(v.bucket).push(g);
  }
  const test = new Set();
  for (const gs of buckets.values()) {
    gs.sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : 1));
    gs.forEach((g, i) => i % 4 === 0 && test.add(g));
  }
  const out = { train: [], test: [] };
  for (const r of rows) out[test.has(r.group ?? r.id) ? 'test' : 'train'].push(JSON.stringify(r));
  for (const half of ['train', 'test']) {
    mkdirSync(join(corpus, half), { recursive: true });
    if (out[half].length) appendFileSync(join(corpus, half, basename(file)), out[half].join('\n') + '\n');
  }
  rmSync(file);
  console.log(`${basename(file)}: ${out.train.length} train, ${out.test.length} test (${test.size} of ${groups.size} groups held out)`);
}
