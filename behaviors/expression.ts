import type { SpeechAct } from './ports.js';

/**
 * What the robot's face and body do while it says a line: from the speech act and the participant's
 * affect (valence/arousal in −1..1, as in ROS4HRI `hri_msgs/Expression`). Pure; adapters turn the names
 * into animations, the simulator prints them. The robot mirrors softly and never mirrors distress back
 * (anger or panic get calm), is never cheerful at someone who is low, and is plain and still for safety lines.
 */

/** Robot facial expressions. */
export type RobotExpression = 'neutral' | 'happy' | 'sad' | 'concerned' | 'calm' | 'curious' | 'attentive' | 'surprised';

/** Robot gestures. */
export type RobotGesture =
  | 'none' | 'wave' | 'small_wave' | 'nod' | 'slow_nod' | 'head_tilt' | 'lean_in' | 'look_at_listener' | 'story_sway' | 'still';

/** The participant's affect as perception reports it; any part may be unknown. */
export interface ParticipantAffect {
  valence?: number | null;
  arousal?: number | null;
  /** 0..1; estimates under `MIN_CONFIDENCE` are ignored. */
  confidence?: number | null;
}

/** An expression and gesture for one line, with why (for the log and the simulator). */
export interface ExpressionCue {
  expression: RobotExpression;
  gesture: RobotGesture;
  /** 0..1: how strongly to animate. */
  intensity: number;
  /** The participant's mood as read for this choice. */
  mood: Mood;
}

/** How the participant's affect was read. */
export type Mood = 'unknown' | 'neutral' | 'low' | 'distressed' | 'content' | 'elated';

/** Affect estimates less confident than this do not change the robot's expression. */
export const MIN_CONFIDENCE = 0.4;

/** Read a mood from valence and arousal (Russell's circumplex, with a neutral band). */
export function moodOf(affect: ParticipantAffect | undefined): Mood {
  if (!affect || typeof affect.valence !== 'number' || !Number.isFinite(affect.valence)) return 'unknown';
  if (typeof affect.confidence === 'number' && affect.confidence < MIN_CONFIDENCE) return 'unknown';
  const v = clamp(affect.valence), a = typeof affect.arousal === 'number' && Number.isFinite(affect.arousal) ? clamp(affect.arousal) : 0;
  if (v <= -0.25) return a > 0.3 ? 'distressed' : 'low';
  if (v >= 0.25) return a > 0.3 ? 'elated' : 'content';
  return 'neutral';
}

type Rule = (mood: Mood, strength: number) => Omit<ExpressionCue, 'mood'>;

const cue = (expression: RobotExpression, gesture: RobotGesture, intensity: number): Omit<ExpressionCue, 'mood'> =>
  ({ expression, gesture, intensity: Math.round(Math.min(1, Math.max(0, intensity)) * 100) / 100 });

// Acknowledging what the participant said: mirror softly, calm distress, never cheer at sadness.
const acknowledge: Rule = (mood, s) => {
  switch (mood) {
    case 'low': return cue('concerned', 'slow_nod', 0.3 + 0.3 * s);
    case 'distressed': return cue('calm', 'slow_nod', 0.4);
    case 'elated': return cue('happy', 'nod', 0.5 + 0.4 * s);
    case 'content': return cue('happy', 'nod', 0.4 + 0.2 * s);
    default: return cue('attentive', 'nod', 0.4);
  }
};

const RULES: Record<SpeechAct, Rule> = {
  greeting: (m) => (m === 'low' || m === 'distressed' ? cue('calm', 'small_wave', 0.4) : cue('happy', 'wave', m === 'elated' ? 0.8 : 0.6)),
  resume: (m) => (m === 'low' || m === 'distressed' ? cue('calm', 'nod', 0.4) : cue('attentive', 'nod', 0.5)),
  'checkin.ask': (m) => (m === 'low' || m === 'distressed' ? cue('concerned', 'head_tilt', 0.4) : cue('curious', 'head_tilt', 0.5)),
  'checkin.reprompt': () => cue('attentive', 'lean_in', 0.3),
  'checkin.ack': acknowledge,
  'story.intro': (m) => (m === 'low' || m === 'distressed' ? cue('calm', 'look_at_listener', 0.4) : cue('happy', 'look_at_listener', 0.5)),
  story: () => cue('calm', 'story_sway', 0.3),
  'reflection.ask': () => cue('curious', 'head_tilt', 0.5),
  'reflection.reprompt': () => cue('attentive', 'lean_in', 0.3),
  empathy: (m, s) => {
    switch (m) {
      // Soft sadness, capped: sympathy, not melodrama.
      case 'low': return cue('sad', 'slow_nod', Math.min(0.6, 0.3 + 0.3 * s));
      case 'distressed': return cue('concerned', 'lean_in', 0.5);
      case 'elated': return cue('happy', 'nod', 0.5 + 0.4 * s);
      case 'content': return cue('happy', 'nod', 0.4 + 0.2 * s);
      default: return cue('attentive', 'head_tilt', 0.4);
    }
  },
  'rating.ask': () => cue('curious', 'head_tilt', 0.4),
  'rating.reprompt': () => cue('attentive', 'lean_in', 0.3),
  'rating.ack': (m) => (m === 'low' || m === 'distressed' ? cue('calm', 'nod', 0.3) : cue('happy', 'nod', 0.4)),
  'survey.intro': () => cue('attentive', 'look_at_listener', 0.3),
  'survey.ask': () => cue('curious', 'head_tilt', 0.3),
  'survey.reprompt': () => cue('attentive', 'lean_in', 0.3),
  repair: () => cue('attentive', 'lean_in', 0.3),
  // Crisis lines: calm, present, still — never cheerful.
  crisis: () => cue('calm', 'still', 0.2),
  goodbye: (m) => (m === 'low' || m === 'distressed' ? cue('calm', 'small_wave', 0.4) : cue('happy', 'wave', 0.6)),
  // Safety lines: plain, calm and still, whatever the mood.
  safe: () => cue('calm', 'still', 0.2),
};

/** The expression and gesture for a line of a given speech act, given the participant's affect (if known). */
export function expressionFor(act: SpeechAct, affect?: ParticipantAffect): ExpressionCue {
  const rule = RULES[act];
  if (!rule) throw new RangeError(`expression: unknown speech act "${String(act)}"`);
  const mood = moodOf(affect);
  const strength = mood === 'unknown' ? 0 : Math.min(1, Math.abs(clamp(affect!.valence!)));
  return { ...rule(mood, strength), mood };
}

/** Every speech act that has an expression rule (all of `SpeechAct`). */
export const EXPRESSIVE_ACTS = Object.keys(RULES) as SpeechAct[];

function clamp(x: number): number {
  return Math.max(-1, Math.min(1, x));
}
