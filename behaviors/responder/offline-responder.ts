import type { ResponseScale, UnclearReason } from '../../study-protocol/index.js';
import { fnv1a as hash } from '../hash.js';
import type { SpeechAct } from '../ports.js';
import { hear, type Heard } from './listen-for.js';

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
  /** Lines the robot said recently to this participant; the responder avoids repeating them. */
  recentLines?: readonly string[];
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

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

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
  /** Write the line for a request. */
  compose(req: ComposeRequest): string {
    if (req.scripted !== undefined) return req.scripted;
    const avoid = new Set(req.recentLines ?? []);
    const pick: Choose = (options, salt, index) => {
      if (index !== undefined) return options[index % options.length]!;
      const start = hash(`${req.participantId}|${req.studyDay}|${req.turnIndex}|${req.act}|${salt}`) % options.length;
      for (let k = 0; k < options.length; k++) {
        const o = options[(start + k) % options.length]!;
        if (!avoid.has(o)) return o;
      }
      return options[start]!;
    };
    return this.write(req, pick);
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

  private write(req: ComposeRequest, pick: Choose): string {
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
        return this.checkinAck(req, pick);
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
        return this.empathy(req, pick);
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

  private checkinAck(req: ComposeRequest, pick: Choose): string {
    const heard = hear(req.lastUtterance ?? '');
    if (!req.lastUtterance) return pick(["That's all right. Let's get started.", "No problem at all. Let's begin."], 'silent');
    if (heard.feeling?.valence === -1) {
      const adj = pick(heard.feeling.adjectives, 'adj', hash(req.sessionId));
      return pick([
        `I'm sorry today feels ${adj}. Thank you for telling me.`,
        `That sounds ${adj}. I'm glad you're here, and we can go gently today.`,
        `Thank you for being honest with me. It sounds like today is ${adj}.`,
      ], 'neg');
    }
    if (heard.feeling?.valence === 1) {
      return pick([
        "I'm really glad to hear that.",
        "That's lovely to hear.",
        "It's nice to hear you're doing well today.",
      ], 'pos');
    }
    return pick(['Thank you for sharing that with me.', 'Thanks for telling me how things are.', "I appreciate you telling me."], 'neutral');
  }

  private empathy(req: ComposeRequest, pick: Choose): string {
    const said = req.lastUtterance ?? '';
    const heard: Heard = hear(said);
    const feeling = heard.feeling;
    const reflection = feeling
      ? pick([
          `It sounds like that was ${feeling.adjectives[0]} for you.`,
          `I can hear the ${feeling.nouns[0]} in what you're saying.`,
          `That sounds ${feeling.adjectives[feeling.adjectives.length - 1]}.`,
          `There's a lot of ${feeling.nouns[0]} in that.`,
        ], `reflect-${feeling.id}`)
      : pick([
          'Thank you for sharing that with me.',
          'That sounds like it really stayed with you.',
          'I can tell that matters to you.',
        ], 'reflect-none');
    const detail = heard.detail;
    const words = said.split(/\s+/).filter((w) => /[a-z]/i.test(w)).length;
    if (!feeling && !detail && words <= 5) {
      // A short "not much" is an answer too: accept it without reading feelings into it.
      return req.finalExchange
        ? pick(["That's completely fine. Not every story connects, and that's useful for me to know.", 'Thank you, that is helpful to know.'], 'brief-close')
        : pick(["That's completely fine, not every story connects. Is there anything else on your mind today?",
            "That's okay. Is there something from your own week you'd like to tell me about instead?"], 'brief');
    }
    const detailLine = detail
      ? pick([
          `Especially the part about ${detail}.`,
          `${cap(detail)} seems to mean a lot here.`,
          `What you said about ${detail} stands out.`,
        ], 'detail')
      : '';
    if (req.finalExchange) {
      const close = pick([
        "Thank you for trusting me with that.",
        "I'm glad you shared it with me.",
        'Thank you for telling me about it.',
      ], 'close');
      return [reflection, detailLine, close].filter(Boolean).join(' ');
    }
    const questions = feeling?.valence === 1
      ? ['What made it feel so good?', 'What do you think made that moment special?', 'How did it change things for you?']
      : feeling?.valence === -1
        ? ['What helped you get through it?', 'How do you feel about it now, looking back?', 'What was the hardest part for you?']
        : ['What was that like for you?', 'How do you feel about it now?', 'What stays with you most when you think about it?'];
    const question = detail && detail.length < 40
      ? pick([...questions, `What do you remember most about ${detail}?`], 'question')
      : pick(questions, 'question');
    return [reflection, detailLine, question].filter(Boolean).join(' ');
  }
}
