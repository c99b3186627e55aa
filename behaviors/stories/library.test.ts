import { describe, expect, it } from 'vitest';
import { bundledStories, wordCount, type Story } from './story.js';

/** Words per minute the reading time is estimated at (a calm read-aloud pace). */
const WPM = 150;
const CRISIS = /\b(suicid\w*|kill(?:ed|ing)? (?:my|him|her|them)sel(?:f|ves)|self[- ]harm\w*|overdos\w*|cut(?:ting)? myself|end(?:ed)? (?:my|his|her) (?:own )?life|hang(?:ed)? (?:my|him|her)self)\b/i;

const shingles = (s: Story): Set<string> => {
  const w = s.paragraphs.join(' ').toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  return new Set(w.slice(0, -2).map((_, i) => `${w[i]} ${w[i + 1]} ${w[i + 2]}`));
};
const jaccard = (a: Set<string>, b: Set<string>): number => {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
};

/** Every problem with a library, each naming the story and what is wrong. */
function libraryProblems(stories: readonly Story[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const once = (kind: string, key: string, id: string) => {
    const prev = seen.get(`${kind}:${key}`);
    if (prev) problems.push(`${id}: same ${kind} as ${prev}`);
    else seen.set(`${kind}:${key}`, id);
  };
  for (const s of stories) {
    const words = wordCount(s);
    const expected = (words / WPM) * 60;
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(s.id)) problems.push(`${s.id}: id is not kebab-case`);
    once('id', s.id, s.id);
    once('title', s.title.toLowerCase(), s.id);
    once('main event', s.mainEvent.toLowerCase(), s.id);
    if (s.themes.length < 2 || s.themes.length > 6) problems.push(`${s.id}: ${s.themes.length} themes (want 2–6)`);
    if (s.emotions.length < 1 || s.emotions.length > 5) problems.push(`${s.id}: ${s.emotions.length} emotions (want 1–5)`);
    if (new Set(s.themes).size !== s.themes.length || new Set(s.emotions).size !== s.emotions.length) problems.push(`${s.id}: repeated theme or emotion`);
    if (/\n/.test(s.mainEvent) || s.mainEvent.length > 160 || !/[.!?]$/.test(s.mainEvent)) problems.push(`${s.id}: main event must be one sentence line ≤ 160 chars`);
    if (words < 150 || words > 300) problems.push(`${s.id}: ${words} words (want 150–300)`);
    if (s.paragraphs.length < 3 || s.paragraphs.length > 5) problems.push(`${s.id}: ${s.paragraphs.length} paragraphs (want 3–5)`);
    if (Math.abs(s.readingTimeS - expected) > expected * 0.15) problems.push(`${s.id}: reading_time_s ${s.readingTimeS} but ${words} words read at ${WPM} wpm take ${Math.round(expected)} s`);
    if (!/\b(I|my|me)\b/.test(s.paragraphs.join(' '))) problems.push(`${s.id}: not told in the first person`);
    const crisis = CRISIS.exec(`${s.title} ${s.mainEvent} ${s.paragraphs.join(' ')}`);
    if (crisis) problems.push(`${s.id}: crisis content ("${crisis[0]}")`);
  }
  const sh = stories.map(shingles);
  for (let i = 0; i < stories.length; i++) {
    for (let j = i + 1; j < stories.length; j++) {
      const sim = jaccard(sh[i]!, sh[j]!);
      if (sim > 0.15) problems.push(`${stories[j]!.id}: text is ${Math.round(sim * 100)}% the same as ${stories[i]!.id}`);
    }
  }
  return problems;
}

describe('the bundled story library', () => {
  const stories = bundledStories();

  it('has at least 150 stories', () => {
    expect(stories.length).toBeGreaterThanOrEqual(150);
  });

  it('passes every check: unique, complete, plausible reading times, first person, no crisis content', () => {
    expect(libraryProblems(stories)).toEqual([]);
  });

  it('covers many themes and emotions, each theme of the brief at least once', () => {
    const themes = new Set(stories.flatMap((s) => s.themes));
    for (const t of ['family', 'grief', 'moving', 'work', 'friendship', 'illness', 'pride', 'failure', 'reconciliation', 'everyday joys', 'ageing', 'caregiving', 'belonging']) {
      expect(themes, t).toContain(t);
    }
    expect(new Set(stories.flatMap((s) => s.emotions)).size).toBeGreaterThan(30);
  });

  it('has at least a month of sessions of fresh stories, about 1–2 minutes each', () => {
    const total = stories.reduce((n, s) => n + s.readingTimeS, 0);
    expect(total / stories.length).toBeGreaterThan(60);
    expect(total / stories.length).toBeLessThan(120);
  });
});

describe('the library check itself', () => {
  const [a, b] = bundledStories() as [Story, Story];
  it('catches duplicates, near-duplicate texts, bad reading times and crisis content', () => {
    const copy: Story = { ...b, id: 'copy', title: 'Another Title', mainEvent: 'Something else happens.', paragraphs: [...a.paragraphs] };
    const slow: Story = { ...b, readingTimeS: 30 };
    const dark: Story = { ...a, id: 'dark', title: 'Dark', mainEvent: 'Dark.', paragraphs: [...a.paragraphs.slice(1), 'He spoke of suicide.'] };
    const problems = libraryProblems([a, b, copy, slow, dark]).join('\n');
    expect(problems).toMatch(/copy: text is \d+% the same as bread-on-sundays/);
    expect(problems).toMatch(new RegExp(`${b.id}: reading_time_s 30 but \\d+ words`));
    expect(problems).toMatch(/dark: crisis content \("suicide"\)/);
    expect(problems).toContain(`${b.id}: same id as ${b.id}`);
  });
});
