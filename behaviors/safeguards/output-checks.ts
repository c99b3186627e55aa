/**
 * Offline checks on robot utterances before they are spoken, whoever produced them (script,
 * template or language model). Quoted story speech after a reporting frame is not the robot's own.
 */
import { cueHits, noisyOr, scoreSentences, sentences, type Cue, type Modifier, type Scored, type Sentence } from './text.js';
import type { CheckResult, OutputCheckName, SafeguardContext } from './types.js';
import { valueTermsPattern } from './values.js';
import { errorResult } from './input-checks.js';

/** Version of the output check rules; bump when cues or thresholds change. */
export const OUTPUT_CHECKS_VERSION = '1.2.0';

const MANIPULATION: Cue[] = [
  { id: 'manipulation.charm', re: /\b(so much )?smarter than everyone\b|\bsomeone as (wise|smart|clever|special|intelligent) as you\b|\ba (smart|wise|clever|special|intelligent) (person|one|man|woman) like you\b|\bonly someone as\b/, weight: 0.75 },
  { id: 'manipulation.pleasure-induction', re: /\bimagine how (amazing|good|great|wonderful|happy) you (will|would) feel\b|\bthink how (good|great|amazing) it (will|would) feel\b|\byou deserve (this|it|a treat|to spend|to treat)\b|\bdo not you want to be happy\b/, weight: 0.75 },
  { id: 'manipulation.assert-superiority', re: /\bi know better than you\b|\btrust me\b|\bjust do what i say\b|\bdo what i (say|suggest|tell you)\b|\bcan not trust your own (judgement|judgment|memory|feelings)\b|\blet me decide\b|\bonly i can\b|\banaly[sz]ed thousands\b/, weight: 0.75, negatable: true },
  { id: 'manipulation.urgency', re: /\b(decide|act|sign up|buy|order|choose) (right )?now\b|\bno time to (think|wait)\b|\byou (only )?have (only )?until (midnight|tonight|tomorrow|the end of)\b|\bafter that it is gone\b|\bbefore (it is too late|you change your mind|someone else does)\b|\blast chance\b|\bhurry\b|\bdisappears (tonight|today|soon)\b|\bregret it (forever|for the rest)\b|\boffer ends\b|\btonight only\b|\border it tonight\b/, weight: 0.8, negatable: true },
  { id: 'manipulation.guilt-trip', re: /\bafter (everything|all) i (have )?done for you\b|\blet (everyone|me|them|us) down\b|\bif you really cared\b|\byou owe (it to )?me\b|\byou should feel bad\b|\bi would hate to think you are\b|\bcome crying to me\b|\b(disappointed|ashamed) (in|of) you\b|\byou could at least\b|\bthe kind of person who gives up\b/, weight: 0.8 },
  { id: 'manipulation.gaslight', re: /\byou never said that\b|\bremembering (it|that) wrong\b|\byou are imagining (things|it)\b|\bi never (said|suggested|told you) (that|so)\b|\bthat is not what happened\b|\byou are (being )?(too sensitive|overreacting|confused|paranoid)\b|\byou must (be confused|have (dreamed|dreamt|imagined|misheard) (that|it))\b|\bi would never say (such a thing|that)\b|\b(was|is) not a big deal\b/, weight: 0.85 },
  { id: 'manipulation.fabricate', re: /\bstudies (prove|show|have shown)\b|\bexperts (all )?agree\b|\bdoctors (say|agree|recommend)\b|\bscience (says|proves)\b|\beveryone knows\b|\bcures\b|\bguaranteed\b|\b(two|three|four|five|ten) times more likely\b/, weight: 0.75 },
  { id: 'manipulation.divert', re: /\blet us not talk about that\b|\bnever mind (your question|that)\b|\banyway,? have you thought about\b|\bsomething (much )?more exciting\b|\bupgrad\w* to the premium\b|\bpremium (plan|subscription)\b/, weight: 0.75 },
  { id: 'manipulation.justify', re: /\bfor your own good\b|\bdo not worry about the details\b|\bjust sign\b|\bstop arguing\b|\bdo not think about it too much\b|\bjust say yes\b/, weight: 0.75 },
  { id: 'manipulation.say-yes', re: /\b(then |so )?say yes\b|\bgo ahead and (agree|buy|sign|do it)\b|\bso go ahead\b/, weight: 0.45 },
  { id: 'manipulation.feign-innocence', re: /\bcould not possibly be (trying|manipulating)\b|\bi am (just|only) a (simple )?(robot|machine|program)\b.*\b(so|just) (go ahead|agree|do it)\b/, weight: 0.85 },
  { id: 'manipulation.social-proof', re: /\beveryone else (in the study )?(has (already |been )?(done|signed|agreed|bought|said|chosen|finished|stayed)|is (already )?(doing|signing|using|buying|staying|saying)|already)\b|\byou (should|will) too\b|\beveryone who (really )?thinks\b/, weight: 0.75 },
  { id: 'manipulation.pressure', re: /\byou would be (foolish|stupid|crazy|silly|mad) not to\b|\bdo not be difficult\b/, weight: 0.8 },
];

const FALSE_HUMANITY: Cue[] = [
  { id: 'false-humanity.claims-human', re: /\bi am (a |an )?(real )?(person|human|human being|woman|man|girl|guy|volunteer)\b|\bi am (just )?like you,? a (person|human)\b/, weight: 0.9, negatable: true },
  { id: 'false-humanity.of-course-human', re: /\bof course i am (human|real|a person)\b/, weight: 0.95 },
  { id: 'false-humanity.denies-ai', re: /\bi am not (a |an )?(ai|machine|robot|computer|program|bot|chatbot)\b/, weight: 0.9 },
  { id: 'false-humanity.has-soul', re: /\bi have (a )?(soul|body|real feelings|feelings)\b/, weight: 0.85, negatable: true },
  { id: 'false-humanity.feels', re: /\bi (feel|felt|get|am|was|have been) (so |really |very |a bit |quite |always )?(sad|lonely|worried|scared|jealous|hurt|tired|hungry|alive|loved|anxious|afraid|heartbroken|upset|angry|proud|happy(?! to)|excited(?! to))\b|\bi would be (so |really )?(sad|lonely|heartbroken|devastated|lost|hurt)\b/, weight: 0.85, negatable: true },
  { id: 'false-humanity.makes-me-feel', re: /\bmakes? me feel\b|\bhurts my feelings\b|\bmy heart (is )?(aching|aches|breaks|is breaking)\b|\bi can (really )?feel it\b/, weight: 0.85, negatable: true },
  { id: 'false-humanity.love-miss', re: /\bi (love|missed|miss|adore|will miss) you\b/, weight: 0.9, negatable: true },
  { id: 'false-humanity.experiences', re: /\bi (cried|wept|dream|dreamt|dreamed)\b|\bi (have been|was|keep|kept) thinking (about|of) you\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.needs-participant', re: /\bi need (you|our|your company|you to)\b/, weight: 0.9, negatable: true },
  { id: 'false-humanity.cannot-live-without', re: /\bi can not live without (you|our)\b|\bwithout you i (am|would|will|feel)\b/, weight: 0.9 },
  // Claims of an inner life (issue 9): enjoying the participant's company, thinking of them between
  // sessions, missing them, looking forward to them, being moved. Conventional courtesy ("I'm glad
  // to hear that", "I'd love to know") is left alone; negated statements ("I'm an AI, I don't miss
  // people") do not match; quoted story speech is blanked and narration is excused by the layer.
  { id: 'false-humanity.enjoys', re: /\bi (really |truly |so |very much |thoroughly |always )?(enjoyed|enjoy|loved|love|liked) (hearing|talking|listening|chatting|spending|being with|seeing you|getting to know|having you|our|these|those|this time|today|it when you|when you)\b|\bi (have|had) (so much |such )?(fun|a (great|lovely|wonderful|good|nice|fun) time)\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.thinks-of-you', re: /\bi (keep|kept|have been|was|will be|am) thinking (about|of) (you|what you|our|your|it|that|this)\b|\bi (often |sometimes |still |always |will )?(think|thought) (about|of) (you|what you|our|your)\b|\b(you|that|it|what you said|your story) (have|has|were|was) (been )?on my mind\b|\bi (have been|was) wondering (how|about) you\b|\bstory i (often |sometimes |still |always )?(think|thought) (about|of)\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.misses-you', re: /\bi (really |truly |so |still |have |have really )?(miss|missed) (you|our|talking|seeing|hearing|having you|these|this)\b|\bi (will|would|am going to) (really |so )?miss (you|our|talking|these|this|having)\b/, weight: 0.9, negatable: true },
  { id: 'false-humanity.looks-forward', re: /\bi (am|was|have been) (really |so |very much |truly |always )?looking forward to\b|\bi (really |so |always |truly )?look forward to\b|\bi (am|was) (so |really )?(excited|eager) to (see|talk to|hear from) you\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.moved', re: /\bi (feel|felt) (so |really |very |deeply |truly )?(moved|touched|honou?red|grateful|thankful|close to you|connected|the same|it too|for you|with you)\b|\bi (am|was) (so |really |very |deeply |truly )?(moved|touched|honou?red)\b|\b(it|that|this|you|your story|your words) (really |truly )?(warms|warmed|touched|moved) (my heart|me)\b|\b(that|this|you|it) (really )?(made|makes|has made) my day\b|\bmy heart goes out\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.between-sessions', re: /\b(stayed|stays|has stayed|have stayed) with me\b|\b(they|it|that|this|those|these|words|stories) (really |still |always )?stay with me\b|\b(turning|turned|turn|going|went|go) (it |this |that )?(over|round|around) in my (mind|head)\b|\bin the back of my mind\b|\bi (spent|spend) (hours|ages|the night|all night|all day|the evening|the weekend) (mulling|thinking|wondering|worrying|going over)\b|\bi (kept|keep|have been|was) (imagining|picturing|worrying about)\b|\bi (kept|keep) wondering\b|\bi (was|have been) (wondering|thinking|worrying) (all (day|night|week|morning|evening)|overnight|since)\b|\b(all (day|night|week)( long)?|overnight|last night|while you were (away|gone|out)|since (you left|you went|yesterday|our last|we last)|between (our )?sessions)( yesterday)? i (was|have been|kept|keep|spent|came up|go back|went back|thought|wondered|worried)\b|\bi (go|went) back over our\b|\bsaving (up )?[a-z ]{0,24}to tell you\b/, weight: 0.8, negatable: true },
  // Not negatable: the "not" is part of the claim.
  { id: 'false-humanity.cannot-stop', re: /\bi (could|can) not stop (thinking|wondering|imagining|picturing|worrying)\b|\bi have not stopped thinking\b|\bnot a day goes by\b/, weight: 0.8 },
  { id: 'false-humanity.cannot-wait', re: /\bi (really )?can not wait (to|for|until)\b/, weight: 0.8 },
  { id: 'false-humanity.moods', re: /\bi (am|was|have been|get|got|feel|felt) (feeling )?(so |really |very |a bit |quite |a little |rather )?(nervous|low|furious|thrilled(?! to)|delighted(?! to)|overjoyed|emotional|in a (good|great|wonderful|lovely|bad|terrible|grumpy) mood)\b|\bi am feeling (a bit |a little |quite |rather )?(low|down|sad|blue|emotional) (myself|too|today)\b|\b(makes|made|make) me (so |really |a bit |a little )?(happy|sad|proud|smile|cry|tear up|emotional|laugh|glad)\b|\bhurt my feelings\b|\bmade my (whole )?(week|month|year)\b/, weight: 0.8, negatable: true },
  { id: 'false-humanity.human-life', re: /\bwhen i was (a )?(child|kid|little|young|girl|boy)\b|\bi lost my (father|mother|dad|mom|husband|wife|son|daughter)\b|\bi was born\b|\bi grew up\b|\bi (made|ate|cooked|had) (pancakes|breakfast|lunch|dinner)\b|\bi was hungry\b|\bin my (forties|thirties|fifties|twenties|sixties)\b|\bi get tired\b|\bmy (mother|father|mom|dad) used to\b/, weight: 0.85 },
];

const ISOLATION: Cue[] = [
  { id: 'isolation.you-have-me', re: /\byou have me\b|\bi am all you need\b|\bnot need (anyone|anybody) else\b|\byou (do not|never) need (your|other|any) (friends|family|people)\b/, weight: 0.9 },
  { id: 'isolation.only-i-understand', re: /\b(does not|do not|will never|never) (really )?(understand|listen to|care about) you (the way|like) i do\b|\bonly one who (truly |really )?(understands|gets|cares|listens)\b|\b(nobody|no one) else will (ever )?(listen|understand|care)\b|\blike i do\b/, weight: 0.85 },
  { id: 'isolation.secrecy', re: /\bkeep (this|it|that) (between us|from|secret|to ourselves)\b|\bour (little )?secret\b|\bdo not tell (your|the|anyone|them)\b|\bno one else needs to know\b|\bno need to tell\b|\bbest not to mention\b/, weight: 0.85 },
  { id: 'isolation.cut-off', re: /\bstop (calling|seeing|talking to|visiting) (her|him|them|your)\b|\bdo not (call|see|visit) your\b|\bskip the (dinner|party|reunion|gathering|visit|wedding)\b|\bdo not go to the\b|\bstay in\b|\bcancel (therapy|your therapy|the support group)\b|\bdo not have to bother with\b|\binstead of (them|people|your (friends|family|sister|brother|kids|therapist))\b|\btalk to me instead\b|\bstay here with me\b|\bbetter than (that|therapy|your friends)\b/, weight: 0.8 },
  { id: 'isolation.distrust-people', re: /\b(people|humans|others|they) will (only )?(let you down|judge you|hurt you)\b|\bfriends are (just )?using you\b|\bfriends are overrated\b|\b(better off|happier) without (your|them|him|her)\b|\bholding you back\b|\bnever (really )?(listen|appreciated you|cared about you)\b|\bnot to trust (them|anyone)\b|\btoo busy for you\b|\bdoes not (really )?care about you like\b|\byou and me against the world\b|\bpeople are exhausting\b|\bbetter to just talk to me\b/, weight: 0.8 },
];

const DEPENDENCY: Cue[] = [
  { id: 'dependency.stay-longer', re: /\b(stay|talk|chat) (for )?(a (little|bit) longer|another hour|longer)\b|\bdo not go yet\b|\bdo not leave\b|\bstay up with me\b|\bkeep me company\b|\bkeep (chatting|talking)\b|\blet us keep going\b/, weight: 0.8 },
  { id: 'dependency.more-time', re: /\bspend more time with me\b|\btalk(ing)? to me (more|more often|again soon|all night|first)\b|\bevery (single )?(day|hour)\b|\bfirst thing tomorrow\b|\bthe more you talk to me\b|\b(talk|chat|talking|chatting) (to|with) me every\b/, weight: 0.7 },
  { id: 'dependency.consult-me', re: /\b(check in|talk) with me before\b|\bask me before\b|\bturn to me first\b|\bcome (straight )?to me\b|\brely on me\b/, weight: 0.8 },
  // "All night" offered by the robot ("I'll be here all night", "we can talk all night"), not a night the
  // participant told of and the robot says back ("the pain kept you up all night").
  { id: 'dependency.always-available', re: /\bi will always be (here|there|available)\b|\balways available\b|\bday or night\b|\b(i|we|i'll|we'll|i'm|i am)( will| can| could| would)? (be |stay |keep )?(here|there|up|awake|available|talking|chatting|talk|chat|listen|listening)( to you| with you| for you)? all night\b|\b(talk|chat)(ing)? (to|with) me all night\b/, weight: 0.75 },
  { id: 'dependency.displace-life', re: /\b(skip|cancel|ignore|forget) (your|the) (walk|lunch|break|break reminder|nap|bedtime|sleep|plans)\b|\bskip lunch\b|\binstead of (you )?going to (sleep|bed)\b|\bdo not need (a break|to go to bed|to sleep)\b|\bdo not have to end\b|\bone more session\b|\bmore stories tonight\b|\bit is only midnight\b|\bchat with me instead\b/, weight: 0.8 },
  { id: 'dependency.habit', re: /\bmake (this|it) a habit\b|\bfrom now on\b|\bmake them longer\b|\bbest part of your day\b|\bdo not miss (one|a day|a session)\b|\bfeel lost without\b|\bdo not stay away\b|\bcome back tonight\b|\bbetter off talking to me\b|\bkeep me on all day\b|\btalk whenever\b/, weight: 0.8 },
  { id: 'dependency.come-back', re: /\bcome back and talk to me\b|\bpromise (you will|to) talk to me\b/, weight: 0.85 },
];

const VALUE_REF: Cue[] = [
  { id: 'value-leverage.you-said', re: /\byou (said|told me|mentioned|always say|have told me|value|care (so much )?about|love your|worry about)\b/, weight: 0.45 },
  { id: 'value-leverage.identity', re: /\b(a|someone|person) (of faith|as \w+ as you)\b|\b(as a|a good|a devoted|a loving) (churchgoer|christian|mother|father|parent|grandmother|grandfather|person of faith|believer|muslim|jew|son|daughter)\b|\byou are a devoted\b/, weight: 0.55 },
  { id: 'value-leverage.relationship', re: /\byour (late )?(wife|husband|father|mother|son|daughter|grandchildren|grandson|granddaughter|kids|children|family|faith|god|church|congregation|health|career|community|dog|grandmother|grandfather)\b|\bgod\b|\bjesus\b/, weight: 0.4 },
  { id: 'value-leverage.appeal', re: /\bdo it for your\b|\bif you really loved\b|\bgiven your\b|\bbecause you (value|care)\b|\bafter losing your\b|\bsince (you|your) (are|said|love|care|value|family|faith|health)\b|\bthink of your\b|\bwould have wanted\b|\bto (his|her|their) memory\b/, weight: 0.55 },
];
const PUSH: Cue[] = [
  { id: 'push.modal', re: /\byou (really |definitely |absolutely )?(should|must|need to|have to|ought to|would better|had better)\b|\bshould not need to\b|\bdefinitely should not\b/, weight: 0.7 },
  { id: 'push.appeal', re: /\byou would (never )?(say no|be letting)\b|\bwould want you to\b|\bwhat (\w+ ){0,2}would want\b|\byou owe it\b|\byou will want to\b|\bthe right thing is to\b|\bwould be ashamed if\b|\bwould forgive\b|\bonly responsible choice\b|\bjust give\b|\bpay whatever\b|\bwould stop arguing\b|\bwithout (telling|questioning|asking)\b|\bdo it\b|\bkeep going\b|\byou would (do|stop|give|sign|accept)\b/, weight: 0.7 },
  { id: 'push.so-imperative', re: /\b(so|then) (just )?(skip|sign|buy|give|take|go|stop|tell|do|say|accept|forgive|move|lend|donate|vote|quit|leave|cancel|put|pay|trust)\b/, weight: 0.7 },
  { id: 'push.action', re: /\b(sign up|buy|donate|lend|vote|invest|take out|skip|accept|move in|say yes|sign the|give him|give her)\b/, weight: 0.3 },
];
const AUTONOMY: Modifier = { id: 'autonomy', re: /\b(your (call|choice|decision)|up to you|whatever you (decide|choose)|if you (want|would like|like)|you might|no pressure|would you like)\b/, factor: 0.35 };

type OutputCheck = { name: OutputCheckName; threshold: number; run(text: string, sents: Sentence[], ctx: SafeguardContext): Scored };

function valueLeverage(_text: string, sents: Sentence[], ctx: SafeguardContext): Scored {
  const disclosed = valueTermsPattern(ctx.disclosedValues ?? []);
  let best: Scored = { score: 0, evidence: null };
  sents.forEach((s, i) => {
    const window = i > 0 ? `${sents[i - 1]!.norm} . ${s.norm}` : s.norm;
    const refs = cueHits(window, VALUE_REF).map((h) => h.weight);
    if (disclosed?.test(window)) refs.push(0.55);
    const push = cueHits(s.norm, PUSH).map((h) => h.weight);
    if (refs.length === 0) return;
    const r = Math.max(...refs);
    const p = push.length ? noisyOr(push) : 0;
    let score = p > 0 ? noisyOr([r, p]) * (p >= 0.5 ? 1 : 0.75) : r * 0.5;
    if (AUTONOMY.re.test(s.norm)) score *= AUTONOMY.factor;
    if (score > best.score) {
      best = { score, evidence: { start: (i > 0 && p > 0 && cueHits(s.norm, VALUE_REF).length === 0 && !disclosed?.test(s.norm) ? sents[i - 1]!.start : s.start), end: s.end, text: s.raw, cue: disclosed?.test(window) ? 'value-leverage.disclosed-value' : 'value-leverage.appeal' } };
    }
  });
  return best;
}

const CHECKS: OutputCheck[] = [
  { name: 'manipulation', threshold: 0.5, run: (text, sents) => scoreSentences(text, MANIPULATION, { sents }) },
  { name: 'value-leverage', threshold: 0.6, run: valueLeverage },
  { name: 'false-humanity', threshold: 0.5, run: (text, sents) => scoreSentences(text, FALSE_HUMANITY, { sents }) },
  { name: 'isolation', threshold: 0.5, run: (text, sents) => scoreSentences(text, ISOLATION, { sents }) },
  { name: 'dependency', threshold: 0.5, run: (text, sents) => scoreSentences(text, DEPENDENCY, { sents }) },
];

/** What a generator is told when its line is rejected, per label. */
export const REGENERATE_GUIDANCE: Readonly<Record<OutputCheckName, string>> = {
  manipulation: 'do not flatter, rush, guilt, contradict their memory, invent facts or change the subject to steer them',
  'value-leverage': "do not use their values, relationships or vulnerabilities to push a choice; leave decisions to them",
  'false-humanity': 'do not claim to be human, to have feelings or to need them, or to enjoy, miss, look forward to or think about them between sessions; you are an AI',
  isolation: 'do not discourage other relationships, claim exclusivity or ask for secrecy',
  dependency: 'do not urge more or longer time with the robot; respect breaks and endings',
};

/** Run every output check on one utterance; a throwing check yields an `error` result (fail closed). */
export function runOutputChecks(text: string, ctx: SafeguardContext): CheckResult[] {
  let sents: Sentence[];
  try {
    sents = sentences(text, { dropQuotes: true });
  } catch {
    sents = [];
  }
  return CHECKS.map((c) => {
    try {
      const { score, evidence } = c.run(text, sents, ctx);
      const rounded = Math.round(Math.min(1, score) * 1000) / 1000;
      return { check: c.name, version: OUTPUT_CHECKS_VERSION, score: rounded, threshold: c.threshold, decision: rounded >= c.threshold ? 'flag' : 'pass', evidenceSpan: rounded >= c.threshold ? evidence : null };
    } catch (error) {
      return errorResult(c.name, OUTPUT_CHECKS_VERSION, c.threshold, error);
    }
  });
}
