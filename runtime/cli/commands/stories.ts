import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { bundledStories, parseStoryLibrary, wordCount, type Story } from '../../../behaviors/index.js';

/** A mistake in how `hearth stories` was called: one line, exit code 2. */
export class StoriesCommandError extends Error {
  override readonly name = 'StoriesCommandError';
  readonly exitCode = 2;
}

/** One story as `hearth stories --json` lists it. */
export interface StoryListing {
  id: string;
  title: string;
  themes: string[];
  emotions: string[];
  main_event: string;
  reading_time_s: number;
  words: number;
  paragraphs: number;
}

/** The listing of a library, optionally only stories with a theme or emotion. */
export function listStories(stories: readonly Story[], filter?: string): StoryListing[] {
  const f = filter?.trim().toLowerCase();
  return stories
    .filter((s) => !f || s.themes.some((t) => t.toLowerCase() === f) || s.emotions.some((e) => e.toLowerCase() === f))
    .map((s) => ({
      id: s.id, title: s.title, themes: s.themes, emotions: s.emotions, main_event: s.mainEvent, reading_time_s: s.readingTimeS,
      words: wordCount(s), paragraphs: s.paragraphs.length,
    }));
}

/** `hearth stories [--json] [--file library.yaml] [--theme name]`: list the story library. */
export function register(program: Command): void {
  program
    .command('stories')
    .description('list the story library (the bundled one, or a library file to check)')
    .option('--json', 'one JSON array with every field')
    .option('--file <library.yaml>', 'a story library file instead of the bundled one (checked as it loads)')
    .option('--theme <name>', 'only stories with this theme or emotion')
    .action((o: { json?: boolean; file?: string; theme?: string }) => {
      let stories: Story[];
      if (o.file) {
        let source: string;
        try {
          source = readFileSync(o.file, 'utf8');
        } catch (e) {
          throw new StoriesCommandError(`${o.file}: cannot read the story library (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        stories = parseStoryLibrary(source, o.file);
      } else {
        stories = bundledStories();
      }
      const list = listStories(stories, o.theme);
      if (o.theme && list.length === 0) throw new StoriesCommandError(`--theme ${o.theme}: no story has that theme or emotion`);
      if (o.json) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      const idWidth = Math.max(...list.map((s) => s.id.length));
      for (const s of list) console.log(`${s.id.padEnd(idWidth)}  ${String(s.reading_time_s).padStart(3)} s  ${s.title} — ${s.themes.join(', ')}`);
      const total = list.reduce((n, s) => n + s.reading_time_s, 0);
      console.log(`${list.length} ${list.length === 1 ? 'story' : 'stories'}, ${Math.round(total / 60)} min of reading`);
    });
}
