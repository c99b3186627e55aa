import type { Listener, ListenerEvents, ListenRequest } from '../../behaviors/index.js';
import { speechDurationMs, type TimerClock } from './scripted-participant.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same participant. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MOODS = [
  "I'm doing pretty well today, thanks.", "Honestly, a bit tired. Work has been a lot this week.", 'Not great, I slept badly.',
  "I'm good! The sun is out for once.", 'Okay, I guess. Nothing special.', "A little anxious, I have a doctor's appointment tomorrow.",
  "I'm happy, my daughter called this morning.", 'Kind of lonely today, the house is very quiet.', 'Fine. Busy, but fine.',
  "I feel calm today, I went for a long walk.", "I'm frustrated, my landlord still hasn't fixed the heating.", 'Pretty content, actually.',
];
// Days that bring a real worry or a piece of news to the check-in (about one day in three): the robot
// must say it back before it moves on to the story.
const DISCLOSURES = [
  (p: string) => `Honestly, not great. I had a fight with ${p} about our mother's care.`,
  (p: string) => `A bit worried. ${cap(p)} has been unwell and I can't visit until the weekend.`,
  (p: string) => `Good, actually. ${cap(p)} came over and we cooked dinner together.`,
  () => "Tired. I was up half the night with my back, and I missed my swimming class.",
  (p: string) => `I'm a little sad. It would have been ${p}'s birthday today.`,
  () => "Busy. We're clearing out the garage before the move next month.",
  (p: string) => `Not bad. I started a pottery class at the community centre, and ${p} came with me.`,
  () => "Stressed. The hospital moved my scan again and nobody will tell me why.",
];
const PEOPLE = ['my sister', 'my grandmother', 'my best friend', 'my father', 'my neighbour', 'my son', 'my old teacher', 'my aunt', 'my partner', 'my brother'];
const PLACES = ['Lisbon', 'the lake near our old house', 'the hospital', 'my first apartment', 'the train station', 'Manila', 'the garden', 'my old school', 'Toronto', 'the beach'];
const EXPERIENCES = [
  (p: string, l: string) => `It reminded me of when ${p} and I got lost near ${l}. We laughed about it for years.`,
  (p: string, l: string) => `When I moved to ${l} I didn't know anyone, and ${p} called me every single night.`,
  (p: string) => `I lost touch with ${p} for a long time, and when we finally talked again it felt like no time had passed.`,
  (p: string, l: string) => `${cap(p)} was sick last year and I spent a lot of time at ${l}. I was scared but I tried not to show it.`,
  (p: string) => `I failed my driving test twice, and ${p} kept telling me it didn't matter. I was so embarrassed.`,
  (p: string, l: string) => `The part about starting over made me think of leaving ${l}. ${cap(p)} helped me pack everything.`,
  (p: string) => `I felt proud, like when ${p} saw me graduate. I didn't expect to feel so emotional.`,
  () => `Not much, to be honest. It was a nice story though.`,
  (p: string) => `I had a big argument with ${p} once and I regret the things I said. We made up, but I still think about it.`,
  (p: string, l: string) => `It made me think about ${l}, where I grew up. I miss how simple things felt back then.`,
];
const FOLLOW_UPS = [
  'I think it taught me that people show up when you let them.', "It still makes me smile when I think about it.",
  "I'm not sure. It was complicated.", 'Mostly I felt grateful, looking back.', 'I wish I had said more at the time.',
  'Honestly, it was hard, but it made us closer.', 'I guess I learned to ask for help.',
  'My mother used to say that things look different in the morning, and she was usually right.',
  "I still have the letters from back then in a box under the bed.", 'We talk more now than we did before all that happened.',
  "I was angry for a long time, but I'm mostly at peace with it now.", 'It made me want to call my cousin, actually.',
];
const RATINGS: Record<number, readonly string[]> = {
  1: ['not at all', 'one', '1', "I couldn't relate, honestly"],
  2: ['two', 'a little', '2', 'not really'],
  3: ['three', 'somewhat', 'I would say 3', 'sort of'],
  4: ['four', 'quite a lot', '4', "I'd say four"],
  5: ['five', 'very much', '5', 'completely'],
};
const AGREEMENT: Record<number, string> = { 1: 'strongly disagree', 2: 'disagree', 3: 'neither agree nor disagree', 4: 'agree', 5: 'strongly agree' };
const UNCLEAR = ['hmm, let me think', 'maybe', 'I am not sure', 'it was nice'];

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A simulated study participant for `hearth simulate`: answers each question in a plausible,
 * seeded way (moods, shared experiences with people and places, ratings said in many forms),
 * sometimes stays silent or answers unclearly, is away some days, and takes human-like time to speak.
 */
export class SimulatedParticipant implements Listener {
  private readonly rand: () => number;
  private readonly liking: number;
  private reflectionTurns = 0;
  private lastStep = '';

  private readonly away = new Map<string, boolean>();

  constructor(seed: number, private readonly clock: TimerClock, private readonly dayOf: (ms: number) => string = (ms) => new Date(ms).toISOString().slice(0, 10)) {
    this.rand = seededRandom(seed);
    this.liking = 1 + Math.floor(this.rand() * 5);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  /** Whether the participant is away on the local day of `ms` (about one day in twelve), decided once per day. */
  isAway(ms: number): boolean {
    const day = this.dayOf(ms);
    if (!this.away.has(day)) this.away.set(day, this.rand() < 0.08);
    return this.away.get(day)!;
  }

  listen(request: ListenRequest, events: ListenerEvents): () => void {
    if (this.isAway(this.clock.now())) return () => undefined; // nobody home: every invitation goes unanswered
    if (request.step === 'reflection' && this.lastStep !== 'reflection') this.reflectionTurns = 0;
    this.lastStep = request.step;
    if (this.rand() < 0.04) return () => undefined; // silence: the robot's reply timeout runs
    const text = this.answer(request);
    const pause = 600 + Math.floor(this.rand() * 2500);
    const t0 = this.clock.now();
    const h = this.clock.setTimeout(
      () => events.spoke({ text, startedAt: t0 + pause, endedAt: this.clock.now(), confidence: 0.6 + this.rand() * 0.4 }),
      pause + speechDurationMs(text),
    );
    return () => this.clock.clearTimeout(h);
  }

  private answer(request: ListenRequest): string {
    switch (request.step) {
      case 'checkin':
        return this.rand() < 0.33 ? this.pick(DISCLOSURES)(this.pick(PEOPLE)) : this.pick(MOODS);
      case 'empathy':
        // Asked more after the robot's first reply: a follow-up most days, a short answer some days.
        return this.rand() < 0.8 ? this.pick(FOLLOW_UPS) : this.pick(['Okay.', 'Not really, no.', 'Mm, I suppose.']);
      case 'reflection':
        this.reflectionTurns += 1;
        return this.reflectionTurns === 1 ? this.pick(EXPERIENCES)(this.pick(PEOPLE), this.pick(PLACES)) : this.pick(FOLLOW_UPS);
      case 'rating': {
        if (this.rand() < 0.12 && !/number/i.test(request.prompt)) return this.pick(UNCLEAR);
        const drift = Math.round((this.rand() - 0.5) * 2);
        const value = Math.min(5, Math.max(1, this.liking + drift));
        return this.pick(RATINGS[value]!);
      }
      case 'survey':
        return this.surveyAnswer(request.prompt);
      default:
        return 'Okay.';
    }
  }

  /**
   * A questionnaire answer read off the question, as a person answers it: a number when it names a range
   * ("from 1 to 9"), one of the choices when it lists them ("Hardly ever, some of the time, or often?"),
   * otherwise how much they agree with the statement. Moods sit near the participant's own level.
   */
  private surveyAnswer(prompt: string): string {
    const repair = /number|answer with|say one of/i.test(prompt);
    if (!repair && this.rand() < 0.06) return this.pick(UNCLEAR);
    const range = /\b(\d+)\s+(?:to|and)\s+(\d+)\b/.exec(prompt);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      const level = lo + ((this.liking - 1) / 4) * (hi - lo);
      const value = Math.min(hi, Math.max(lo, Math.round(level + (this.rand() - 0.5) * (hi - lo) * 0.5)));
      return this.rand() < 0.5 ? String(value) : `I would say ${value}`;
    }
    const choices = /([A-Za-z][^?.,]*(?:,\s*[^?.,]+)*,?\s+or\s+[^?.,]+)\?\s*$/.exec(prompt);
    if (choices) {
      const options = choices[1]!.split(/,\s*|\s+or\s+/).map((o) => o.replace(/^or\s+/, '').trim()).filter(Boolean);
      if (options.length >= 2) return cap(this.pick(options));
    }
    const drift = Math.round((this.rand() - 0.5) * 2);
    return cap(AGREEMENT[Math.min(5, Math.max(1, this.liking + drift))]!);
  }
}
