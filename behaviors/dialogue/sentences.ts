/**
 * Splits streamed text into sentences as it arrives, so the robot can start speaking the first sentence
 * while the model is still writing the second. Pure: no I/O, no timers.
 */

// Words after which a full stop does not end a sentence.
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'sr', 'jr', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'no', 'mt', 'ft', 'a.m', 'p.m']);

/** Feeds text deltas in, takes complete sentences out. */
export class SentenceSplitter {
  private buffer = '';

  /** Add a chunk of streamed text; returns the sentences it completed (possibly none). */
  push(delta: string): string[] {
    this.buffer += delta;
    const out: string[] = [];
    for (;;) {
      const end = findSentenceEnd(this.buffer);
      if (end < 0) break;
      const sentence = tidy(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end);
      if (sentence) out.push(sentence);
    }
    return out;
  }

  /** The stream has ended: returns what is left as a last sentence, if anything. */
  flush(): string[] {
    const rest = tidy(this.buffer);
    this.buffer = '';
    return /[\p{L}\p{N}]/u.test(rest) ? [rest] : [];
  }

  /** Text received but not yet part of a complete sentence. */
  get pending(): string {
    return this.buffer;
  }
}

/** Split a whole text into sentences (the same rules as streaming). */
export function splitSentences(text: string): string[] {
  const s = new SentenceSplitter();
  return [...s.push(text), ...s.flush()];
}

function tidy(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Index just past the end of the first complete sentence in `text`, or −1. A sentence ends at . ! ? or …
 * (plus closing quotes/brackets) followed by whitespace; we wait for that whitespace, because the next
 * chunk may turn "3." into "3.5" or "Dr." into a name. A blank line also ends a sentence.
 */
function findSentenceEnd(text: string): number {
  const para = text.search(/\n\s*\n/);
  const re = /([.!?…]+)(["'”’)\]]*)(\s+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (para >= 0 && para < m.index) break;
    const punct = m[1]!;
    const before = text.slice(0, m.index);
    if (punct === '.' && isAbbreviation(before)) continue;
    // "3. " inside a number list or a bare initial ("J. ") is not an end.
    if (punct === '.' && /(^|\s)[A-Z]$/.test(before)) continue;
    const end = m.index + punct.length + m[2]!.length;
    // Skip fragments too short to speak on their own ("Oh." is fine; "." alone is not).
    if (tidy(text.slice(0, end)).replace(/[^\p{L}\p{N}]/gu, '').length === 0) continue;
    return end;
  }
  if (para >= 0) {
    const nl = text.slice(para).match(/^\n\s*\n/)![0].length;
    return tidy(text.slice(0, para)) ? para + nl : (text.length > para + nl ? para + nl : -1);
  }
  return -1;
}

function isAbbreviation(before: string): boolean {
  const word = /([A-Za-z.]+)$/.exec(before)?.[1]?.toLowerCase();
  return word !== undefined && ABBREVIATIONS.has(word);
}
