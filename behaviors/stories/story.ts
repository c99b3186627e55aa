import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../data/index.js';
import { parse } from 'yaml';

/** A short first-person story the robot reads aloud. */
export interface Story {
  id: string;
  title: string;
  themes: string[];
  emotions: string[];
  /** One line: what happens. */
  mainEvent: string;
  /** Estimated seconds to read aloud. */
  readingTimeS: number;
  /** Paragraphs, read one at a time. */
  paragraphs: string[];
}

/** Raised when the story library file is malformed. */
export class StoryLibraryError extends Error {
  override readonly name = 'StoryLibraryError';
}

interface RawStory {
  id?: unknown; title?: unknown; themes?: unknown; emotions?: unknown; main_event?: unknown;
  reading_time_s?: unknown; text?: unknown;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);

/** Parse a story library (YAML list) and check every field; errors name the file and the story. */
export function parseStoryLibrary(source: string, file: string): Story[] {
  const raw = parse(source) as unknown;
  if (!Array.isArray(raw)) throw new StoryLibraryError(`${file}: expected a list of stories`);
  return raw.map((r: RawStory, i) => {
    const where = `${file}: story #${i + 1}${typeof r?.id === 'string' ? ` (${r.id})` : ''}`;
    if (typeof r !== 'object' || r === null) throw new StoryLibraryError(`${where}: not a mapping`);
    for (const k of ['id', 'title', 'main_event', 'text'] as const) {
      if (typeof r[k] !== 'string' || (r[k] as string).trim() === '') throw new StoryLibraryError(`${where}: field "${k}" must be a non-empty string`);
    }
    if (!isStrings(r.themes) || r.themes.length === 0) throw new StoryLibraryError(`${where}: "themes" must be a non-empty list of strings`);
    if (!isStrings(r.emotions) || r.emotions.length === 0) throw new StoryLibraryError(`${where}: "emotions" must be a non-empty list of strings`);
    if (typeof r.reading_time_s !== 'number' || r.reading_time_s <= 0) throw new StoryLibraryError(`${where}: "reading_time_s" must be a positive number`);
    const paragraphs = (r.text as string).split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
    return {
      id: r.id as string,
      title: r.title as string,
      themes: r.themes,
      emotions: r.emotions,
      mainEvent: r.main_event as string,
      readingTimeS: r.reading_time_s,
      paragraphs,
    };
  });
}

let cached: Story[] | undefined;

/** Load the bundled library (cached). Works from sources and from the compiled `dist/`. */
export function bundledStories(): Story[] {
  if (!cached) {
    const file = libraryPath();
    cached = parseStoryLibrary(readFileSync(file, 'utf8'), file);
  }
  return cached;
}

function libraryPath(): string {
  return join(packageRoot(), 'behaviors', 'stories', 'library.yaml');
}

/** Words in a story, for reading-time checks. */
export function wordCount(story: Story): number {
  return story.paragraphs.join(' ').split(/\s+/).filter(Boolean).length;
}
