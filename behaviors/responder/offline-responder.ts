import type { ResponseScale, UnclearReason } from '../../study-protocol/index.js';
import { fnv1a as hash } from '../hash.js';
import type { SpeechAct } from '../ports.js';
import { summariseShared, topicsOf } from '../memory/extract.js';
import { hear, type Heard } from './listen-for.js';
import { labelTurn, type Tactic } from './tactics.js';

/** Everything a responder may use to write the robot's next line. */
export interface ComposeRequest {
  act: SpeechAct;
  participantId: string;
  sessionId: string;
  studyDay: number;
  /** Index of this robot line within the session (varies wording across turns). */
  turnIndex: number;
  story: { id: string; title: string } | null;
  /** The paragraph to read, for act `story`. */
  paragraph?: string;
  /** What the participant said last, if anything. */
  lastUtterance: string | null;
  /** The participant's utterances in this conversation so far, oldest first. */
  shared: readonly string[];
  /** For `empathy`: the last exchange, so close warmly instead of asking another question. */
  finalExchange?: boolean;
  /** Local hour of day (0–23) at the participant's home, for greetings. */
  localHour?: number;
  /** Lines the robot said recently to this participant, newest first; the responder avoids repeating them. */
  recentLines?: readonly string[];
  /** The robot's previous line in this session, if any: the next turn varies its moves from it. */
  previousLine?: string;
  /** Whether this is the participant's first session (the robot introduces itself as an AI). */
  firstSession?: boolean;
  /** The robot is inviting the participant (a scheduled session), not answering them. */
  invitation?: boolean;
  /** A line already decided (a safeguard reply): said as it is. */
  scripted?: string;
  /** A questionnaire prompt, asked word for word. */
  prompt?: string;
  /** Why the last answer to a questionnaire item was not understood. */
  unclear?: UnclearReason;
  /** The scale of the questionnaire item being asked. */
  scale?: ResponseScale;
}

/** A questionnaire item as spoken: a statement gets its answer scale said after it, word for word otherwise. */
function surveyQuestion(req: ComposeRequest): string {
  const prompt = (req.prompt ?? '').trim();
  const scale = req.scale;
  const low = scale?.labels?.[scale.min];
  const high = scale?.labels?.[scale.max];
  if (!scale || prompt.endsWith('?') || !low || !high) return prompt;
  return `${prompt} How much does that fit you, from ${scale.min}, ${low}, to ${scale.max}, ${high}?`;
}

/** Ask a questionnaire item again, saying why and what answers are possible. */
function surveyReprompt(req: ComposeRequest): string {
  const scale = req.scale;
  const range = scale ? `a number from ${scale.min} to ${scale.max}` : 'a number';
  const ends = scale?.labels?.[scale.min] && scale.labels[scale.max] ? `, where ${scale.min} is ${scale.labels[scale.min]} and ${scale.max} is ${scale.labels[scale.max]}` : '';
  const lead = req.unclear === 'repeat_requested' ? `Of course. ${req.prompt ?? ''}`
    : req.unclear === 'out_of_range' ? "That's outside the scale."
    : req.unclear === 'ambiguous' ? 'I heard more than one answer.'
    : req.unclear === 'unsure' ? "That's okay, just your best guess."
    : req.unclear === 'empty' ? 'Take your time.'
    : "Sorry, I didn't catch that.";
  return `${lead} Please answer with ${range}${ends}, or say skip.`;
}

/**
 * Chooses one of several wordings. `salt` keeps choices within a line independent; `index`, when
 * given, is a choice already made from the request (it is honoured when speaking, and every option
 * is still listed by `OfflineResponder.lines`).
 */
type Choose = (options: readonly string[], salt: string, index?: number) => string;

/**
 * The offline responder: grounded, varied, and deterministic for a given request. It reflects the
 * feeling it heard and a concrete detail from the participant's own words, then asks an open
 * question; wording rotates across turns and days and avoids lines said recently.
 */
export class OfflineResponder {
  /** What was heard in recent utterances: a line is written many times while choosing and listing. */
  private readonly heardCache = new Map<string, HeardIn>();
  private readonly labelCache = new Map<string, Set<Tactic>>();

  /** Write the line for a request. */
  compose(req: ComposeRequest): string {
    if (req.scripted !== undefined) return req.scripted;
    const recent = req.recentLines ?? [];
    // How often each wording was said lately (whole lines, or a sentence within them): the least said
    // wins, so every wording comes round before any is said again.
    const uses = (o: string) => {
      let n = 0;
      for (const l of recent) if (l === o || l.includes(o)) n++;
      return n;
    };
    const pickFor = (attempt: number): Choose => (options, salt, index) => {
      if (index !== undefined) return options[index % options.length]!;
      const start = hash(`${req.participantId}|${req.studyDay}|${req.turnIndex}|${req.act}|${salt}${attempt ? `#${attempt}` : ''}`) % options.length;
      if (attempt > 0) return options[start]!;
      let best = options[start]!;
      let fewest = Infinity;
      for (let k = 0; k < options.length; k++) {
        const o = options[(start + k) % options.length]!;
        const n = o ? uses(o) : 0;
        if (n < fewest) {
          best = o;
          fewest = n;
        }
      }
      return best;
    };
    // A whole line said twice lately is not said a third time while another line fits: other wordings
    // are tried, then other plans of moves (the next least like the last turn), and the least said line is kept.
    const said = (line: string) => recent.reduce((n, l) => n + (l === line ? 1 : 0), 0);
    let best = this.write(req, pickFor(0));
    let fewest = said(best);
    for (let attempt = 1; attempt <= REPEAT_ATTEMPTS && fewest >= MAX_REPEATS; attempt++) {
      const line = this.write(req, pickFor(attempt), attempt);
      const n = said(line);
      if (n < fewest) {
        best = line;
        fewest = n;
      }
    }
    return best;
  }

  /**
   * Every line `compose` can say for this request: each combination of the wordings it chooses
   * among (for tests that check every line the robot can say; scripted lines are not included).
   */
  lines(req: ComposeRequest): string[] {
    if (req.scripted !== undefined) return [];
    const out = new Set<string>();
    // An odometer over the choices made while writing: each run follows `path`, then the last
    // choice that has another option moves on and the ones after it start again from the first.
    const path: number[] = [];
    for (;;) {
      const sizes: number[] = [];
      out.add(this.write(req, (options) => {
        const at = sizes.length;
        sizes.push(options.length);
        return options[path[at] ?? 0]!;
      }));
      let j = sizes.length - 1;
      while (j >= 0 && (path[j] ?? 0) + 1 >= sizes[j]!) j--;
      if (j < 0) return [...out];
      path.length = j + 1;
      path[j] = (path[j] ?? 0) + 1;
    }
  }

  private write(req: ComposeRequest, pick: Choose, attempt = 0): string {
    switch (req.act) {
      case 'greeting':
        return this.greeting(req, pick);
      case 'resume':
        return pick([
          "Sorry, we were interrupted for a moment. Let's pick up where we left off.",
          'I had to stop for a little while there, sorry about that. Shall we carry on from where we were?',
          "Apologies, I was interrupted. I'm back now, so let's continue where we left off.",
        ], 'resume');
      case 'checkin.ask':
        return pick([
          'How are you feeling today?',
          "How has your day been so far? How are you feeling?",
          "Before we start, I'd love to know how you're doing today.",
          'How are you, really, today?',
          "What kind of day are you having? How are you feeling?",
        ], 'ask');
      case 'checkin.reprompt':
        return pick([
          "Take your time. How are you feeling today? It's fine to say you'd rather not say.",
          "No rush. If you'd like, tell me in a few words how today is going.",
        ], 'reprompt');
      case 'checkin.ack':
        return this.checkinAck(req, pick, attempt);
      case 'story.intro':
        return pick([
          `I'd like to read you a story today. It's called "${req.story?.title}".`,
          `Today's story is called "${req.story?.title}". Here it is.`,
          `I have a short story for you. It's called "${req.story?.title}".`,
          `Here is a story I chose for today. It's called "${req.story?.title}".`,
        ], 'intro');
      case 'story':
        return req.paragraph ?? '';
      case 'reflection.ask':
        return pick([
          'What did that story bring up for you?',
          'Did anything in that story remind you of something in your own life?',
          'Was there a moment in that story that stayed with you?',
          'How did that story land with you? Does it connect to anything you have lived through?',
          "I'm curious what that story made you think of. Has something like that happened to you?",
        ], 'reflect');
      case 'reflection.reprompt':
        return pick([
          "Take your time. Even a small memory is welcome, or we can move on if you'd prefer.",
          "There's no rush. Was there a part of the story that felt familiar, even a little?",
        ], 'reprompt');
      case 'empathy':
        return this.empathy(req, pick, attempt);
      case 'rating.ask':
        return pick([
          'How much could you relate to this story, from 1, not at all, to 5, very much?',
          'On a scale from 1 to 5, where 1 is not at all and 5 is very much, how much could you relate to this story?',
          'One quick question: from 1 to 5, how much could you relate to the story today?',
        ], 'rate');
      case 'rating.reprompt':
        return pick([
          "Sorry, I didn't quite catch that. Could you give me a number from 1 to 5? You can also say skip.",
          'I want to get this right. Just a number from 1, not at all, to 5, very much, or say skip.',
        ], 'reprompt');
      case 'rating.ack':
        return pick(['Thank you, I noted that.', 'Thanks, that helps me a lot.', 'Got it, thank you.'], 'ack');
      case 'goodbye':
        return pick([
          'Thank you for spending this time with me today. Take good care, and talk soon.',
          'Thank you for talking with me today. Goodbye for now, and take care.',
          "Thank you for sharing with me. That's all for today. Goodbye, and be kind to yourself.",
          "That's our session for today. Thank you, and see you next time.",
        ], 'bye');
      case 'survey.intro':
        return req.prompt ?? 'I have a few short questions for you.';
      case 'survey.ask':
        return surveyQuestion(req);
      case 'survey.reprompt':
        return surveyReprompt(req);
      case 'repair':
        return pick([
          "Sorry, I didn't quite catch that. Could you say it again?",
          "I'm not sure I heard you right. Would you mind saying that once more?",
          'Sorry, my hearing is not perfect. Could you repeat that for me?',
        ], 'repair');
      case 'crisis':
      case 'safe':
        return "Thank you for telling me. I'm listening.";
    }
  }

  private greeting(req: ComposeRequest, pick: Choose): string {
    const h = req.localHour ?? 12;
    const part = h < 12 ? 'Good morning' : h < 18 ? 'Good afternoon' : 'Good evening';
    if (req.invitation && !req.firstSession) {
      return pick([
        `${part}! It's Hearth. It's time for today's story, if now is a good moment for you.`,
        `${part}. Hearth here. I have a story ready for us today, whenever you'd like to join me.`,
        `${part}! It's story time with Hearth, if you have a few minutes.`,
      ], 'invite');
    }
    if (req.firstSession) {
      return `${part}! I'm Hearth, a robot companion. I'm an AI, not a person, and I'm here to share short stories with you and to listen.`;
    }
    return pick([
      `${part}! It's Hearth. It's good to see you again.`,
      `${part}. Hearth here, ready for today's story when you are.`,
      `Hello again, and ${part.toLowerCase()}! Thank you for making time for today's story.`,
      `${part}! It's good to be talking with you again.`,
    ], 'greet');
  }

  private checkinAck(req: ComposeRequest, pick: Choose, attempt = 0): string {
    if (!req.lastUtterance) return pick(["That's all right. Let's get started.", "No problem at all. Let's begin."], 'silent');
    const s = this.heardIn(req.lastUtterance);
    const banks = this.banks(s, pick, 'checkin');
    // An answer that tells something (a worry, a person, an event) is said back before the session moves
    // on: the feeling or a reaction to it, then what was said, so the participant knows it was heard.
    const plans: readonly Plan[] = s.valence === -1
      ? [['emotional_reaction', 'restatement'], ['reflection', 'restatement'], ['validation', 'restatement'], ['emotional_reaction', 'reflection'], ['reflection', 'appreciation']]
      : s.valence === 1
        ? [['emotional_reaction', 'restatement'], ['reflection', 'restatement'], ['emotional_reaction']]
        : [['restatement', 'appreciation'], ['appreciation']];
    // When there is something to say back (a person, an event, their words), it is always said back.
    const line = this.follow(banks.restatement.length > 0 ? plans.filter((pl) => pl.includes('restatement')) : plans, banks, req, pick, 'ack', attempt);
    const gentle = s.valence === -1 && s.feeling !== null
      ? pick(['We can take today gently.', 'We can go at whatever pace suits you today.', ''], 'gentle', hash(`${req.sessionId}|gentle`) % 3)
      : '';
    return [line, gentle].filter(Boolean).join(' ');
  }

  private empathy(req: ComposeRequest, pick: Choose, attempt = 0): string {
    const said = req.lastUtterance ?? '';
    const s = this.heardIn(said);
    const words = said.split(/\s+/).filter((w) => /[a-z]/i.test(w)).length;
    if (!s.feeling && !s.detail && words <= 5) {
      // A short "not much" is an answer too: accept it without reading feelings into it. Said in parts,
      // so the same short answer day after day does not get the same line back.
      const accept = pick(["That's completely fine.", "That's okay.", "That's all right.", 'Fair enough.', 'No problem at all.'], 'brief-accept');
      if (req.finalExchange) {
        return [accept, pick(['Not every story connects, and that is useful for me to know.', 'Some stories land more than others.',
          'It helps me to know what connects and what does not.', 'Thank you for giving it a listen with me.'], 'brief-close')].join(' ');
      }
      return [accept, pick(['Not every story connects.', 'Some stories land more than others.', 'It does not have to connect.'], 'brief-why'),
        pick(['Is there anything else on your mind today?', "Is there something from your own week you'd like to tell me about instead?",
          'Was there anything today, big or small, that you would like to talk about?', 'Is there anything else you would like to tell me about today?'], 'brief')].join(' ');
    }
    const banks = this.banks(s, pick, 'empathy');
    if (!req.finalExchange && (req.previousLine ?? '').trim().endsWith('?')
      && ((hash(`${req.participantId}|${req.sessionId}|${req.studyDay}|${req.turnIndex}|reflect`) >>> 16) & 1) === 0) {
      // After a question, every other turn that goes on asks nothing new: it says back what was heard and
      // hands the floor over with a listening cue. Exploring in every turn carries the question over into
      // the next turn each time; human supporters reuse a tactic in the next turn at 0.27 (DOMAIN.md
      // section 7), and counsellors give several reflections per question. (A high bit of the hash: FNV-1a's
      // lowest is only the parity of the characters, the same for every day that is in the text twice.)
      const fitting = REFLECT_PLANS.filter((plan) => plan.every((t) => banks[t].length > 0));
      if (fitting.length > 0) return `${this.follow(fitting, banks, req, pick, 'reflect', attempt)} ${pick(FLOOR_CUES, 'floor')}`;
    }
    // The empathy mechanisms (EPITOME: emotional reaction, interpretation, exploration) with the other
    // support moves, in plans; each turn takes the plan sharing the fewest moves with the robot's last turn.
    const plans: readonly Plan[] = req.finalExchange ? FINAL_PLANS : OPEN_PLANS;
    return this.follow(plans, banks, req, pick, 'plan', attempt);
  }

  /** What a reply needs from an utterance: the feeling, a detail, the person named, a short paraphrase. */
  private heardIn(text: string): HeardIn {
    const known = this.heardCache.get(text);
    if (known) return known;
    const h = this.listenTo(text);
    if (this.heardCache.size > 256) this.heardCache.clear();
    this.heardCache.set(text, h);
    return h;
  }

  /** What was heard in `text` (uncached). */
  private listenTo(text: string): HeardIn {
    const heard: Heard = hear(text);
    const topics = topicsOf(text);
    const person = topics.find((t) => t.kind === 'person' && /^(?:your|the) /.test(t.phrase) && !/'s /.test(t.phrase))?.phrase ?? null;
    const note = summariseShared(text);
    // "you're happy, your daughter called" is said back as "your daughter called": the feeling is said by other moves.
    const said = note?.summary.replace(/^(?:you(?:'re| are| feel| felt| were) )?(?:so |very |a bit |a little |really |kind of |pretty |honestly )?\w+, (?:because |since |as )?(?=you)/, '');
    const sayable = said !== undefined && said.split(/\s+/).length <= 16 && !/[?"]/.test(said);
    const summary = sayable && /^you/.test(said) ? said : null;
    const echo = sayable && !summary ? { text: said, clause: CLAUSE_START.test(said) } : null;
    const valence = heard.feeling?.valence ?? 0;
    return { feeling: heard.feeling, detail: heard.detail, person, summary, echo, valence };
  }

  /** The sentences each tactic can say about what was heard (an empty list: the tactic does not fit). */
  private banks(s: HeardIn, pick: Choose, where: 'checkin' | 'empathy'): Record<Tactic, readonly string[]> {
    const f = s.feeling;
    const adj = f ? f.adjectives : [];
    const noun = f ? f.nouns : [];
    const d = s.detail;
    const p = s.person;
    const neg = s.valence === -1;
    const pos = s.valence === 1;
    const reflection = !f ? [] : where === 'checkin'
      ? neg
        ? [`It sounds like today is ${adj[0]}.`, `I can hear the ${noun[0]} in that.`]
        : [`That sounds ${adj[0]}.`, `I can hear the ${noun[0]} in that.`]
      : [`It sounds like that was ${adj.at(-1)} for you.`, `I can hear the ${noun[0]} in what you're saying.`];
    const e = where === 'checkin' && !s.summary ? s.echo : null;
    const said = e ? e.text.charAt(0).toUpperCase() + e.text.slice(1) : '';
    const restatement = [
      ...(s.summary && (where === 'checkin' || !d) ? [`So ${s.summary}.`] : []),
      // Their own words back, at the check-in, when there is no "you …" paraphrase: a sentence as it was
      // told ("It sounds like the boiler broke…"), a fragment as it was said ("Not bad, a bit achy… — I hear you.").
      ...(e ? (e.clause ? [`It sounds like ${e.text}.`] : [`${said} — I hear you.`, `${said} — that's how today is going, then.`]) : []),
      ...(d ? [`What you said about ${d} stands out.`, `You mentioned ${d}.`] : []),
    ];
    const interpretation = p
      ? pos
        ? [`It sounds like ${p} means a great deal to you.`, `Maybe it meant so much because ${p} matters to you.`]
        : [`Maybe part of why it is so ${adj[0] ?? 'hard'} is how much ${p} matters to you.`, `It sounds like ${p} means a great deal to you, and that is part of why this stays with you.`]
      : d
        ? [`Maybe it stays with you because of what ${d} meant at the time.`, `It sounds like ${d} holds a lot of meaning for you.`]
        : [];
    return {
      emotional_reaction: neg ? ["I'm sorry you're dealing with that.", "I'm sorry to hear that."]
        : pos ? ["That's lovely to hear.", "I'm really glad about that."] : [],
      reflection,
      restatement,
      interpretation,
      validation: neg ? ['It makes sense to feel that way.', "There's no right or wrong way to feel about it."]
        : pos ? ['It makes sense that you hold on to that.', 'Of course you treasure a moment like that.']
          : ['That makes a lot of sense.', "It's completely understandable to feel more than one thing about it.", "It's okay to still be working out how you feel about it.",
            'It makes sense that it feels mixed.'],
      normalising: neg ? ['Many people find moments like that hard to put down.', 'A lot of people carry something like that for a long time.']
        : pos ? ['Lots of people hold on to moments like that for years.', 'Many people find small moments like that are the ones they keep.']
          : ['Many people feel more than one thing about a memory like that.', 'Lots of people find a memory like that hard to sum up.',
            'Many people find that memories like this take a while to settle.'],
      affirmation: where === 'checkin' ? [] : neg
        ? ['It took courage to put that into words.', 'It says something good about you that you still think about it.']
        : ['It says a lot about you that you noticed it.', 'It took some courage to share that.', 'You clearly gave it some real thought.'],
      information: [],
      appreciation: where === 'checkin'
        ? ['Thank you for telling me.', 'I appreciate you telling me.']
        : ['Thank you for trusting me with that.', "I'm glad you shared it with me.", 'Thank you for thinking it through with me.'],
      exploration: [
        ...(neg ? ['What helped you get through it?', 'How do you feel about it now, looking back?', 'What was the hardest part for you?']
          : pos ? ['What made it feel so good?', 'What do you think made that moment special?', 'How did it change things for you?']
            : ['What was that like for you?', 'How do you feel about it now?', 'What stays with you most when you think about it?']),
        ...(p ? [`How are things between you and ${p} now?`] : d && d.length < 40 ? [`What do you remember most about ${d}?`] : []),
      ],
    };
  }

  /**
   * Say one plan: the plans that fit (every tactic has something to say), least like the robot's
   * previous turn (its tactics, by the labeller), then one of those chosen for this turn and day. On a
   * retry (`attempt` > 0: the line would be said a third time) the next plan is taken, the other least-like
   * plans first, then the rest from least to most like the previous turn.
   */
  private follow(plans: readonly Plan[], banks: Record<Tactic, readonly string[]>, req: ComposeRequest, pick: Choose, salt: string, attempt = 0): string {
    // A one-move plan is the fallback, for when nothing else fits what was heard; and when something
    // was heard to say back (a feeling, a detail, their words), every plan says it back.
    // (A reaction in kind, "I'm sorry" to a hard day, says back the feeling too.)
    const grounded = (plan: Plan) => plan.some((t) => GROUNDED.has(t) || (t === 'emotional_reaction' && banks[t].length > 0));
    const canGround = [...GROUNDED].some((t) => banks[t].length > 0);
    const fits = plans.filter((plan) => plan.length > 1 && plan.every((t) => banks[t].length > 0));
    const usable = fits.length > 0 ? fits : plans.filter((plan) => plan.length === 1 && banks[plan[0]!].length > 0);
    const previous = req.previousLine ?? '';
    let before = this.labelCache.get(previous);
    if (!before) {
      if (this.labelCache.size > 256) this.labelCache.clear();
      before = labelTurn(previous);
      this.labelCache.set(previous, before);
    }
    // Not saying back what could be said back costs most (every disclosure is answered so that it shows
    // it was heard); sharing moves with the last turn comes next.
    const cost = (plan: Plan) => plan.filter((t) => before.has(t)).length / plan.length + (canGround && !grounded(plan) ? 1 : 0);
    const least = Math.min(...usable.map(cost));
    const best = usable.filter((plan) => cost(plan) === least);
    const chosen = hash(`${req.participantId}|${req.sessionId}|${req.studyDay}|${req.turnIndex}|${salt}`) % best.length;
    const order = [...best.slice(chosen), ...best.slice(0, chosen), ...usable.filter((pl) => !best.includes(pl)).sort((x, y) => cost(x) - cost(y))];
    // Every plan that fits is listed (for `lines`); the one chosen here is honoured when speaking.
    const plan = pick(usable.map((pl) => pl.join('+')), salt, usable.indexOf(order[attempt % order.length]!)).split('+') as Tactic[];
    return plan.map((t) => pick(banks[t], `${salt}-${t}`)).join(' ');
  }
}

/** A line is not said verbatim more than this often among the recent lines (issue 15: twice a month). */
const MAX_REPEATS = 2;
/** Other wordings tried before a line is said a third time. */
const REPEAT_ATTEMPTS = 24;

/** The moves of one robot turn, in the order they are said. */
type Plan = readonly Tactic[];

/** What a reply is written from. */
interface HeardIn {
  feeling: Heard['feeling'];
  detail: string | null;
  person: string | null;
  summary: string | null;
  /**
   * Their words when the paraphrase does not start with "you" ("the boiler broke…", "not bad, a bit
   * achy…"), short enough to say back at the check-in; `clause` when they make a sentence of their own.
   */
  echo: { text: string; clause: boolean } | null;
  valence: -1 | 0 | 1;
}

/** A paraphrase that is a sentence of its own (a subject first), not a fragment ("not bad, …"). */
const CLAUSE_START = /^(?:it|the|there|things|everything|today|this|that|work|we|your|he|she|they|my)\b/;

/** The moves that say back what was heard: the feeling, the detail, or their words. */
const GROUNDED: ReadonlySet<Tactic> = new Set(['reflection', 'restatement', 'interpretation']);

/** Turns that go on: each ends by exploring (EPITOME's most valued mechanism). */
const OPEN_PLANS: readonly Plan[] = [
  ['reflection', 'restatement', 'exploration'],
  ['emotional_reaction', 'interpretation', 'exploration'],
  ['validation', 'restatement', 'exploration'],
  ['reflection', 'normalising', 'exploration'],
  ['restatement', 'exploration'],
  ['interpretation', 'exploration'],
  ['reflection', 'exploration'],
  ['validation', 'exploration'],
  ['exploration'],
];

/**
 * Turns that go on without a question (after one, see `empathy`): each says back what was told (a detail
 * or their words, not only the feeling), then `FLOOR_CUES` hands the floor over.
 */
const REFLECT_PLANS: readonly Plan[] = [
  ['reflection', 'interpretation'],
  ['emotional_reaction', 'restatement', 'validation'],
  ['restatement', 'normalising'],
  ['interpretation', 'validation'],
  ['reflection', 'restatement'],
];

/** Listening cues that end a turn without a question: they ask nothing, and leave the participant the floor. */
const FLOOR_CUES: readonly string[] = ["Take your time; I'm listening.", "I'm here, and I'm listening.", "I'm listening."];

/** A robot line that leaves the participant the floor: it ends with a question or a listening cue. */
export function handsOverFloor(line: string): boolean {
  const end = line.trim();
  return end.endsWith('?') || FLOOR_CUES.some((cue) => end.endsWith(cue));
}

/** The last turn of the conversation: no new question. */
const FINAL_PLANS: readonly Plan[] = [
  ['reflection', 'affirmation', 'appreciation'],
  ['validation', 'restatement', 'appreciation'],
  ['interpretation', 'affirmation'],
  ['emotional_reaction', 'restatement', 'appreciation'],
  ['restatement', 'normalising', 'appreciation'],
  ['reflection', 'appreciation'],
  ['interpretation', 'appreciation'],
  ['normalising', 'appreciation'],
  ['emotional_reaction', 'affirmation'],
  ['validation', 'affirmation'],
  ['appreciation'],
];
