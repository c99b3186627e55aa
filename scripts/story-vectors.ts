/**
 * Pin the story library's sentence-encoder vectors: encode every story of behaviors/stories/library.yaml
 * with the device's USE-lite (summary line and paragraphs) and write behaviors/stories/story-vectors.json
 * with the library hash, the encoder id and the model's sha256 from the manifest. Run after any edit to the
 * library (a test fails until then; the device would recompute them at start-up, ~30 s).
 *
 *   npx tsx scripts/story-vectors.ts [--check]
 *
 * --check: exit 1 when the pinned file does not match the library, encoder or model (writes nothing).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { bundledStories, pinnedStoryVectorsPath, StoryVectors } from '../behaviors/index.js';
import { readManifest, USE_LITE_MODEL, UseLiteEncoder } from '../perception/index.js';

const check = process.argv.includes('--check');
const stories = bundledStories();
const modelSha256 = readManifest().models[USE_LITE_MODEL]?.sha256 ?? '';
const file = pinnedStoryVectorsPath();
const encoder = await UseLiteEncoder.load();
try {
  if (check) {
    StoryVectors.fromJSON(JSON.parse(readFileSync(file, 'utf8')), { stories, encoderId: encoder.id, dimension: encoder.dimension, modelSha256 });
    process.stdout.write(`${file}: matches the ${stories.length}-story library, ${encoder.id} and model ${modelSha256.slice(0, 12)}…\n`);
  } else {
    const t0 = performance.now();
    const vectors = await StoryVectors.compute(encoder, stories, modelSha256);
    writeFileSync(file, `${JSON.stringify(vectors.toJSON())}\n`);
    process.stdout.write(`${file}: ${stories.length} stories encoded with ${encoder.id} in ${Math.round(performance.now() - t0)} ms\n`);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await encoder.close();
}
