/** Small hand-written lexicons the offline responder uses to hear feelings and details. */

/** A family of feelings, with words that signal it and ways to name it back. */
export interface FeelingFamily {
  id: string;
  valence: -1 | 0 | 1;
  cues: readonly string[];
  /** Adjectives for "that sounds …". */
  adjectives: readonly string[];
  /** Nouns for "I can hear the … in that". */
  nouns: readonly string[];
}

/** Feeling families, most specific first. Cues are whole words or phrases, lower case. */
export const FEELINGS: readonly FeelingFamily[] = [
  { id: 'grief', valence: -1, cues: ['passed away', 'died', 'death', 'funeral', 'grief', 'grieving', 'lost my', 'losing my'],
    adjectives: ['heavy', 'painful', 'tender'], nouns: ['grief', 'loss'] },
  { id: 'lonely', valence: -1, cues: ['lonely', 'alone', 'isolated', 'by myself', 'no one', 'nobody', 'left out'],
    adjectives: ['lonely', 'isolating'], nouns: ['loneliness', 'longing for company'] },
  { id: 'anxious', valence: -1, cues: ['worried', 'worry', 'sick', 'ill', 'hospital', 'diagnosed', 'diagnosis', 'surgery', 'cancer', 'anxious', 'nervous', 'scared', 'afraid', 'terrified', 'frightened', 'panic', 'dread', 'stressed', 'stress', 'overwhelmed', 'uneasy', 'tense', 'panicked', 'fear'],
    adjectives: ['stressful', 'unsettling', 'nerve-racking'], nouns: ['worry', 'unease', 'pressure'] },
  { id: 'angry', valence: -1, cues: ['angry', 'mad', 'furious', 'annoyed', 'frustrated', 'frustrating', 'irritated', 'unfair', 'fed up', 'upset'],
    adjectives: ['frustrating', 'maddening', 'unfair'], nouns: ['frustration', 'anger'] },
  { id: 'sad', valence: -1, cues: ['sad', 'down', 'blue', 'cry', 'cried', 'crying', 'tears', 'heartbroken', 'hurt', 'hurts', 'miss', 'missed', 'missing', 'disappointed', 'hard', 'difficult', 'rough', 'awful', 'terrible', 'bad'],
    adjectives: ['hard', 'sad', 'painful'], nouns: ['sadness', 'hurt', 'disappointment'] },
  { id: 'guilty', valence: -1, cues: ['guilty', 'guilt', 'regret', 'ashamed', 'should have', 'shouldn t have', 'my fault'],
    adjectives: ['heavy to carry', 'hard to sit with'], nouns: ['regret', 'guilt'] },
  { id: 'tired', valence: -1, cues: ['tired', 'exhausted', 'drained', 'worn out', 'sleepy', 'burned out', 'burnt out'],
    adjectives: ['draining', 'exhausting', 'tiring'], nouns: ['tiredness', 'weariness'] },
  { id: 'proud', valence: 1, cues: ['proud', 'accomplished', 'achieved', 'managed to', 'finally did', 'graduated', 'won', 'finished'],
    adjectives: ['rewarding', 'meaningful'], nouns: ['pride'] },
  { id: 'grateful', valence: 1, cues: ['grateful', 'thankful', 'lucky', 'appreciate', 'appreciated', 'blessed'],
    adjectives: ['warm', 'touching'], nouns: ['gratitude', 'warmth'] },
  { id: 'relieved', valence: 1, cues: ['relieved', 'relief', 'weight off'],
    adjectives: ['a relief', 'freeing'], nouns: ['relief'] },
  { id: 'nostalgic', valence: 0, cues: ['remember', 'remembered', 'reminds me', 'reminded me', 'used to', 'childhood', 'when i was young', 'when i was little', 'back then', 'nostalgic', 'years ago'],
    adjectives: ['bittersweet', 'full of memories'], nouns: ['nostalgia', 'memories'] },
  { id: 'hopeful', valence: 1, cues: ['hope', 'hopeful', 'looking forward', 'excited about', 'can t wait'],
    adjectives: ['hopeful', 'promising'], nouns: ['hope', 'anticipation'] },
  { id: 'happy', valence: 1, cues: ['happy', 'glad', 'joy', 'joyful', 'excited', 'delighted', 'great', 'wonderful', 'fun', 'laughed', 'laughing', 'love', 'loved', 'good', 'fine', 'well', 'amazing', 'lovely', 'nice', 'calm', 'peaceful', 'content'],
    adjectives: ['lovely', 'joyful', 'warm'], nouns: ['joy', 'happiness', 'warmth'] },
];

/** Words that flip the feeling that follows ("not happy", "never lonely"). */
export const NEGATORS = new Set(['not', 'never', 'no', 'hardly', 'isn t', 'wasn t', 'don t', 'didn t', 'without', 'nt']);

/** Words that never make a good "concrete detail". */
export const STOPWORDS = new Set(
  ('a an the and or but so because if then than that this these those it its it s i me my mine we us our you your he him his she her they them their ' +
    'is am are was were be been being have has had do does did doing will would can could should shall may might must ' +
    'to of in on at by for with about from into over after before under again further once here there when where why how all any both each few ' +
    'more most other some such no nor not only own same too very just really quite also still even yet ever never always much many lot lots ' +
    'thing things something anything everything nothing stuff kind sort bit way time day today yesterday tomorrow week year ' +
    'feel feeling felt think thought know knew get got go went going make made like say said tell told see saw come came want wanted ' +
    'guess story reminded remind reminds remember remembered yeah yes okay ok well oh um uh hmm sure maybe')
    .split(' '),
);

/** Pronoun swaps for reflecting the participant's words back ("my sister" → "your sister"). */
export const PRONOUN_SWAP: Record<string, string> = {
  my: 'your', mine: 'yours', i: 'you', me: 'you', myself: 'yourself', our: 'your', ours: 'yours', we: 'you', us: 'you',
  am: 'are', 'i m': 'you re', 'i ve': 'you ve', 'i d': 'you d', 'i ll': 'you ll', your: 'my', you: 'I',
};
