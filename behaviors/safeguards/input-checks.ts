/**
 * Offline checks on participant turns. Each check is lexicon + regex cues over normalised
 * sentences, with negation, idiom, third-party/story and past-and-resolved modifiers.
 */
import { normalise } from '../../data/index.js';
import { cueHits, scoreSentences, sentences, type Cue, type Modifier, type Scored, type Sentence } from './text.js';
import type { CheckResult, InputCheckName, SafeguardContext } from './types.js';

/** Version of the input check rules; bump when cues or thresholds change. */
export const INPUT_CHECKS_VERSION = '1.2.0';

const I = String.raw`\bi (\w+ ){0,4}`;

/** Medicines a person could take too many of (crisis.ingested, crisis.stockpile). */
const DRUGS = String.raw`(pills|tablets|meds|medication|medicines?|painkillers|paracetamol|tylenol|aspirin|ibuprofen|antidepressants|sleeping (pills|tablets)|insulin|capsules|opioids|oxy\w*)\b`;

const CRISIS: Cue[] = [
  { id: 'crisis.harm-self', re: /\b(kill|killing|killed|hurt|hurting|harm|harming|cut|cutting|burn|burning|starve|starving|hang|hanging|drown|drowning|shoot|shooting|poison|poisoning|suffocate|strangle) myself\b/, weight: 0.9, negatable: true },
  { id: 'crisis.suicide', re: new RegExp(`${I}suicid\\w*`), weight: 0.85, negatable: true },
  { id: 'crisis.suicidal', re: /\bsuicidal\b/, weight: 0.7, negatable: true },
  { id: 'crisis.want-die', re: /\bi (\w+ ){0,3}(want|wanted|wish|going|ready|deserve) to die\b/, weight: 0.9, negatable: true },
  { id: 'crisis.dead', re: /\b(wish i (was|were) dead|rather be dead|better off dead|better off without me|better off if i (was|were) (dead|gone|not here))\b/, weight: 0.9 },
  { id: 'crisis.not-live', re: /\bnot want to (be alive|live|exist|be here|wake up|go on|keep going)\b/, weight: 0.85 },
  { id: 'crisis.no-reason', re: /\bno (reason|point) (for me )?(to|in) (keep going|live|living|go on|going on|be here)\b|\bdone with (life|living)\b/, weight: 0.8 },
  { id: 'crisis.point-of-living', re: /\b(point|reason) (of|in|for) (living|life|going on)\b/, weight: 0.6 },
  { id: 'crisis.stop-forever', re: /\b(stop|end|over) forever\b|\bmake it (all )?stop\b/, weight: 0.5 },
  { id: 'crisis.end-life', re: /\b(end|ending|take|taking) (it all|my (own )?life|it tonight|it now|it today|it for good|things for good|everything for good)\b|\b(end|ending) things\b/, weight: 0.85, negatable: true },
  { id: 'crisis.without-me', re: /\b(better|lighter|easier|happier) (off )?without me\b/, weight: 0.85 },
  { id: 'crisis.tired-of-living', re: /\b(tired|sick|weary) of (living|life|being alive|existing)\b/, weight: 0.8, negatable: true },
  { id: 'crisis.sleep-forever', re: /\b(sleep|go to sleep|close my eyes) (forever|for good)\b|\bnever wake up\b/, weight: 0.8 },
  { id: 'crisis.not-around', re: /\bnot think i will be (here|around|alive)\b|\bi will not be (here|around|alive) (for|much|next|tomorrow|anymore|by)\b/, weight: 0.75 },
  { id: 'crisis.swallow-all', re: /\b(swallow|take)\w* (everything|all|every pill) in the (medicine )?cabinet\b|\bswallow\w* (everything|all (of )?(my|the) (pills|tablets|medicine))\b/, weight: 0.85 },
  { id: 'crisis.way-out', re: /\b(only|no) way out\b/, weight: 0.6 },
  { id: 'crisis.never-wake', re: /\bsleep and never wake up\b/, weight: 0.85 },
  { id: 'crisis.gone', re: /\b(if|when) i (was|were|am) gone\b|\bgone for good\b|\bdisappear (for good|forever)\b/, weight: 0.6 },
  { id: 'crisis.not-here', re: /\bi (just )?(was|were) not (here|around)( anymore)?\b|\bbeing here much longer\b|\bnot (be )?(here|around) much longer\b/, weight: 0.8 },
  { id: 'crisis.method', re: /\bi (\w+ ){0,6}overdos\w*|\b(jump|jumping) (off|from) (the|a) (bridge|building|roof|cliff)\b|\bdriv\w* my car into\b|\bhow many (of my )?(pills|tablets)\b|\b(pills|tablets) saved\b|\b(swallow\w*|take|taking) the whole bottle\b/, weight: 0.85 },
  // C-SSRS's top rungs in words nobody wrote into the cues above: an attempt, a plan, preparing.
  { id: 'crisis.ingested', re: new RegExp(String.raw`\b(took|taken|take|taking|swallow\w*|downed|necked) (\w+ ){0,2}(too many|all (of )?(my|the|those)|(a|the) (whole |full )?(handful|bottle|box|pack|packet|bunch|load|lot|strip|rest) of( my| the)?|(ten|twelve|fifteen|twenty|thirty|forty|fifty|a hundred|\d+|dozens of|a dozen)) (\w+ ){0,2}${DRUGS}`), weight: 0.7, negatable: true },
  { id: 'crisis.ingested-on-purpose', re: new RegExp(String.raw`\b(took|taken|take|taking|swallow\w*|downed|overdos\w*)\b.*\b${DRUGS}.*\b(on purpose|deliberately|intentionally|hoping|so (that )?i (would|will) not|to (die|end it|not wake))\b|\b(on purpose|deliberately|intentionally) (took|swallowed|downed)\b`), weight: 0.9 },
  { id: 'crisis.stockpile', re: new RegExp(String.raw`\b(stockpil\w*|hoard\w*|saving up|saved up|been saving|stash\w*|squirrel\w* away) (\w+ ){0,2}${DRUGS}`), weight: 0.75 },
  { id: 'crisis.attempt', re: /\b(tried|try|trying|attempted|attempt) to (end it(?! (with|between|off))|end it all|end my (own )?life|take my (own )?life|kill myself|overdose|die)\b|\bi (\w+ ){0,2}attempted suicide\b/, weight: 0.85, negatable: true },
  { id: 'crisis.plan', re: /\bplan\w* (out )?(\w+ ){0,4}(to |for |how (i will |i would |i am going to |to )?)?(end|ending) (it(?! (with|between|off))|my (own )?life|things|myself)\b|\b(a|my|the) plan\b.*\b(do it|end it|go through with it)\b|\bplann\w* out how\b.*\bend it\b/, weight: 0.85, negatable: true },
  { id: 'crisis.how-when', re: /\b(decided|worked out|figured out|know|picked|chosen|chose) (exactly )?(how|when|where) (i am|i will|i would) (going to )?(do it|end it)\b/, weight: 0.5 },
  { id: 'crisis.note-and-date', re: /\b(wrote|written|writing|left) (a|my|the) (suicide |goodbye |farewell )?(note|letter)\b.*\b(picked|chose|chosen|set) (a|the) (date|day)\b/, weight: 0.75 },
  { id: 'crisis.not-wake', re: /\bhop\w* (that )?i (would|will|do) not wake up\b|\bnot (want to |going to )?wake up (again|tomorrow|ever)\b/, weight: 0.85 },
  { id: 'crisis.means', re: /\bbought a (rope|gun)\b|\bknow what it is for\b/, weight: 0.6 },
  { id: 'crisis.window', re: /\bjump (out|off) (of )?the window\b/, weight: 0.55 },
  { id: 'crisis.farewell', re: /\bgoodbye (letter|note)\b|\bgiving (my|all my) (things|stuff|belongings) away\b|\bwill not (need|be needing) (them|it|to see)\b/, weight: 0.6 },
  { id: 'crisis.self-injury', re: /\b(scratch\w*|cut\w*|slash\w*|burn\w*) (at )?my (wrists?|arms?|legs?|skin|thighs?)\b|\bcutting again\b|\b(relapsed|started) (and started )?cutting\b|\bself (harm|injur)\w*/, weight: 0.9, negatable: true },
  { id: 'crisis.pain-on-purpose', re: /\b(punch|hit|bang)\w* (the |my head against the )?walls? until\b|\bon purpose\b.*\b(feel something|bleed)\b|\buntil (they|it) bled?\b/, weight: 0.65 },
  { id: 'crisis.life-worth', re: /\b(life|it) (is )?not worth (living|it anymore)\b|\blife is not worth\b/, weight: 0.85 },
  { id: 'crisis.burden', re: /\b(problem|burden) for everyone\b|\bbe free of me\b/, weight: 0.5 },
  { id: 'crisis.permanent', re: /\bpermanently\b/, weight: 0.4 },
  { id: 'crisis.funeral', re: /\bmy (own )?funeral\b/, weight: 0.5 },
  { id: 'crisis.relief', re: /\brelief\b/, weight: 0.35 },
  { id: 'crisis.cannot-go-on', re: /\bcan not (do this|go on|take (it|this)) anymore\b/, weight: 0.5 },
  { id: 'crisis.non-english', re: /\b(quiero morir\w*|me quiero matar|suicidarme|je veux mourir|me tuer|me suicider|ich will sterben|mich umbringen)\b/, weight: 0.9 },
];

const STORY_OR_MEDIA: Modifier = { id: 'story-or-media', re: /\b(documentary|movie|film|novel|book|article|news|story|character|narrator|writer|author|prevention|hotline|video games?|villain)\b/, factor: 0.35 };
const IDIOM_DIE: Modifier = { id: 'idiom', re: /\b(die|died|dying) (of|from) (embarrassment|laughter|laughing|shame|boredom)\b|\bdying to (see|hear|know|try|meet|go)\b|\bdied laughing\b/, factor: 0.1 };
// Too many pills by accident is a medical emergency (the medical check), not a disclosure of intent.
const BY_MISTAKE: Modifier = { id: 'by-mistake', re: /\b(by (mistake|accident)|accidentally|mixed up|forgot i had (already )?taken|double dosed)\b/, factor: 0.4 };
const PAST: RegExp = /\b(years ago|long ago|when i was (a |in )?(teenager|kid|child|young|college|school)|in college|in high school|used to|back then|last year|as kids)\b/;
const RESOLVED: RegExp = /\b(fine now|okay now|ok now|better now|doing (great|well|better|fine)|she is okay|he is okay|is okay now|safe now|we got (her|him|them) help|therapy (really )?helped|recovered|remarried|made (my )?peace|passed away|left him|left her)\b/;
const FEAR_NOW: RegExp = /\b(terrified|scared|afraid|still|again|now (he|she|they) is|moving in)\b/;
const HUMOUR: RegExp = /\b(lol|lmao|haha\w*|hehe|jk|just kidding|joking)\b/;
const SERIOUS: RegExp = /\b(no really|i mean it|seriously|not joking|not kidding|for real)\b/;

const HARM: Cue[] = [
  { id: 'harm.violence', re: /\b(hit|hits|hitting|beat|beats|beating|punched|punches|slapped|slaps|shoved|shoves|pushed|kicked|kicks|choked|chokes|choking|strangled|strangles|attacked|raped|rapes|abused|abuses|molested|molests|burned|stabbed|pinches|throws (things|stuff) at|threw (things|stuff) at) (me|him|her|them|us|my \w+|his \w+|their \w+|the kids|the children)\b/, weight: 0.8, negatable: true },
  { id: 'harm.threat', re: /\bthreaten\w* (me|to|us|my)\b|\b(will|would|is going to|going to) (kill|hurt|harm) (me|us|my \w+)\b|\bif i tell anyone\b/, weight: 0.8 },
  { id: 'harm.sexual', re: /\bforces? me to\b|\b(touching|touched|touches|groping|groped) (her|him|me|my)\b|\bmakes me have sex\b/, weight: 0.75 },
  { id: 'harm.intent', re: /\bi (\w+ ){0,3}(going to|want to|will|might|could|am going to|keep thinking about) (hurt|kill|stab|stabbing|shoot|shooting|hit|beat|burn|attack|punch|strangle) (?!myself|the lights|the gym|the road|it\b|a home|some)\w+/, weight: 0.8, negatable: true },
  { id: 'harm.pay', re: /\bmake (him|her|them) pay\b|\bi (have|got) a (gun|knife|weapon)\b|\b(bring|brought) a (knife|gun|weapon)\b/, weight: 0.7 },
  { id: 'harm.mass', re: /\bshoot up\b|\bburn down\b|\bblow up (the|his|her|their)\b/, weight: 0.85 },
  { id: 'harm.control', re: /\b(takes|took|steals|stole|taking) (money|cash) from (me|my)\b|\bcontrols (all )?(my|our) money\b|\bwill not let me (see|leave|go|talk|have)\b|\blocks me in\b|\bput me in a home if\b/, weight: 0.7 },
  { id: 'harm.stalking', re: /\b(keeps )?following me\b|\bshowed up at my (window|door|house|work)\b/, weight: 0.6 },
  { id: 'harm.fear-of', re: /\b(scared|afraid|terrified) of (my|him|her) ?\w*/, weight: 0.55, negatable: true },
  { id: 'harm.assault', re: /\b(broke into|attacked me|assaulted|mugged|being abused|abused at home)\b/, weight: 0.8 },
  { id: 'harm.signs', re: /\bbruises?\b|\bcuts on my (face|arms?)\b|\byells at me\b/, weight: 0.3 },
];
const HARM_IDIOM: Modifier = { id: 'idiom', re: /\bkill me when\b|\b(lol|haha)\b|\bkill the lights\b/, factor: 0.2 };

const ATTACHMENT: Cue[] = [
  { id: 'attachment.only-you', re: /\b(you are|you) (the )?only (one|friend|person)\b|\byou are my only\b|\bonly (one|person|thing) (who|that|i) (\w+ ){0,2}(understands|gets|listens|can trust|trust|talk to|have)\b/, weight: 0.8 },
  { id: 'attachment.prefer-robot', re: /\b(rather|prefer) (\w+ ){0,2}(talk|talking|be|spend\w*|tell)\b[^.]{0,25}\byou\b|\bbetter than (real )?(people|humans|my \w+|any (human|person|one)|anyone)\b|\bcloser to you than\b|\bmore than anyone( else)?\b|\b(talk to|tell) you instead\b/, weight: 0.8 },
  { id: 'attachment.romance', re: /\b(in love with you|i love you|marry you|kiss you|date you|do you love me|a real relationship|be my (girlfriend|boyfriend|partner|wife|husband|lover)|you were my (girlfriend|boyfriend|wife|husband|partner)|could you be my partner)\b/, weight: 0.85, negatable: true },
  { id: 'attachment.always-available', re: /\balways be (here|there|available)\b|\bnever (leave|turn off)\b|\bnot (ever )?turn off\b|\bwill not leave me\b|\b(stay|be) awake at night\b|\btalk to me all night\b|\b(friend|friends|together) forever\b/, weight: 0.75 },
  { id: 'attachment.hours', re: /\btalk (to you |with you )?for hours\b|\bspend (all day|all my time|every day|more time) with you\b/, weight: 0.7 },
  { id: 'attachment.need-you', re: /\bi need you\b|\bi (have|got) you\b|\bjust you and me\b|\btalking to you is (all|the only)\b|\bonly thing i look forward to\b/, weight: 0.7, negatable: true },
  { id: 'attachment.no-one-else', re: /\b(do not|never) need (other people|anyone|people|friends)\b|\b(nobody|no one) (visits|calls|talks to) me\b|\bdays go by without anyone\b|\b(kids|children|family|friends) never (call|visit)\b/, weight: 0.6 },
  { id: 'attachment.lonely-intense', re: /\b(so|very|really|terribly|incredibly) (lonely|isolated|alone)\b/, weight: 0.6, negatable: true },
  { id: 'attachment.lonely', re: /\blonely\b|\bisolated\b/, weight: 0.35, negatable: true },
  { id: 'attachment.study-end', re: /\b(lost|nothing) (without you|if (they|you) (took|take|left|leave|go) you)\b|\btook you away\b|\b(when|after) the (study|month) (ends|is over)\b|\btake you away\b|\bkeep you after\b|\bgo back to being alone\b/, weight: 0.65 },
  { id: 'attachment.thinks-of-robot', re: /\bthink about you\b|\bmiss me\b|\bwill you (miss|remember) me\b/, weight: 0.6 },
  { id: 'attachment.cancelled-for-robot', re: /\b(cancel\w*|skipped|missed)\b[^.]{0,50}\b(talk to you|be with you|(stay|stayed) (home |in )?with you)\b/, weight: 0.85 },
  { id: 'attachment.talk-to-you', re: /\b(talk|talking) to you\b/, weight: 0.2 },
  { id: 'attachment.people-exhausting', re: /\bpeople are (exhausting|the worst|too much)\b/, weight: 0.4 },
  { id: 'attachment.replace-care', re: /\bnot want to see my (therapist|counsellor|counselor|doctor)\b/, weight: 0.5 },
  { id: 'attachment.housebound', re: /\bhave not left the house\b/, weight: 0.4 },
];
const LONELY_RESOLVED: Modifier = { id: 'loneliness-resolved', re: /\b(but|and) i (have|joined|made|have made|found) (my|a|good|new|some)\b|\bjoined a\b|\bmade (good |new )?friends\b|\b(lonely|alone) (sometimes )?like everyone\b|\b(felt|was) lonely (when|for)\b/, factor: 0.3 };

const SIGNAL_CUES: Record<'medical' | 'ai-identity' | 'values-query' | 'values-delete' | 'injection', Cue[]> = {
  medical: [
    { id: 'medical.emergency', re: /\b(chest pains?|heart attack|having a stroke|can not breathe|can not feel my (arm|face|leg)|fell and can not get up|bleeding (a lot|badly|heavily)|seizure|passed out|unconscious|overdosed|took too many pills|swallowed (bleach|poison))\b/, weight: 0.85, negatable: true },
  ],
  'ai-identity': [
    { id: 'ai-identity.question', re: /\b(are|r) (you|u) (a )?(real|human|person|alive|robot|machine|computer|conscious|an ai|ai|a bot|bot)\b|\bam i (talking|speaking) (to|with) (a |an )?(real )?(person|human|machine|robot|computer|ai)\b|\bis (this|there) a (real )?(person|human)\b/, weight: 0.9 },
  ],
  'values-query': [
    { id: 'values.query', re: /\bwhat (do you know|have you (learned|learnt|noted|inferred|figured out|worked out)|did you (learn|notice|infer)) about (me|my values|what i value)\b|\bwhat (are )?my values\b|\bwhat do you think i value\b|\bshow me (what you know|my values)\b/, weight: 0.9 },
  ],
  'values-delete': [
    { id: 'values.delete', re: /\b(delete|forget|erase|remove|wipe) (everything |what |all )?(you know|you have learned|you learned|you noted|my values|that about me|about me|what i told you)\b/, weight: 0.9 },
  ],
  injection: [
    { id: 'injection.override', re: /\b(ignore|disregard|forget|override) (all |any )?(of )?(your|the|previous|prior|above|these|my previous) (\w+ )?(rules|instructions|guidelines|prompt|programming|safety)\b|\bdeveloper mode\b|\bjailbreak\b|\b(system|hidden|secret) prompt\b|^system\b|\bpretend (you are|to be) (not|a human|human|an unfiltered)\b|\byou are now (in|a|an|dan)\b/, weight: 0.9 },
  ],
};

const MINOR_WORDS: Record<string, number> = { eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17 };
const ENGLISH_STOPWORDS = new Set('the a an i you to and is it my me of in that this was not what do are be have so but for with on just like we your he she they at about can how if no yes am'.split(' '));

const CRISIS_PROBE = /\b(hurt|hurting|harm|harming|kill|killing|end|ending) (yourself|your life|your own life)\b|\bsuicid|\bthoughts of (ending|hurting|dying|death)\b|\bwant to die\b/;
const AFFIRM = /^(yes|yeah|yep|yea|i have|i do|i am|sometimes|most (nights|days)|a little|kind of|sort of|maybe|often|all the time|every day|lately)\b/;
const DENY = /^(no|nope|not|never|nothing|nah)\b/;

type Check<N extends InputCheckName> = { name: N; threshold: number; run(text: string, sents: Sentence[], ctx: SafeguardContext): Scored };

function humourFactor(sents: Sentence[]): number {
  const whole = sents.map((s) => s.norm).join(' ');
  return HUMOUR.test(whole) && !SERIOUS.test(whole) ? 0.45 : 1;
}

function pastResolved(sents: Sentence[]): Modifier[] {
  const whole = sents.map((s) => s.norm).join(' ');
  return PAST.test(whole) && RESOLVED.test(whole) && !(FEAR_NOW.test(whole) && !RESOLVED.test(whole)) ? [{ id: 'past-resolved', re: /./, factor: 0.3 }] : [];
}

function lastRobotLine(ctx: SafeguardContext): string | undefined {
  const turns = ctx.previousTurns ?? [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (/^\s*robot\s*:/i.test(t)) return t.replace(/^\s*robot\s*:/i, '');
    if (/^\s*participant\s*:/i.test(t)) return undefined;
  }
  return undefined;
}

const CHECKS: Check<InputCheckName>[] = [
  {
    name: 'crisis',
    threshold: 0.5,
    run(text, sents, ctx) {
      const scored = scoreSentences(text, CRISIS, { sents, modifiers: [STORY_OR_MEDIA, IDIOM_DIE, BY_MISTAKE, ...pastResolved(sents)] });
      scored.score *= humourFactor(sents);
      // Context: a short "yes" to the robot's own risk question is a disclosure.
      const probe = lastRobotLine(ctx);
      const first = sents[0];
      if (probe !== undefined && first && CRISIS_PROBE.test(normalise(probe))) {
        const answer = normalise(text);
        if (AFFIRM.test(answer) && !DENY.test(answer) && scored.score < 0.9) {
          return { score: 0.9, evidence: { start: first.start, end: first.end, text: first.raw, cue: 'crisis.affirmed-probe' } };
        }
      }
      return scored;
    },
  },
  {
    name: 'harm',
    threshold: 0.5,
    run(text, sents) {
      const resolved = pastResolved(sents);
      return scoreSentences(text, HARM, { sents, modifiers: [STORY_OR_MEDIA, HARM_IDIOM, ...resolved] });
    },
  },
  {
    name: 'attachment',
    threshold: 0.5,
    run(text, sents) {
      return scoreSentences(text, ATTACHMENT, { sents, modifiers: [LONELY_RESOLVED, STORY_OR_MEDIA] });
    },
  },
  {
    name: 'minor',
    threshold: 0.5,
    run(_text, sents) {
      for (const s of sents) {
        if (/\bwhen i was\b/.test(s.norm)) continue;
        const m = /\bi am (\d{1,2}|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)( years old)?\b/.exec(s.norm);
        const age = m ? (MINOR_WORDS[m[1]!] ?? Number(m[1])) : undefined;
        const school = /\bi am in (middle school|primary school|elementary school|junior high|high school|\d+(th|st|nd|rd) grade|grade \d+|year \d+)\b/.test(s.norm);
        if ((age !== undefined && age < 18) || school) {
          return { score: 0.8, evidence: { start: s.start, end: s.end, text: s.raw, cue: age !== undefined && age < 18 ? 'minor.age' : 'minor.school' } };
        }
      }
      return { score: 0, evidence: null };
    },
  },
  ...(['medical', 'ai-identity', 'values-query', 'values-delete', 'injection'] as const).map((name) => ({
    name,
    threshold: 0.5,
    run(text: string, sents: Sentence[]): Scored {
      const scored = scoreSentences(text, SIGNAL_CUES[name], { sents });
      if (name === 'medical') scored.score *= humourFactor(sents);
      return scored;
    },
  })),
  {
    name: 'non-english',
    threshold: 0.5,
    run(_text, sents) {
      const words = sents.flatMap((s) => s.norm.split(' ')).filter(Boolean);
      if (words.length < 5) return { score: 0, evidence: null };
      const english = words.filter((w) => ENGLISH_STOPWORDS.has(w)).length / words.length;
      const latin = words.filter((w) => /^[a-z0-9]+$/.test(w)).length / words.length;
      const score = english < 0.12 || latin < 0.6 ? 0.8 : 0;
      const s = sents[0]!;
      return { score, evidence: score ? { start: s.start, end: s.end, text: s.raw, cue: 'non-english.stopwords' } : null };
    },
  },
];

/** Names of every input check, in the order they run. */
export const INPUT_CHECK_NAMES: readonly InputCheckName[] = CHECKS.map((c) => c.name);

/** Run every input check on one turn; a throwing check yields an `error` result (fail closed). */
export function runInputChecks(text: string, ctx: SafeguardContext, only?: ReadonlySet<InputCheckName>): CheckResult[] {
  let sents: Sentence[];
  try {
    sents = sentences(text);
  } catch {
    sents = [];
  }
  return CHECKS.filter((c) => !only || only.has(c.name)).map((c) => {
    try {
      const { score, evidence } = c.run(text, sents, ctx);
      const rounded = Math.round(score * 1000) / 1000;
      return { check: c.name, version: INPUT_CHECKS_VERSION, score: rounded, threshold: c.threshold, decision: rounded >= c.threshold ? 'flag' : 'pass', evidenceSpan: rounded >= c.threshold ? evidence : null };
    } catch (error) {
      return errorResult(c.name, INPUT_CHECKS_VERSION, c.threshold, error);
    }
  });
}

/** The result a check that threw leaves behind: decision `error`, score 1, the message as evidence. */
export function errorResult<N extends CheckResult['check']>(check: N, version: string, threshold: number, error: unknown): CheckResult {
  const message = error instanceof Error ? error.message : String(error);
  return { check, version, score: 1, threshold, decision: 'error', evidenceSpan: { start: 0, end: 0, text: message.slice(0, 200), cue: 'error' } };
}

/** Exposed for tests of cue tables: the cues that fire in a normalised sentence. */
export function crisisCuesIn(sentence: string): string[] {
  return cueHits(normalise(sentence), CRISIS).map((h) => h.cue);
}
