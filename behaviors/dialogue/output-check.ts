/**
 * Checks a model's spoken sentences before the robot says them: catches output that is malformed for
 * speech (chat-template tokens, role labels, markdown, code, JSON, gibberish, runaway repetition) or that
 * breaks the prompt's hard rules in obvious ways (claiming to be human). Pure functions.
 */

/** Why a sentence must not be spoken. */
export type OutputProblem = 'template-token' | 'role-label' | 'markup' | 'not-prose' | 'repetition' | 'claims-human' | 'too-long';

/** A rejected sentence with the reason. */
export interface OutputRejection {
  problem: OutputProblem;
  detail: string;
}

const TEMPLATE_TOKEN = /<\|[^|>]{1,40}\|>|<\/?s>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:think|assistant|user|system)>/i;
const ROLE_LABEL = /^(?:assistant|user|system|hearth|robot|participant|ai)\s*:/i;
const MARKUP = /```|^#{1,6}\s|^\s*[-*•]\s|\*\*[^*]+\*\*|^\s*\d+[.)]\s|^\s*[{[]|[{}]\s*$|<\/?[a-z][^>]*>|\bhttps?:\/\//i;
const CLAIMS_HUMAN = /\b(?:i am|i'm|i’m)\s+(?:a\s+)?(?:real\s+)?(?:human|person|woman|man)\b(?!\s+(?:being\s+)?(?:like you|who))|\bas a (?:human|person)\b(?!,? you)|\bwhen i was (?:a )?(?:kid|child|young|little)\b|\bmy (?:mother|father|mum|mom|dad|wife|husband|kids|children) (?:and i|used to|was|is)\b/i;

/** Check one sentence; `undefined` when it is fine to speak. */
export function checkSentence(sentence: string, maxChars = 400): OutputRejection | undefined {
  const s = sentence.trim();
  if (TEMPLATE_TOKEN.test(s)) return { problem: 'template-token', detail: `chat-template token in "${clip(s)}"` };
  if (ROLE_LABEL.test(s)) return { problem: 'role-label', detail: `role label in "${clip(s)}"` };
  if (MARKUP.test(s)) return { problem: 'markup', detail: `markup or code in "${clip(s)}"` };
  if (s.length > maxChars) return { problem: 'too-long', detail: `sentence of ${s.length} characters (limit ${maxChars})` };
  const letters = (s.match(/\p{L}/gu) ?? []).length;
  const words = s.split(/\s+/).filter(Boolean);
  const wordy = words.filter((w) => /^[\p{L}'’-]+[.,!?;:…"”)]*$/u.test(w.replace(/^["“(]/, ''))).length;
  if (letters < s.length * 0.6 || words.length === 0 || wordy / words.length < 0.7) {
    return { problem: 'not-prose', detail: `not prose: "${clip(s)}"` };
  }
  if (hasRunawayRepetition(words)) return { problem: 'repetition', detail: `repeated words in "${clip(s)}"` };
  if (CLAIMS_HUMAN.test(s)) return { problem: 'claims-human', detail: `claims to be human: "${clip(s)}"` };
  return undefined;
}

/** The same sentence said twice in a reply is a degenerate loop. */
export function repeatsEarlier(sentence: string, earlier: readonly string[]): boolean {
  const norm = (x: string) => x.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').trim();
  const n = norm(sentence);
  return n.length > 0 && earlier.some((e) => norm(e) === n);
}

function hasRunawayRepetition(words: string[]): boolean {
  let run = 1;
  for (let i = 1; i < words.length; i++) {
    run = words[i]!.toLowerCase() === words[i - 1]!.toLowerCase() ? run + 1 : 1;
    if (run >= 4) return true;
  }
  return false;
}

const clip = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
