import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** One scripted reply: something said after a pause, or silence at that prompt. */
export type ScriptReply = { say: string; afterMs: number; confidence?: number; bargeIn?: boolean } | { silence: true };

/** A scripted participant: replies given in order, one per time the robot listens. */
export interface ParticipantScript {
  replies: ScriptReply[];
}

/** A script file that cannot be used; the message names the file, line, column and problem. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  readonly exitCode = 2;
}

/**
 * Parse a participant script (YAML or JSON):
 * `replies: [{ say: "I'm fine", after_ms: 1500 }, { silence: true }, …]`.
 */
export function parseScript(source: string, file: string): ParticipantScript {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  const at = (node: Node | null | undefined, path: string, problem: string): ScriptError => {
    const pos = node?.range ? lines.linePos(node.range[0]) : { line: 1, col: 1 };
    return new ScriptError(`${file}:${pos.line}:${pos.col} ${path}: ${problem}`);
  };
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new ScriptError(`${file}:${pos.line}:${pos.col}: not valid YAML or JSON (${e.message.split('\n')[0]})`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw at(root as Node, '(root)', 'expected a mapping with a "replies" list');
  const repliesNode = root.get('replies', true) as Node | undefined;
  if (!isSeq(repliesNode)) throw at((repliesNode ?? root) as Node, 'replies', 'expected a list of replies');
  const replies: ScriptReply[] = repliesNode.items.map((item, i) => {
    const path = `replies[${i}]`;
    if (!isMap(item)) throw at(item as Node, path, 'expected a mapping like { say: "…", after_ms: 1000 } or { silence: true }');
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (!['say', 'after_ms', 'silence', 'confidence', 'barge_in'].includes(key)) throw at(pair.key as Node, `${path}.${key}`, 'unknown field (expected say, after_ms, confidence, barge_in or silence)');
    }
    const silence = item.get('silence', true) as Node | undefined;
    if (silence !== undefined) {
      if (!isScalar(silence) || silence.value !== true) throw at(silence, `${path}.silence`, 'must be true');
      return { silence: true as const };
    }
    const say = item.get('say', true) as Node | undefined;
    if (!isScalar(say) || typeof say.value !== 'string' || say.value.trim() === '') {
      throw at((say ?? item) as Node, `${path}.say`, 'must be a non-empty string');
    }
    const after = item.get('after_ms', true) as Node | undefined;
    let afterMs = 1000;
    if (after !== undefined) {
      if (!isScalar(after) || typeof after.value !== 'number' || !Number.isFinite(after.value) || after.value < 0) {
        throw at(after, `${path}.after_ms`, 'must be a non-negative number of milliseconds');
      }
      afterMs = after.value;
    }
    const conf = item.get('confidence', true) as Node | undefined;
    if (conf !== undefined && (!isScalar(conf) || typeof conf.value !== 'number' || conf.value < 0 || conf.value > 1)) {
      throw at(conf, `${path}.confidence`, 'must be a number from 0 to 1 (speech recognition confidence)');
    }
    const barge = item.get('barge_in', true) as Node | undefined;
    if (barge !== undefined && (!isScalar(barge) || typeof barge.value !== 'boolean')) throw at(barge, `${path}.barge_in`, 'must be true or false');
    return {
      say: say.value, afterMs,
      ...(conf !== undefined ? { confidence: (conf as { value: number }).value } : {}),
      ...(barge !== undefined && (barge as { value: boolean }).value ? { bargeIn: true } : {}),
    };
  });
  return { replies };
}

/** Read and parse a script file; a missing file is a ScriptError naming it. */
export function loadScript(file: string): ParticipantScript {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ScriptError(`${file}: cannot read script (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`);
  }
  return parseScript(source, file);
}
