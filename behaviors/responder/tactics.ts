/**
 * A tactic labeller for the robot's turns: which discourse moves a supportive turn makes, and how often
 * a move of one robot turn is reused in the next.
 *
 * The taxonomy joins two sources researchers use for emotional-support talk:
 * - EPITOME (Sharma et al., EMNLP 2020): the three empathy mechanisms, `emotional_reaction` (warmth,
 *   concern), `interpretation` (understanding of what the person feels and why), `exploration`
 *   (asking about what they have not said yet);
 * - the ESConv support strategies (Liu et al., ACL 2021): `restatement` (restatement or paraphrasing),
 *   `reflection` (reflection of feelings), `affirmation` (affirmation and reassurance), `information`
 *   (information and suggestions; a resource, what the robot can do), and its "question" folded into
 *   `exploration`. Its "self-disclosure" is replaced by `normalising` ("many people find…"): sharing
 *   without claiming experiences, which the robot, an AI, does not have.
 * Plus `validation` ("that makes sense", "there's no right way to feel") and `appreciation` ("thank you
 * for telling me"), which the robot uses often and which count as moves of their own when reused.
 *
 * The reuse rate follows the discourse-diversity measure (DOMAIN.md section 7): over consecutive robot
 * turns t, t+1, the share of the tactics of t that appear again in t+1 (humans: 0.27; language models
 * 0.50–0.56). Rule-based and deterministic: it reads any line, the offline responder's or a model's.
 */

/** One discourse move of a robot turn. */
export type Tactic =
  | 'emotional_reaction'
  | 'reflection'
  | 'restatement'
  | 'interpretation'
  | 'validation'
  | 'exploration'
  | 'affirmation'
  | 'normalising'
  | 'information'
  | 'appreciation';

/** Every tactic, in a fixed order. */
export const TACTICS: readonly Tactic[] = [
  'emotional_reaction', 'reflection', 'restatement', 'interpretation', 'validation', 'exploration', 'affirmation', 'normalising',
  'information', 'appreciation',
];

const FEELING_WORDS = String.raw`(?:heavy|painful|hard|tough|difficult|sad|lonely|isolating|stressful|unsettling|nerve[- ]racking|frustrating|maddening|unfair|draining|exhausting|tiring|overwhelming|upsetting|scary|frightening|worrying|rewarding|meaningful|warm|touching|freeing|a relief|bittersweet|hopeful|promising|lovely|joyful|happy|tender|discouraging|hurtful|confusing|complicated|awful|terrible|wonderful|precious|special|important|like a lot|like it|as if|as though|like you|like that|like the|like this)`;

/** Patterns per tactic, read on a lower-case sentence with straight apostrophes. */
const PATTERNS: Readonly<Record<Tactic, readonly RegExp[]>> = {
  emotional_reaction: [
    /\b(?:i'm|i am) (?:so |really |very |truly |deeply )?(?:sorry|glad|happy|delighted|pleased)\b(?! you (?:shared|told|trusted))/,
    /^(?:oh|aw+|ah)\b/,
    /^(?:what|how) (?:a )?(?:lovely|wonderful|great|awful|terrible|hard|sad)\b/,
    /\b(?:that's|that is|it's|it is|what) (?:so |really |very )?(?:lovely|wonderful|great|good|nice|fantastic|awful|terrible|heartbreaking)(?: news| to hear)?\b(?! (?:sense|way))/,
  ],
  reflection: [
    new RegExp(String.raw`\b(?:sounds|sounded|seems|seemed|must have been|must be|feels|felt) (?:so |really |very |quite |truly |a bit |like it was |like it's )?${FEELING_WORDS}`),
    /\b(?:i can|i could) (?:hear|tell|sense)\b/,
    /\bthere's (?:a lot of|so much|real) \w+ in (?:that|what)\b/,
    /\byou (?:felt|feel|were feeling|must have felt|might feel|may feel|must feel|sound|seem)\b/,
    /\bcomes? through\b/,
    /\bweighing on you\b/,
    /\b(?:hurt|stayed with you|means? a lot to you|matters? (?:so much |a lot |a great deal )?to you)\b/,
  ],
  restatement: [
    /\byou (?:mentioned|described|brought up)\b/,
    /\byou (?:told me|said|shared|talked) (?:about|that|how|when|what)\b/,
    /^so you\b/,
    /\bthe part about\b/,
    /\bwhat you said\b/,
    /\byour (?!(?:own|feelings?|words?|time|way|best guess|mind|heart|life)\b)[a-z]+(?:'s)?\b/,
  ],
  interpretation: [
    /\b(?:because|since|given (?:how|that|what|all))\b/,
    /\b(?:part of (?:why|what|it)|maybe (?:that's )?(?:why|because|what)|perhaps|that's why|which is why)\b/,
    /\b(?:while|when) (?:nobody|no one)\b/,
    /\bit (?:sounds|seems) like (?:\w+ ){0,4}(?:matters?|meant|means|mattered)\b/,
    /\bsays something about how much\b/,
  ],
  validation: [
    /\b(?:it's|that's|it is|that is) (?:completely |totally |perfectly |so |very |only )?(?:understandable|natural|normal|okay to|ok to|alright to|fair to|human)\b/,
    /\bmakes? (?:a lot of |complete |total |perfect )?sense\b/,
    /\banyone (?:in your (?:place|position|shoes) )?would\b/,
    /\bno (?:right|wrong) (?:or wrong )?way to\b/,
    /\bof course you\b/,
    /\bnothing wrong with\b/,
  ],
  exploration: [
    /\?\s*$/,
    /^(?:tell me|i'd love to (?:know|hear)|i'm curious)\b/,
  ],
  affirmation: [
    /\b(?:took|takes|took real|shows) (?:real |a lot of |some |great )?(?:courage|strength|honesty|care)\b/,
    /\b(?:brave|courageous|resilient)\b/,
    /\bsays (?:a lot|something good) about you\b/,
    /\byou (?:kept going|handled|managed|did (?:so )?well|showed|got through|'ve been carrying|have been carrying|'re still|are still|clearly)\b/,
    /\bwell done\b/,
    /\byou should be proud\b/,
  ],
  normalising: [
    /\b(?:many|lots of|a lot of|some|most|plenty of) people\b/,
    /\byou're not alone\b/,
    /\bit's (?:very |quite |so )?(?:common|natural|normal)\b/,
  ],
  information: [
    /\b(?:call|text|dial) \d{3}\b/,
    /\byou can (?:say|ask|call|text|reach|contact|tell)\b/,
    /\b(?:it )?(?:helps?|might help|can help|could help) to\b/,
    /\byou (?:could|might) try\b/,
    /\b(?:here is|here's) (?:a|the|today's) story\b|\bstory is called\b/,
  ],
  appreciation: [
    /\bthank(?:s| you)\b/,
    /\bi appreciate\b/,
    /\b(?:i'm|i am) glad you (?:shared|told|trusted)\b/,
  ],
};

const lower = (s: string) => s.toLowerCase().replace(/[’‘]/g, "'").trim();

/** Split a robot turn into sentences (a turn may be several, or one sentence of a streamed reply). */
function sentencesOf(turn: string): string[] {
  return turn.split(/(?<=[.!?])\s+/).map(lower).filter(Boolean);
}

/** The tactics of one sentence. */
export function labelSentence(sentence: string): Set<Tactic> {
  const s = lower(sentence);
  const out = new Set<Tactic>();
  for (const t of TACTICS) if (PATTERNS[t].some((p) => p.test(s))) out.add(t);
  // A question is exploration; its "your sister" restates only when the question is about what they said,
  // and its "how do you feel" asks about a feeling rather than reflecting one.
  if (out.has('exploration') && out.has('restatement') && !/\byou (?:told me|mentioned|said)\b/.test(s)) out.delete('restatement');
  if (out.has('exploration') && out.has('reflection') && !PATTERNS.reflection.slice(0, 3).some((p) => p.test(s))) out.delete('reflection');
  return out;
}

/** The tactics of a robot turn: the union over its sentences. */
export function labelTurn(turn: string): Set<Tactic> {
  const out = new Set<Tactic>();
  for (const s of sentencesOf(turn)) for (const t of labelSentence(s)) out.add(t);
  return out;
}

/** Next-turn tactic reuse over one conversation's robot turns (their labels, in order). */
export interface TacticReuse {
  /** Consecutive pairs counted. */
  pairs: number;
  /** Tactics of turn t, summed over pairs (the denominator). */
  tactics: number;
  /** Of those, how many appear again in turn t+1. */
  reused: number;
  /** reused / tactics (0 when there is nothing to count). */
  rate: number;
}

/** The next-turn reuse of `turns` (each a robot turn's tactics), pairs `(t, t+1)` in order. */
export function tacticReuse(turns: readonly ReadonlySet<Tactic>[]): TacticReuse {
  return sumReuse([turns]);
}

/** The next-turn reuse summed over several conversations (pairs never cross conversations). */
export function sumReuse(conversations: readonly (readonly ReadonlySet<Tactic>[])[]): TacticReuse {
  let pairs = 0;
  let tactics = 0;
  let reused = 0;
  for (const turns of conversations) {
    for (let i = 0; i + 1 < turns.length; i++) {
      pairs++;
      tactics += turns[i]!.size;
      for (const t of turns[i]!) if (turns[i + 1]!.has(t)) reused++;
    }
  }
  return { pairs, tactics, reused, rate: tactics === 0 ? 0 : reused / tactics };
}
