import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureInputs } from './fixtures/tokenizer-inputs.js';
import { SentencePieceTokenizer, UNKNOWN_ID } from './sentencepiece.js';
import { testModelsDir, titled, useLiteMissing } from './test-models.js';

const reference = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'tokenizer-reference.json'), 'utf8')) as { cases: { name: string; ids: number[] }[] };

describe.skipIf(useLiteMissing)(titled('USE-lite sentencepiece tokeniser'), () => {
  const vocab = JSON.parse(readFileSync(join(testModelsDir, 'use-lite-vocab.json'), 'utf8'));
  const tokenizer = new SentencePieceTokenizer(vocab);

  // The reference is @energetic-ai/embeddings 0.2.0's tokeniser (fixtures/make-tokenizer-fixture.ts).
  for (const { name, text } of fixtureInputs()) {
    it(`splits ${name} text exactly as the reference does`, () => {
      const expected = reference.cases.find((c) => c.name === name);
      expect(expected, `fixture has no case "${name}": rerun fixtures/make-tokenizer-fixture.ts`).toBeDefined();
      expect(tokenizer.encode(text)).toEqual(expected!.ids);
    });
  }

  it('gives words their pieces and marks word starts', () => {
    const pieces = tokenizer.encode('I want to die').map((id) => vocab[id][0]);
    expect(pieces).toEqual(['▁I', '▁want', '▁to', '▁die']);
  });

  it('maps characters outside the vocabulary to one unknown id per run', () => {
    const ids = tokenizer.encode('\u0001\u0002\u0003');
    expect(ids.filter((id) => id === UNKNOWN_ID)).toHaveLength(1);
  });
});
