// The Universal Sentence Encoder's sentencepiece tokeniser: a unigram vocabulary (piece, log probability)
// and a Viterbi search for the most probable split. It reproduces, token for token, the tokeniser that
// ships with USE lite in JavaScript (tfjs-models' universal-sentence-encoder, copied by
// @energetic-ai/embeddings 0.2.0), including its quirks, because the vectors callers compare against were
// made with it:
//   - text is NFKC-normalised, spaces become "▁" and one "▁" is put in front;
//   - a character no piece starts with becomes the unknown piece (id 0) with score 0, and runs of unknown
//     pieces are merged into one;
//   - the lattice treats a best score of exactly 0 as "not reached yet", and ties go to the later start;
//   - a null score (7 emoticon and punctuation pieces in USE lite's vocabulary) counts as 0;
//   - the backward walk steps by the chosen piece's UTF-16 length (not its code-point count).
// Checked against the reference on a dozen inputs (sentencepiece.test.ts, fixture made by
// perception/text/fixtures/make-tokenizer-fixture.md).

/** The vocabulary format of USE lite's `vocab.json`: `[piece, score]` by id (a few scores are null). */
export type Vocabulary = readonly (readonly [string, number | null])[];

/** Ids 0..5 are reserved (unknown, <s>, </s>, three extras) and never produced from text. */
const RESERVED = 6;
/** The id of the unknown piece. */
export const UNKNOWN_ID = 0;
/** sentencepiece's word-boundary mark. */
const SEPARATOR = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id when a piece ends here, else -1. */
  id: number;
  score: number;
}

const node = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });

/** Splits text into USE-lite vocabulary ids. Build once per vocabulary; `encode` is pure. */
export class SentencePieceTokenizer {
  private readonly root = node();
  /** UTF-16 length of each piece, for the reference's backward walk. */
  private readonly pieceLength: Int32Array;

  constructor(vocabulary: Vocabulary) {
    this.pieceLength = Int32Array.from(vocabulary, ([piece]) => piece.length);
    for (let id = RESERVED; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id]!;
      let at = this.root;
      for (const ch of piece) {
        let next = at.children.get(ch);
        if (!next) at.children.set(ch, (next = node()));
        at = next;
      }
      // A piece listed twice keeps its last id and score, as in the reference.
      at.id = id;
      at.score = score ?? 0;
    }
  }

  /** The vocabulary ids for `text` (no limit on length; callers truncate). */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const symbols = Array.from(SEPARATOR + normalized.replaceAll(' ', SEPARATOR));
    const n = symbols.length;
    // Pieces ending at each position, in order of their start (the reference's iteration order).
    const endingAt: { start: number; id: number; score: number }[][] = Array.from({ length: n + 1 }, () => []);
    for (let i = 0; i < n; i++) {
      let at = this.root.children.get(symbols[i]!);
      let found = false;
      for (let k = i; at !== undefined; ) {
        if (at.id >= 0) {
          endingAt[k + 1]!.push({ start: i, id: at.id, score: at.score });
          found = true;
        }
        k++;
        if (k >= n) break;
        at = at.children.get(symbols[k]!);
      }
      if (!found) endingAt[i + 1]!.push({ start: i, id: UNKNOWN_ID, score: 0 });
    }
    const best = new Float64Array(n + 1);
    const chosen = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      for (const piece of endingAt[end]!) {
        const score = piece.score + best[piece.start]!;
        if (best[end] === 0 || score >= best[end]!) {
          best[end] = score;
          chosen[end] = piece.id;
        }
      }
    }
    const backwards: number[] = [];
    // (A zero-length piece would stall the walk; the real vocabulary has none.)
    for (let at = n; at > 0; at -= Math.max(1, this.pieceLength[chosen[at]!]!)) backwards.push(chosen[at]!);
    const ids: number[] = [];
    for (let i = backwards.length - 1; i >= 0; i--) {
      const id = backwards[i]!;
      if (id === UNKNOWN_ID && ids.at(-1) === UNKNOWN_ID) continue;
      ids.push(id);
    }
    return ids;
  }
}
