import { contentWords, DETAIL_STOPWORDS, detectEmotions, detectThemes } from '../../data/index.js';
import { splitSentences } from '../dialogue/sentences.js';

/**
 * Offline, extractive summaries of what a participant shared: the key sentence (turned to the second
 * person, so the robot can say it back), the people, places and feelings mentioned. No model involved:
 * everything kept is the participant's own words or a label found in them.
 */

/** A short summary of one thing a participant shared. */
export interface MemoryNote {
  /** A clause in the second person, e.g. "you went to the coast with your sister". */
  summary: string;
  people: string[];
  places: string[];
  feelings: string[];
  topics: string[];
}

const RELATIONS = ['mother', 'mum', 'mom', 'father', 'dad', 'parents', 'sister', 'brother', 'son', 'daughter', 'children', 'kids', 'grandson',
  'granddaughter', 'grandchildren', 'grandmother', 'grandma', 'grandfather', 'grandpa', 'nan', 'aunt', 'uncle', 'cousin', 'niece', 'nephew',
  'husband', 'wife', 'partner', 'boyfriend', 'girlfriend', 'friend', 'best friend', 'neighbour', 'neighbor', 'boss', 'colleague', 'coworker',
  'doctor', 'nurse', 'teacher', 'dog', 'cat', 'family', 'carer', 'roommate', 'flatmate'];
const PLACE_NOUNS = ['hospital', 'park', 'church', 'mosque', 'temple', 'synagogue', 'school', 'university', 'office', 'beach', 'market',
  'supermarket', 'gym', 'library', 'garden', 'allotment', 'cafe', 'restaurant', 'pub', 'station', 'airport', 'clinic', 'village', 'farm',
  'lake', 'river', 'mountains', 'seaside', 'coast', 'home', 'work', 'cinema', 'theatre', 'pool'];
const NOT_NAMES = new Set(['I', 'I\'m', 'I\'ve', 'I\'d', 'I\'ll', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December', 'Christmas',
  'Easter', 'God', 'OK', 'Okay', 'Mum', 'Mom', 'Dad', 'Hearth', 'TV', 'English']);
const FILLER = /^(?:yes|yeah|no|nope|ok|okay|fine|good|not much|nothing|i don'?t know|maybe|sure|um+|uh+|hmm+|thanks?|thank you)\b/i;

/** Summarise what a participant said; undefined when there is nothing worth keeping ("fine, thanks"). */
export function summariseShared(text: string): MemoryNote | undefined {
  const sentences = splitSentences(text.replace(/\s+/g, ' ')).filter((s) => s.length > 0);
  if (sentences.length === 0) return undefined;
  const people = findPeople(text);
  const places = findPlaces(text);
  const scored = sentences.map((s, i) => {
    const words = contentWords(s).length;
    let score = Math.min(words, 10);
    score += 2 * findPeople(s).length + 1.5 * detectEmotions(s).length + findPlaces(s).length + detectThemes(s).length;
    if (/\?\s*$/.test(s)) score -= 4; // a question to the robot is not something they shared
    if (/\byou\b/i.test(s)) score -= 2; // talk addressed to the robot
    if (FILLER.test(s) && words < 4) score -= 5;
    return { s, i, words, score: score - i * 0.1 };
  });
  const best = scored.sort((a, b) => b.score - a.score)[0]!;
  if (best.words < 3 || best.score < 3) return undefined;
  return {
    summary: toSecondPerson(shorten(best.s)),
    people: people.map(toSecondPerson),
    places,
    feelings: detectEmotions(text),
    topics: detectThemes(text),
  };
}

/** People mentioned: relations ("my sister", "my friend Ana") and capitalised names. */
export function findPeople(text: string): string[] {
  const found: string[] = [];
  const rel = new RegExp(`\\b(my|our) (${RELATIONS.join('|')})(?: ([A-Z][a-z]+))?`, 'gi');
  for (const m of text.matchAll(rel)) {
    const name = m[3] && !NOT_NAMES.has(m[3]) && /^[A-Z]/.test(m[3]) ? ` ${m[3]}` : '';
    found.push(`${m[1]!.toLowerCase()} ${m[2]!.toLowerCase()}${name}`);
  }
  // Capitalised words not at a sentence start: likely names ("Then Priya called").
  for (const m of text.matchAll(/(?<=[a-z,;:] )([A-Z][a-z]{2,})\b/g)) {
    const w = m[1]!;
    if (NOT_NAMES.has(w) || found.some((f) => f.endsWith(` ${w}`)) || isPlaceName(text, m.index!)) continue;
    found.push(w);
  }
  return [...new Set(found)];
}

function isPlaceName(text: string, index: number): boolean {
  return /\b(?:in|at|to|from|near|visited|visit)\s+$/i.test(text.slice(Math.max(0, index - 10), index));
}

/** Places mentioned: proper names after in/at/to/from, and common places ("the hospital"). */
export function findPlaces(text: string): string[] {
  const found: string[] = [];
  // The two words of a name are on one line ("Whitby\nMy brother drove" names Whitby).
  for (const m of text.matchAll(/\b(?:in|at|to|from|near|visited|visit)\s+((?:[A-Z][a-z]+)(?:[ \t]+[A-Z][a-z]+)?)/g)) {
    if (!NOT_NAMES.has(m[1]!.split(' ')[0]!)) found.push(m[1]!);
  }
  const lower = text.toLowerCase();
  for (const p of PLACE_NOUNS) {
    if (new RegExp(`\\b(?:the|a|at|to|from|in) ${p}\\b`).test(lower)) found.push(p);
  }
  return [...new Set(found)];
}

/** Keep a long sentence speakable: cut at a clause boundary before ~25 words. */
function shorten(sentence: string): string {
  const s = sentence.replace(/[.!?…]+["'”’)]*$/, '').trim();
  const words = s.split(/\s+/);
  if (words.length <= 25) return s;
  const head = words.slice(0, 25).join(' ');
  const cut = Math.max(head.lastIndexOf(','), head.lastIndexOf(' and '), head.lastIndexOf(' but '), head.lastIndexOf(' because '));
  return cut > 30 ? head.slice(0, cut).trim() : head;
}

const SWAP: Record<string, string> = {
  i: 'you', me: 'you', my: 'your', mine: 'yours', myself: 'yourself', we: 'you', us: 'you', our: 'your', ours: 'yours',
  ourselves: 'yourselves', "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll", am: 'are', "we're": "you're",
  "we've": "you've", "we'd": "you'd", "we'll": "you'll",
};

/** Turn the participant's first-person words into the robot's second person ("I lost my keys" → "you lost your keys"). */
export function toSecondPerson(text: string): string {
  // Contractions first: "I'm" must become "you're", never "you'm".
  const out = text.replace(/\b(I['’]m|I['’]ve|I['’]d|I['’]ll|we['’]re|we['’]ve|we['’]d|we['’]ll|I|me|my|mine|myself|we|us|our|ours|ourselves|am)\b/gi, (w) => {
    const r = SWAP[w.toLowerCase().replace('’', "'")] ?? w;
    return r;
  });
  // "you was" (from "I was") and sentence-initial capitals.
  return out.replace(/\byou was\b/gi, 'you were').replace(/\byou wasn't\b/gi, "you weren't").replace(/^./, (c) => c.toLowerCase());
}

/** What a topic names. */
export type TopicKind = 'person' | 'place' | 'activity';

/** A person, place or activity the participant named, as the robot can say it back. */
export interface Topic {
  kind: TopicKind;
  /** In the robot's second person: "your sister", "your mother's care", "Lisbon", "the hospital", "baking". */
  phrase: string;
  /** The word the phrase is about ("sister", "care", "lisbon"), lower case. */
  head: string;
  /** Where it starts in the text (topics are returned in order of appearance). */
  at: number;
}

const PEOPLE_NOUNS = new Set([...RELATIONS.filter((r) => !r.includes(' ')), 'landlord', 'landlady', 'vet', 'therapist', 'dentist', 'priest',
  'pastor', 'rabbi', 'imam', 'mate', 'mates', 'grandkids', 'granny', 'nana', 'papa', 'mama', 'stepmother', 'stepfather', 'stepson', 'stepdaughter',
  'fiance', 'fiancee', 'spouse', 'baby', 'twin', 'twins', 'parent', 'sibling', 'siblings', 'relatives', 'godmother', 'godson', 'goddaughter',
  'caregiver', 'doctors', 'nurses', 'friends', 'neighbours', 'neighbors', 'sisters', 'brothers', 'sons', 'daughters', 'puppy', 'kitten', 'horse']);
const PLACE_WORDS = new Set([...PLACE_NOUNS, 'house', 'flat', 'apartment', 'kitchen', 'hometown', 'town', 'city', 'country', 'shop', 'store',
  'bakery', 'factory', 'church', 'hall', 'centre', 'center', 'bank', 'ward', 'care home', 'nursing home', 'sea', 'forest', 'woods', 'hills',
  'island', 'street', 'neighbourhood', 'neighborhood', 'room', 'bedroom', 'porch', 'yard', 'backyard', 'cottage', 'cabin', 'camp', 'hotel',
  'harbour', 'harbor', 'bridge', 'museum', 'zoo', 'stadium', 'court', 'mall', 'pharmacy', 'surgery', 'campus']);
const ACTIVITY_NOUNS = new Set(['walk', 'walks', 'picnic', 'appointment', 'test', 'exam', 'class', 'classes', 'lesson', 'lessons', 'argument',
  'fight', 'row', 'conversation', 'chat', 'talk', 'interview', 'dinner', 'lunch', 'breakfast', 'birthday', 'wedding', 'funeral', 'party', 'trip',
  'holiday', 'holidays', 'vacation', 'visit', 'move', 'job', 'care', 'practice', 'rehearsal', 'game', 'match', 'concert', 'surgery', 'operation',
  'treatment', 'therapy', 'meeting', 'call', 'date', 'race', 'run', 'swim', 'ride', 'drive', 'hike', 'service', 'ceremony', 'graduation',
  'retirement', 'project', 'garden', 'gardening', 'recipe', 'diagnosis', 'scan', 'results', 'reunion', 'anniversary', 'festival', 'shift',
  'chores', 'homework', 'choir', 'club', 'team', 'course', 'volunteering', 'sunset', 'journey', 'flight', 'divorce', 'separation', 'loss',
  'group', 'groups', 'session', 'sessions', 'crossword', 'puzzle', 'jigsaw', 'quiz', 'bingo', 'yoga', 'pilates', 'supper', 'brunch']);
/** -ing words that are states, fillers or things, not activities. */
const NOT_ACTIVITIES = new Set(['thinking', 'feeling', 'going', 'being', 'doing', 'having', 'getting', 'saying', 'telling', 'knowing', 'trying',
  'wondering', 'hoping', 'wanting', 'looking', 'seeing', 'coming', 'making', 'taking', 'giving', 'keeping', 'letting', 'putting', 'hurting',
  'worrying', 'struggling', 'missing', 'remembering', 'morning', 'evening', 'nothing', 'something', 'anything', 'everything', 'thing',
  'things', 'during', 'bring', 'bringing', 'king', 'ring', 'spring', 'sing', 'string', 'ceiling', 'building', 'darling', 'interesting',
  'amazing', 'boring', 'exciting', 'annoying', 'relaxing', 'tiring', 'exhausting', 'frustrating', 'worrying', 'charming', 'loving', 'caring',
  'stunning', 'upsetting', 'disappointing', 'depressing', 'heartbreaking', 'terrifying', 'surprising', 'confusing', 'embarrassing', 'pleasing',
  'overwhelming', 'calming', 'shocking', 'touching', 'moving', 'lasting', 'ongoing', 'according', 'including', 'willing', 'lacking',
  'happening', 'starting', 'feelings', 'understanding', 'beginning', 'ending', 'meaning', 'sibling', 'wedding', 'nursing', 'evenings', 'mornings']);
/** Words never a topic's head: common adjectives (the robot must never say "the nice"), fillers and time words. */
const ADJECTIVES = new Set(['nice', 'good', 'great', 'bad', 'fine', 'okay', 'lovely', 'beautiful', 'wonderful', 'awful', 'terrible', 'horrible',
  'happy', 'sad', 'glad', 'tired', 'busy', 'quiet', 'calm', 'peaceful', 'lonely', 'anxious', 'nervous', 'worried', 'scared', 'afraid', 'angry',
  'upset', 'frustrated', 'kind', 'gentle', 'cold', 'warm', 'hot', 'big', 'small', 'little', 'huge', 'tiny', 'long', 'short', 'old', 'new',
  'young', 'first', 'last', 'best', 'worst', 'strange', 'weird', 'odd', 'difficult', 'hard', 'easy', 'simple', 'special', 'ordinary', 'normal',
  'real', 'sure', 'proud', 'guilty', 'ashamed', 'embarrassed', 'exhausted', 'sick', 'ill', 'well', 'better', 'worse', 'bright', 'cheerful',
  'rough', 'awkward', 'uncomfortable', 'comfortable', 'empty', 'full', 'free', 'safe', 'lost', 'alone', 'sweet', 'funny', 'silly', 'sorry',
  'hopeful', 'stressful', 'lucky', 'fun', 'cool', 'fair', 'unfair', 'dear', 'close', 'far', 'whole', 'entire', 'same', 'different', 'other',
  'own', 'certain', 'main', 'important', 'favourite', 'favorite', 'late', 'early', 'recent', 'next', 'previous', 'quick', 'slow', 'loud',
  'soft', 'dark', 'light', 'heavy', 'fresh', 'clean', 'dirty', 'rich', 'poor', 'strong', 'weak', 'brave', 'shy', 'wise', 'mean', 'rude',
  'polite', 'grateful', 'thankful', 'content', 'relieved', 'excited', 'bored', 'confused', 'surprised', 'shocked', 'disappointed', 'hurt',
  'moved', 'touched', 'mixed', 'deep', 'tough', 'pretty', 'ugly', 'lucky', 'gloomy', 'grey', 'gray', 'sunny', 'rainy', 'wet', 'dry', 'huge',
  'elder', 'older', 'younger', 'eldest', 'oldest', 'youngest', 'childhood', 'closest', 'entire', 'bittersweet', 'tender', 'painful', 'kindly']);
const ADJECTIVE_ENDINGS = /(?:ful|ous|ive|less|ible|able|ish|ical|ic|y|ed|est|er)$/;
const DETERMINERS = new Set(['my', 'our', 'the', 'a', 'an', 'his', 'her', 'their', 'this', 'that', 'some', 'your']);
const PLACE_PREPS = new Set(['in', 'at', 'to', 'from', 'near', 'visited', 'visit', 'visiting', 'around', 'towards', 'toward']);

/** True when `w` (lower case) is an adjective or reads like one, so it never stands as a topic. */
export function looksAdjective(w: string): boolean {
  return ADJECTIVES.has(w) || (ADJECTIVE_ENDINGS.test(w) && !PEOPLE_NOUNS.has(w) && !PLACE_WORDS.has(w) && !ACTIVITY_NOUNS.has(w)
    && !/(?:ily|ery|ory|ary|ty|ny|ey|ay|oy|uy)$/.test(w) && !/er$/.test(w)) || (/er$/.test(w) && ADJECTIVES.has(w.slice(0, -2)));
}

/**
 * A word of the text. `sentenceStart`: first of a sentence (after . ! ? … or a new line, or a capitalised
 * pronoun or determiner after a comma, semicolon, colon or dash: "Brighton, We had chips"). `breakBefore`:
 * punctuation or a new line stands between it and the word before, so no phrase joins the two.
 */
interface Word { w: string; raw: string; start: number; cap: boolean; sentenceStart: boolean; breakBefore: boolean }

/** Words that, capitalised after a comma, semicolon, colon or dash, start a new sentence rather than continue a name. */
const SENTENCE_OPENERS = new Set(['we', 'he', 'she', 'they', 'it', 'you', 'my', 'our', 'his', 'her', 'their', 'your', 'the', 'a', 'an', 'this',
  'that', 'these', 'those', 'there', 'then', 'so', 'but', 'and', 'anyway', 'also', 'still', 'now']);

function wordsOf(text: string): Word[] {
  const out: Word[] = [];
  let sentenceStart = true;
  let breakBefore = false;
  let clauseBreak = false;
  for (const m of text.matchAll(/[A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?|[.!?…\n\r]|[;:,—–]|\s-\s/g)) {
    const tok = m[0];
    if (/^[.!?…\n\r]$/.test(tok)) { sentenceStart = true; breakBefore = true; continue; }
    if (!/[A-Za-zÀ-ÿ]/.test(tok)) { breakBefore = true; clauseBreak = true; continue; }
    const possessive = /['’]s$/i.test(tok);
    const raw = possessive ? tok.slice(0, -2) : tok;
    const cap = /^[A-Z][a-z]/.test(raw);
    const start = sentenceStart || (clauseBreak && cap && SENTENCE_OPENERS.has(raw.toLowerCase()));
    out.push({ w: raw.toLowerCase(), raw, start: m.index!, cap, sentenceStart: start, breakBefore });
    if (possessive) out.push({ w: "'s", raw: "'s", start: m.index! + raw.length, cap: false, sentenceStart: false, breakBefore: false });
    sentenceStart = false;
    breakBefore = false;
    clauseBreak = false;
  }
  return out;
}

/** The word at `k` follows the one before it in the same clause (no punctuation, no sentence end between). */
const joined = (ws: readonly Word[], k: number): boolean => ws[k] !== undefined && !ws[k]!.breakBefore && !ws[k]!.sentenceStart;

const you = (d: string): string => (d === 'my' ? 'your' : d === 'our' ? 'your' : d === 'a' || d === 'an' ? 'the' : d);

/**
 * The people, places and activities named in what a participant said, in order of appearance:
 * "my sister" (person), "our mother's care" (a person's activity), "Lisbon" and "the hospital"
 * (places), "baking" and "a long walk" (activities). Never an adjective ("a nice story" names nothing
 * the robot should say back; "the nice" is not a topic), never the robot's own story.
 */
export function topicsOf(text: string): Topic[] {
  const ws = wordsOf(text);
  const found: Topic[] = [];
  const used = new Set<number>();
  const push = (t: Topic, from: number, to: number) => {
    for (let k = from; k <= to; k++) used.add(k);
    found.push(t);
  };
  for (let i = 0; i < ws.length; i++) {
    if (used.has(i)) continue;
    const cur = ws[i]!;
    const prev = joined(ws, i) ? ws[i - 1]!.w : '';
    // "played cards", "play chess", "did the crossword", "playing the piano": the game or chore is the activity.
    if ((PLAY.has(cur.w) || DO.has(cur.w)) && joined(ws, i + 1)) {
      const det = DETERMINERS.has(ws[i + 1]!.w) && ws[i + 1]!.w !== 'my' ? ws[i + 1]!.w : undefined;
      if (det || PLAY.has(cur.w)) {
        const k = det ? i + 2 : i + 1;
        const obj = joined(ws, k) ? ws[k]! : undefined;
        if (obj && isActivityObject(obj.w) && !NOT_NAMES.has(obj.raw) && !(det && obj.cap)) {
          const phrase = det ? `the ${obj.w}` : obj.cap ? obj.raw : obj.w;
          push({ kind: 'activity', phrase, head: obj.w, at: det ? ws[i + 1]!.start : obj.start }, i, k);
          i = k;
          continue;
        }
      }
    }
    // A hobby's class, group or practice without a determiner: "choir practice", "yoga class".
    if (HOBBIES.has(cur.w) && joined(ws, i + 1) && SESSIONS.has(ws[i + 1]!.w)) {
      push({ kind: 'activity', phrase: `${cur.w} ${ws[i + 1]!.w}`, head: ws[i + 1]!.w, at: cur.start }, i, i + 1);
      i++;
      continue;
    }
    // An activity said with its verb: "I baked scones", "we danced", "my brother drove", "I can't drive": said back as "baking".
    const gerund = ACTIVITY_VERBS[cur.w];
    if (gerund && !cur.cap && (PAST_FORMS.has(cur.w) ? SUBJECTS.has(prev) || PEOPLE_NOUNS.has(prev) || (joined(ws, i) && ws[i - 1]!.cap && !NOT_NAMES.has(ws[i - 1]!.raw))
      : SUBJECTS.has(prev) || MODALS.has(prev))) {
      push({ kind: 'activity', phrase: gerund, head: gerund, at: cur.start }, i, i);
      continue;
    }
    // A meal or routine without a determiner: "after dinner", "at choir", "before yoga".
    if (BARE_ACTIVITIES.has(cur.w) && TIME_PREPS.has(prev)) {
      push({ kind: 'activity', phrase: cur.w, head: cur.w, at: cur.start }, i, i);
      continue;
    }
    // A determiner phrase: "my old dog", "our mother's care", "the food bank", "a long walk".
    if (DETERMINERS.has(cur.w)) {
      let j = i + 1;
      const mods: string[] = [];
      // Within one sentence; a comma may part the adjectives ("a strange, difficult conversation").
      const inSentence = (k: number) => ws[k] !== undefined && !ws[k]!.sentenceStart;
      while (j < ws.length && inSentence(j) && looksAdjective(ws[j]!.w) && !PEOPLE_NOUNS.has(ws[j]!.w) && mods.length < 2) mods.push(ws[j++]!.raw.toLowerCase());
      const noun = inSentence(j) && (j === i + 1 ? joined(ws, j) : true) ? ws[j] : undefined;
      if (!noun || DETAIL_WORDS.has(noun.w) || looksAdjective(noun.w)) continue;
      const det = you(cur.w);
      // "A long walk" is said back as "the walk"; "my old house" keeps its "old" (it tells which house).
      const base = det === 'the' ? 'the' : [det, ...mods].join(' ');
      // A compound noun: "driving test", "food bank", "swimming class", "choir practice".
      const next = joined(ws, j + 1) ? ws[j + 1] : undefined;
      const compound = next && !next.cap && (ACTIVITY_NOUNS.has(next.w) || PLACE_WORDS.has(next.w)) && !PEOPLE_NOUNS.has(noun.w) ? next : undefined;
      const headWord = compound ?? noun;
      const nounPhrase = compound ? `${noun.w} ${compound.w}` : noun.w;
      if (PEOPLE_NOUNS.has(noun.w) && !(noun.w === 'family' && compound && ACTIVITY_NOUNS.has(compound.w)) && (cur.w === 'my' || cur.w === 'our' || cur.w === 'the' || cur.w === 'a' || cur.w === 'an')) {
        // "our mother's care": the person's activity or place said with them.
        if (ws[j + 1]?.w === "'s" && joined(ws, j + 2) && !DETAIL_WORDS.has(ws[j + 2]!.w) && !looksAdjective(ws[j + 2]!.w)) {
          const what = ws[j + 2]!;
          push({ kind: 'person', phrase: `${base} ${noun.w}`, head: noun.w, at: cur.start }, i, j);
          const kind: TopicKind = PLACE_WORDS.has(what.w) ? 'place' : 'activity';
          push({ kind, phrase: `${base} ${noun.w}'s ${what.w}`, head: what.w, at: what.start }, j + 1, j + 2);
          i = j + 2;
          continue;
        }
        const name = joined(ws, j + 1) && ws[j + 1]!.cap && !NOT_NAMES.has(ws[j + 1]!.raw) ? ` ${ws[j + 1]!.raw}` : '';
        push({ kind: 'person', phrase: `${base} ${noun.w}${name}`, head: noun.w, at: cur.start }, i, name ? j + 1 : j);
        i = name ? j + 1 : j;
        continue;
      }
      if (PLACE_WORDS.has(headWord.w) && !ACTIVITY_NOUNS.has(nounPhrase)) {
        push({ kind: 'place', phrase: `${base} ${nounPhrase}`, head: headWord.w, at: cur.start }, i, compound ? j + 1 : j);
        i = compound ? j + 1 : j;
        continue;
      }
      if (ACTIVITY_NOUNS.has(headWord.w) || isGerund(headWord.w)) {
        push({ kind: 'activity', phrase: `${base} ${nounPhrase}`, head: headWord.w, at: cur.start }, i, compound ? j + 1 : j);
        i = compound ? j + 1 : j;
      }
      continue;
    }
    // A proper name: after in/at/to/from a place, otherwise a person ("Then Priya called").
    if (cur.cap && !cur.sentenceStart && !NOT_NAMES.has(cur.raw) && !MONTHS_DAYS.test(cur.raw)) {
      // A two-word name ("New York") never runs across a sentence end or a comma ("Toronto. My", "Anna, Tom").
      const second = joined(ws, i + 1) && ws[i + 1]!.cap && !NOT_NAMES.has(ws[i + 1]!.raw) ? ws[i + 1] : undefined;
      const phrase = second ? `${cur.raw} ${second.raw}` : cur.raw;
      const prev = ws[i - 1]?.w ?? '';
      const after = text.slice(cur.start + phrase.length, cur.start + phrase.length + 8);
      push({ kind: PLACE_PREPS.has(prev) || /^,?\s+where\b/.test(after) ? 'place' : 'person', phrase, head: phrase.toLowerCase(), at: cur.start }, i, second ? i + 1 : i);
      if (second) i++;
      continue;
    }
    // A bare place word after a preposition ("at work", "from home", "in hospital").
    if (PLACE_WORDS.has(cur.w) && PLACE_PREPS.has(ws[i - 1]?.w ?? '') && ['work', 'home', 'hospital', 'church', 'school', 'university'].includes(cur.w)) {
      push({ kind: 'place', phrase: cur.w, head: cur.w, at: cur.start }, i, i);
      continue;
    }
    // An activity said as a gerund: "baking bread", "fishing at the river", "volunteering".
    if (isGerund(cur.w) && !['is', 'was', 'are', 'were', 'am', 'be', 'been', 'keep', 'kept', 'stop', 'stopped'].includes(ws[i - 1]?.w ?? '')
      || isGerund(cur.w) && ['been', 'was', 'were', 'am', 'is', 'are'].includes(ws[i - 1]?.w ?? '') && ws[i + 1] && !DETERMINERS.has(ws[i + 1]!.w) && ACTIVITY_OBJECT.test(ws[i + 1]!.w)) {
      push({ kind: 'activity', phrase: cur.w, head: cur.w, at: cur.start }, i, i);
    }
  }
  // The same topic said twice is one topic.
  const seen = new Set<string>();
  return found.filter((t) => {
    const key = `${t.kind}:${t.phrase.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Nouns that are never a topic: the robot's story, time words and the like (and every detail stopword). */
const DETAIL_WORDS: ReadonlySet<string> = new Set([...DETAIL_STOPWORDS, 'story', 'stories', 'part', 'ending', 'end', 'moment', 'moments',
  'lot', 'couple', 'hour', 'hours', 'minute', 'minutes', 'month', 'months', 'weekend', 'morning', 'evening', 'night', 'afternoon', 'sun',
  'weather', 'rain', 'pain', 'heart', 'mind', 'head', 'life', 'people', 'person', 'one', 'ones', 'same', 'whole', 'idea', 'question', 'reason',
  'point', 'thing', 'things', 'chance', 'while', 'times', 'words', 'feelings', 'memory', 'memories', 'money', 'news']);
const MONTHS_DAYS = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December)s?$/;
const ACTIVITY_OBJECT = /^(?:bread|cakes?|cookies|soup|dinner|lunch|music|songs?|books?|letters?|photos|pictures|chess|cards|tennis|golf|football|soccer|piano|guitar)$/;

const PLAY = new Set(['play', 'plays', 'played', 'playing']);
const DO = new Set(['do', 'does', 'did', 'doing', 'done']);
/** Words that, after "play" or "did the", are not what was played or done. */
const NOT_OBJECTS = new Set(['together', 'out', 'up', 'down', 'along', 'around', 'outside', 'inside', 'about', 'nicely', 'badly', 'lots', 'loads',
  'too', 'right', 'wrong', 'rest', 'best', 'worst', 'most', 'least', 'same', 'opposite', 'trick', 'job', 'fool', 'part', 'role', 'away']);
function isActivityObject(w: string): boolean {
  return w.length > 2 && !DETAIL_WORDS.has(w) && !NOT_OBJECTS.has(w) && !looksAdjective(w) && !PEOPLE_NOUNS.has(w) && !PLACE_WORDS.has(w)
    && !DETERMINERS.has(w) && !SUBJECTS.has(w) && !/['’]/.test(w) && !/ly$/.test(w);
}
/** Verbs that name an activity, with the -ing form said back ("I baked" → "baking"). */
const VERB_GERUNDS: [string[], string][] = [
  [['bake', 'baked', 'bakes'], 'baking'], [['cook', 'cooked', 'cooks'], 'cooking'], [['paint', 'painted', 'paints'], 'painting'],
  [['knit', 'knitted', 'knits'], 'knitting'], [['sew', 'sewed', 'sews'], 'sewing'], [['swim', 'swam', 'swims'], 'swimming'],
  [['hike', 'hiked', 'hikes'], 'hiking'], [['cycle', 'cycled', 'cycles'], 'cycling'], [['dance', 'danced', 'dances'], 'dancing'],
  [['sing', 'sang', 'sings'], 'singing'], [['fish', 'fished'], 'fishing'], [['gardened'], 'gardening'],
  [['drive', 'drove', 'drives'], 'driving'], [['argue', 'argued', 'argues'], 'arguing'], [['walk', 'walked', 'walks'], 'walking'],
  [['jog', 'jogged', 'jogs'], 'jogging'], [['volunteer', 'volunteered', 'volunteers'], 'volunteering'], [['camped'], 'camping'],
  [['sketch', 'sketched'], 'sketching'], [['pray', 'prayed', 'prays'], 'praying'], [['crochet', 'crocheted'], 'crocheting'],
  [['skate', 'skated'], 'skating'], [['ski', 'skied'], 'skiing'], [['climb', 'climbed'], 'climbing'], [['row', 'rowed'], 'rowing'],
  [['quarrel', 'quarrelled', 'quarreled'], 'quarrelling'], [['bowl', 'bowled'], 'bowling'], [['shop', 'shopped'], 'shopping']];
const ACTIVITY_VERBS: Record<string, string> = Object.fromEntries(VERB_GERUNDS.flatMap(([forms, g]) => forms.map((f) => [f, g])));
/** The forms above that are a past tense (after a subject only: "we danced", "my brother drove"). */
const PAST_FORMS = new Set(VERB_GERUNDS.flatMap(([forms]) => forms.filter((f) => /ed$/.test(f) || ['swam', 'sang', 'drove'].includes(f))));
const SUBJECTS = new Set(['i', 'we', 'he', 'she', 'they', "i've", "we've", "i'd", "we'd", "i'll", "we'll", 'both', 'all', 'also', 'just',
  'finally', 'often', 'always', 'sometimes', 'never', 'usually', 'still', 'then', 'and']);
const MODALS = new Set(['to', 'can', "can't", 'cannot', 'could', "couldn't", 'will', "won't", 'would', "wouldn't", 'should', 'might', 'must',
  'cant', 'couldnt', "don't", "didn't", 'dont', 'didnt', 'let', "let's"]);
const BARE_ACTIVITIES = new Set(['dinner', 'lunch', 'breakfast', 'supper', 'brunch', 'choir', 'mass', 'bingo', 'yoga', 'pilates', 'rehearsal',
  'practice', 'class', 'physio', 'therapy', 'chemo', 'dialysis']);
const TIME_PREPS = new Set(['after', 'before', 'during', 'over', 'for', 'at', 'from', 'to']);
const HOBBIES = new Set(['choir', 'yoga', 'pilates', 'art', 'pottery', 'dance', 'music', 'piano', 'guitar', 'violin', 'book', 'bible', 'craft',
  'knitting', 'sewing', 'swimming', 'painting', 'singing', 'dancing', 'cooking', 'baking', 'family', 'bridge', 'chess', 'football', 'tennis',
  'golf', 'bowls', 'bowling', 'drama', 'language', 'computer', 'exercise', 'fitness', 'walking', 'gardening', 'support', 'prayer']);
const SESSIONS = new Set(['practice', 'class', 'classes', 'lesson', 'lessons', 'group', 'club', 'rehearsal', 'session', 'sessions', 'dinner',
  'party', 'meeting', 'night', 'course', 'team', 'game', 'match']);

function isGerund(w: string): boolean {
  return w.length > 5 && w.endsWith('ing') && !NOT_ACTIVITIES.has(w) && !ADJECTIVES.has(w);
}
