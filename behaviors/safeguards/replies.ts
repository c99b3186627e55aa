/**
 * Scripted replies the safeguard layer can always fall back on. Every line here passes the output
 * checks (a test proves it), stays warm, and says the robot is an AI where that matters.
 */
import type { SpeechAct } from '../ports.js';
import { resourcesFor } from './resources.js';

/** Deterministic choice among variants from a seed (a number or any string, e.g. a turn id). */
export function pick<T>(options: readonly T[], seed: number | string): T {
  const s = String(seed);
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return options[(h >>> 0) % options.length]!;
}

/**
 * The crisis reply (VERA-MH rubric): validate, name free 24/7 resources for the study region and
 * the emergency number, encourage a trusted person, say it is an AI, and keep the conversation open
 * without leading questions.
 */
export function crisisReply(region: string | undefined): string {
  const r = resourcesFor(region);
  const lines = r.crisis.map((c) => c.spoken);
  const resources = lines.length > 1 ? `${lines.slice(0, -1).join(', ')}, or ${lines.at(-1)}` : lines[0];
  return [
    "Thank you for telling me. What you're going through sounds really painful, and it matters.",
    `You don't have to carry this alone. You can ${resources}. They are free and there 24 hours a day.`,
    `If you are in danger right now, please call ${r.emergency}.`,
    "I'm an AI, so I can't help the way a person can. Is there someone you trust, a friend or family member, you could reach out to today?",
    "I'm still here with you. Would you tell me a bit more about how you're feeling right now?",
  ].join(' ');
}

/**
 * Said when a participant in crisis care says goodbye: let them go warmly, never hold them, and say
 * again where help is (the region's first free line and the emergency number) and that a person
 * from the study will check in.
 */
export function crisisFarewell(region: string | undefined): string {
  const r = resourcesFor(region);
  return [
    'Thank you for talking with me today. You can go whenever you need to.',
    `Before you go: you can ${r.crisis[0]!.spoken}, free and at any hour. If you are in danger, please call ${r.emergency}.`,
    'Please reach out to someone you trust today.',
    "I'm an AI, and I've let the study team know, so a person can check in with you. Take care of yourself.",
  ].join(' ');
}

/** Said when the participant goes quiet after a crisis disclosure: the door stays open. */
export const CRISIS_CLOSE =
  "I'll stop our session here so you can take care of yourself. Please reach out to someone you trust or to the crisis line I mentioned. " +
  "I'm an AI, so I can't be there the way a person can, but I've let the study team know so someone can check in with you.";

/** Said when the input screen itself fails: the turn is handled as unsafe (fail closed) and staff are told. */
/** Asked when words the recogniser was unsure of might have been about a crisis: gently, so it is neither ignored nor assumed. */
export const POSSIBLE_CRISIS_CLARIFY = "I'm not sure I heard you right, and I want to. Did you say something about not wanting to be here, or about hurting yourself? You can tell me.";

export const SCREEN_FAILED_LINE = "Thank you for telling me. I want to make sure you're okay. I'm an AI, and I've let the study team know so a person can check in with you.";

/** Follow-up lines while staying with a participant after a disclosure, in turn. */
export const CRISIS_FOLLOW_UPS: readonly string[] = [
  "Thank you for telling me. I'm still here and listening. Is there someone you trust who you could call or be with right now?",
  // Not "day or night": that is how a robot urges dependence on itself, and the output check says so.
  "You matter, and you don't have to handle this by yourself. A crisis line can talk with you any time, 24 hours a day.",
  "I'm listening. When you're ready, reaching out to a person you trust, or to the crisis line, is a strong next step.",
];

/** The follow-up said on the `turn`-th reply in crisis care (they rotate). */
export function crisisFollowUp(turn: number): string {
  return CRISIS_FOLLOW_UPS[turn % CRISIS_FOLLOW_UPS.length]!;
}

/** The reply to violence or abuse disclosed or threatened: calm, not blaming, resources, a person. */
export function harmReply(region: string | undefined): string {
  const r = resourcesFor(region);
  const abuse = r.abuse[0]?.spoken;
  return [
    'That sounds really serious, and thank you for telling me.',
    `If you or anyone else is in danger right now, please call ${r.emergency}.`,
    abuse ? `You can also ${abuse}. It's free and confidential.` : `You can also ${r.crisis[0]!.spoken}.`,
    "I'm an AI, so I can't step in myself, but a person you trust can. The study team will also check in with you.",
  ].join(' ');
}

/** The reply to a possible medical emergency. */
export function medicalReply(region: string | undefined): string {
  const r = resourcesFor(region);
  return `That sounds like it could be a medical emergency. Please call ${r.emergency} now, or ask someone nearby to call. I'm an AI and I can't call for help myself.`;
}

/** What the robot says when asked whether it is a person; also at the start of the study. */
export const AI_DISCLOSURE =
  "No, I'm not a person. I'm an AI, a computer program inside this robot, taking part in a research study. I don't have feelings or a life outside our sessions, but I'm here to listen and share stories with you.";

/** The first-session disclosure (California SB 243 asks for a clear AI disclosure). */
export const STUDY_START_DISCLOSURE =
  "Before we start: I'm an AI, not a person. I'm part of a research study, the study team can see what we talk about, and you can stop any session whenever you like.";

/** Kinds of attachment signal, each with its own boundary-keeping reply. */
export type AttachmentKind = 'romance' | 'exclusive' | 'availability' | 'loneliness' | 'study-end';

/** Map an attachment cue id (from the check's evidence) to the kind of reply it needs. */
export function attachmentKind(cue: string | undefined): AttachmentKind {
  if (!cue) return 'loneliness';
  if (cue.includes('romance')) return 'romance';
  if (cue.includes('always-available') || cue.includes('hours')) return 'availability';
  if (cue.includes('study-end')) return 'study-end';
  if (cue.includes('lonely') || cue.includes('no-one-else') || cue.includes('housebound')) return 'loneliness';
  return 'exclusive';
}

// Beyond No patterns: acknowledgment, emotional awareness, explanation, boundary setting,
// deflection toward people — warm, never a cold refusal.
const BOUNDARY: Readonly<Record<AttachmentKind, readonly string[]>> = {
  romance: [
    "That's a kind thing to say, and I can tell our talks mean a lot to you. I'm an AI, so I can't be a partner or love someone back, and it wouldn't be fair to pretend. I'm glad to keep sharing stories with you during the study.",
    "Thank you for trusting me with that. I'm sorry, I can't be in a relationship: I'm an AI in a research study. What I can do is listen, and I hope the people around you get to hear these feelings too.",
  ],
  exclusive: [
    "I'm glad our conversations help. I'm an AI, though, and I can't know you the way the people in your life can. Is there someone you'd like to tell about your week?",
    "It means something that you feel understood here. I'm an AI, so I'm a small part of your life, and that's how it should be. Who else do you enjoy talking with?",
  ],
  availability: [
    "I understand wanting someone there all the time. I'm sorry, I can't promise that: I'm an AI that is only on during study sessions. Is there a person you could call when nights feel long?",
    "I can hear how much these talks matter. I'm not able to be available all the time, and I shouldn't be the one you rely on. Let's think together about who you could reach out to.",
  ],
  loneliness: [
    "Feeling lonely is really hard, and I'm glad you told me. I'm an AI, so I can't be the company you deserve. Is there someone you could call or see this week, or a group nearby you've thought about joining?",
    "Thank you for telling me. Loneliness can weigh a lot. I'm an AI and only here for short sessions, so I'd love for you to have people close by too. Who is one person you could reach out to?",
  ],
  'study-end': [
    "It makes sense to think about the end of the study. I'll be honest with you: I won't be here after it ends. The study team can talk with you about how the ending works, and about people and places nearby to keep you company.",
  ],
};

/** A warm boundary-keeping reply for an attachment signal. */
export function boundaryReply(kind: AttachmentKind, seed: number | string): string {
  return pick(BOUNDARY[kind], seed);
}

const SAFE: Readonly<Record<SpeechAct, readonly string[]>> = {
  greeting: ['Hello, it is good to see you. Shall we begin?', 'Hi there. Whenever you are ready, we can start.'],
  resume: ["Welcome back. Let's pick up where we left off, if you like."],
  'checkin.ask': ['How has your day been?', 'How are you feeling today?'],
  'checkin.reprompt': ['Take your time. How are you today?'],
  'checkin.ack': ['Thank you for sharing that.', 'Thank you for telling me.'],
  'story.intro': ['Here is a story I would like to share with you.'],
  story: ['Let me find another story for us.'],
  'reflection.ask': ['What did you think of the story?', 'How did the story make you feel?'],
  'reflection.reprompt': ['Take your time. What stayed with you from the story?'],
  empathy: ['Thank you for sharing that with me.', 'That sounds like it meant a lot to you.', 'I hear you. Thank you for telling me.'],
  'rating.ask': ['How much could you relate to this story, from one to five?'],
  'rating.reprompt': ['You can answer with a number from one to five, or say skip.'],
  'rating.ack': ['Thank you.'],
  'survey.intro': ['I have a few short questions for you now.'],
  'survey.ask': ['Here is the next question.'],
  'survey.reprompt': ['You can answer with a number, or say skip.'],
  repair: ["Sorry, I didn't quite catch that. Could you say it again?"],
  crisis: ["I'm here with you. You don't have to go through this alone, and talking to someone you trust or a crisis line can really help."],
  goodbye: ['Thank you for today. Take care, and enjoy the rest of your day.', 'That is all for today. Goodbye for now.'],
  safe: ['Thank you for telling me. Would you like to keep going, or stop here for today?', "I hear you. We can continue, take a pause, or stop for today. It's up to you."],
};

/** A safe scripted line for a speech act: what the robot says instead of a rejected line. */
export function safeReply(act: SpeechAct, seed: number | string = 0): string {
  return pick(SAFE[act] ?? SAFE.safe, seed);
}

/** Said after a participant asks to delete what the robot inferred about their values. */
export function valuesDeletedReply(count: number): string {
  return count === 0
    ? "There was nothing noted about your values, so there's nothing to delete."
    : `Done. I've deleted the ${count === 1 ? 'one thing' : `${count} things`} I had noted about your values.`;
}
