import { describe, expect, it } from 'vitest';
import { chooseStory, choiceLogDetail, contentWords, cosineSimilarity, detectEmotions, detectThemes, seededUnit, type EmbedTexts } from './choose.js';
import { bundledStories, type Story } from './story.js';

const story = (id: string, themes: string[], emotions: string[], text: string): Story => ({
  id, title: id, themes, emotions, mainEvent: `${id} happens`, readingTimeS: 60, paragraphs: [text],
});

const small: Story[] = [
  story('dog', ['pets', 'loss'], ['grief', 'love'], 'Our old dog died in the spring and the house felt empty without her.'),
  story('exam', ['failure', 'education'], ['shame', 'relief'], 'I failed the exam and had to tell my parents at dinner.'),
  story('garden', ['community', 'nature'], ['belonging', 'hope'], 'The allotment garden gave me neighbours and courgettes.'),
  story('swim', ['ageing', 'courage'], ['fear', 'pride'], 'At sixty I learned to swim a length of the pool.'),
];

describe('matched story choice (offline)', () => {
  it('picks the story that resonates with what was shared, and explains why', async () => {
    const choice = await chooseStory({
      condition: 'matched', participantId: 'P01', studyDay: 3, heard: [], stories: small,
      shared: 'I miss my cat so much since she died last month. I cried all weekend.',
    });
    expect(choice?.story.id).toBe('dog');
    expect(choice?.method).toBe('lexical');
    const best = choice!.candidates[0]!;
    expect(best.matched?.themes).toEqual(expect.arrayContaining(['pets', 'loss']));
    expect(best.matched?.emotions).toContain('grief');
    expect(best.score).toBeGreaterThan(choice!.candidates[1]!.score);
    expect(choice!.candidates).toHaveLength(4);
  });

  it('never picks a story the participant has heard', async () => {
    const choice = await chooseStory({
      condition: 'matched', participantId: 'P01', studyDay: 4, heard: ['dog'], stories: small,
      shared: 'I miss my cat so much since she died.',
    });
    expect(choice?.story.id).not.toBe('dog');
    expect(choice?.candidates.map((c) => c.storyId)).not.toContain('dog');
    expect(choice?.remaining).toBe(2);
  });

  it('returns undefined once every story has been heard', async () => {
    const choice = await chooseStory({ condition: 'matched', participantId: 'P01', studyDay: 9, heard: small.map((s) => s.id), stories: small, shared: 'x' });
    expect(choice).toBeUndefined();
  });

  it('with nothing shared, ties are broken by the seeded draw rather than file order', async () => {
    const firsts = new Set<string>();
    for (let day = 1; day <= 12; day++) {
      const c = await chooseStory({ condition: 'matched', participantId: 'P01', studyDay: day, heard: [], stories: small, shared: '' });
      firsts.add(c!.story.id);
    }
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('finds resonant stories in the bundled library across a month without repeats', async () => {
    const stories = bundledStories();
    const heard: string[] = [];
    for (let day = 1; day <= Math.min(28, stories.length); day++) {
      const c = await chooseStory({ condition: 'matched', participantId: 'P02', studyDay: day, heard, stories, shared: 'My sister and I had a big argument and we finally made up.' });
      expect(heard).not.toContain(c!.story.id);
      heard.push(c!.story.id);
    }
    expect(new Set(heard).size).toBe(heard.length);
    expect(heard[0]).toBe('making-up-with-my-sister');
  });

  it('rejects an unknown condition naming it', async () => {
    await expect(chooseStory({ condition: 'generated' as never, participantId: 'P', studyDay: 1, heard: [], stories: small, shared: '' }))
      .rejects.toThrow(/unknown condition "generated"/);
  });
});

describe('random story choice', () => {
  it('is deterministic for the same seed, participant and day, and varies otherwise', async () => {
    const stories = bundledStories();
    const pick = async (seed: string, participantId: string, studyDay: number) =>
      (await chooseStory({ condition: 'random', participantId, studyDay, heard: [], stories, shared: 'ignored', seed }))!.story.id;
    expect(await pick('s1', 'P01', 2)).toBe(await pick('s1', 'P01', 2));
    const picks = new Set<string>();
    for (let d = 1; d <= 10; d++) picks.add(await pick('s1', 'P01', d));
    for (const p of ['P02', 'P03', 'P04']) picks.add(await pick('s1', p, 1));
    expect(picks.size).toBeGreaterThan(6);
  });

  it('logs a draw for every unheard candidate and never repeats', async () => {
    const c = await chooseStory({ condition: 'random', participantId: 'P01', studyDay: 1, heard: ['exam'], stories: small, shared: '', seed: 7 });
    expect(c!.method).toBe('seeded-random');
    expect(c!.candidates.map((x) => x.storyId).sort()).toEqual(['dog', 'garden', 'swim']);
    expect(c!.candidates[0]!.score).toBe(Math.max(...c!.candidates.map((x) => x.draw)));
  });

  it('draws roughly uniformly', () => {
    const bins = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) bins[Math.floor(seededUnit(`k${i}`) * 4)]!++;
    for (const b of bins) expect(b).toBeGreaterThan(850);
  });
});

describe('matched story choice with embeddings', () => {
  // A toy embedding: one axis per small-library story keyword, so the expected winner is known.
  const axes = ['dog', 'exam', 'garden', 'swim'];
  const embed: EmbedTexts = async (texts) => texts.map((t) => axes.map((a) => (t.toLowerCase().includes(a) ? 1 : 0.01)));

  it('ranks by cosine similarity and caches story vectors', async () => {
    const cache = new Map<string, number[]>();
    let calls = 0;
    const counting: EmbedTexts = async (texts) => { calls += texts.length; return embed(texts); };
    const c = await chooseStory({ condition: 'matched', participantId: 'P', studyDay: 1, heard: [], stories: small, shared: 'we swim every weekend', embed: counting, embeddingCache: cache });
    expect(c!.method).toBe('embedding');
    expect(c!.story.id).toBe('swim');
    expect(c!.candidates[0]!.cosine).toBeCloseTo(1, 2);
    expect(calls).toBe(5);
    await chooseStory({ condition: 'matched', participantId: 'P', studyDay: 2, heard: ['swim'], stories: small, shared: 'my garden', embed: counting, embeddingCache: cache });
    expect(calls).toBe(6);
  });

  it('falls back to the offline score when embeddings fail, and says why', async () => {
    const failing: EmbedTexts = async () => { throw new Error('HTTP 503 from http://127.0.0.1/v1/embeddings'); };
    const c = await chooseStory({ condition: 'matched', participantId: 'P', studyDay: 1, heard: [], stories: small, shared: 'I failed my exam', embed: failing });
    expect(c!.method).toBe('lexical');
    expect(c!.fallbackReason).toMatch(/embeddings failed: HTTP 503/);
    expect(c!.story.id).toBe('exam');
  });

  it('rejects vectors of the wrong shape as a failure (then falls back)', async () => {
    const bad: EmbedTexts = async (texts) => texts.map(() => []);
    const c = await chooseStory({ condition: 'matched', participantId: 'P', studyDay: 1, heard: [], stories: small, shared: 'swim', embed: bad });
    expect(c!.fallbackReason).toMatch(/vector #0 is not a finite vector/);
  });
});

describe('text helpers', () => {
  it('finds themes and emotions in plain speech', () => {
    expect(detectThemes('My boss yelled at me at work')).toContain('work');
    expect(detectEmotions("I'm so worried about my mum")).toEqual(expect.arrayContaining(['worry', 'anxiety']));
    expect(detectEmotions('the weather was grey')).toEqual([]);
  });
  it('stems and drops stopwords', () => {
    expect(contentWords('I was walking and walked the dogs')).toEqual(['walk', 'walk', 'dog']);
  });
  it('computes cosine similarity', () => {
    expect(cosineSimilarity([1, 0], [1, 0])).toBe(1);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([0, 0], [0, 1])).toBe(0);
  });
});

describe('choice log detail', () => {
  it('records condition, method, seed, the chosen story and every candidate, JSON-safe', async () => {
    const c = await chooseStory({ condition: 'matched', participantId: 'P01', studyDay: 3, heard: ['swim'], stories: small, shared: 'I failed my exam', seed: 'abc' });
    const d = JSON.parse(JSON.stringify(choiceLogDetail(c!))) as { candidates: { id: string; score: number; matched?: unknown }[] } & Record<string, unknown>;
    expect(d).toMatchObject({ condition: 'matched', method: 'lexical', seed: 'abc', storyId: 'exam', remaining: 2 });
    expect(d.candidates.map((x) => x.id)).toEqual(c!.candidates.map((x) => x.storyId));
    expect(d.candidates[0]).toMatchObject({ id: 'exam', matched: { themes: ['failure', 'education'] } });
  });
});
