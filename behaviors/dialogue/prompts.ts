import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../data/index.js';

/**
 * Prompts are versioned files, `behaviors/dialogue/prompts/<id>.v<N>.md`, with YAML front matter
 * (id, version, purpose, variables, max_tokens, temperature). A prompt that has been used in a study is
 * never edited: a change is a new file with the next version, so every logged reply names its exact prompt.
 */

/** A loaded prompt template. */
export interface Prompt {
  id: string;
  version: number;
  /** `<id>.v<version>`: what call records log as the prompt version. */
  ref: string;
  purpose: string;
  variables: string[];
  maxTokens: number;
  temperature: number;
  /** The template body; `{{name}}` marks a variable. */
  template: string;
  file: string;
}

/** Raised when a prompt file is missing or malformed. */
export class PromptError extends Error {
  override readonly name = 'PromptError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Where the bundled prompt files live. */
export function promptsDir(): string {
  return join(packageRoot(), 'behaviors', 'dialogue', 'prompts');
}

/** Parse one prompt file's text; errors name the file and the problem. */
export function parsePrompt(source: string, file: string): Prompt {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(source);
  if (!m) throw new PromptError(`${file}: missing YAML front matter between --- lines`);
  let meta: Record<string, unknown>;
  try {
    meta = parse(m[1]!) as Record<string, unknown>;
  } catch (err) {
    throw new PromptError(`${file}: front matter is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (typeof meta !== 'object' || meta === null) throw new PromptError(`${file}: front matter must be a mapping`);
  const { id, version, purpose } = meta;
  if (typeof id !== 'string' || !/^[a-z][a-z0-9-]*$/.test(id)) throw new PromptError(`${file}: front matter "id" must be a kebab-case name`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new PromptError(`${file}: front matter "version" must be a positive integer`);
  const base = file.split(/[\\/]/).pop()!;
  if (base !== `${id}.v${version}.md`) throw new PromptError(`${file}: file name must be ${id}.v${version}.md to match its front matter`);
  const variables = meta.variables ?? [];
  if (!Array.isArray(variables) || !variables.every((v) => typeof v === 'string')) throw new PromptError(`${file}: "variables" must be a list of names`);
  const maxTokens = meta.max_tokens ?? 200;
  const temperature = meta.temperature ?? 0.7;
  if (typeof maxTokens !== 'number' || maxTokens < 1) throw new PromptError(`${file}: "max_tokens" must be a positive number`);
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) throw new PromptError(`${file}: "temperature" must be between 0 and 2`);
  const template = m[2]!.trim();
  const used = [...template.matchAll(/\{\{\s*([a-z_]+)\s*\}\}/g)].map((x) => x[1]!);
  const undeclared = used.filter((u) => !variables.includes(u));
  if (undeclared.length) throw new PromptError(`${file}: template uses undeclared variable(s) ${[...new Set(undeclared)].join(', ')}`);
  return {
    id, version, ref: `${id}.v${version}`, purpose: typeof purpose === 'string' ? purpose : '', variables: variables as string[],
    maxTokens, temperature, template, file,
  };
}

const cache = new Map<string, Prompt>();

/** Load a bundled prompt: the given version, or the highest one present. */
export function loadPrompt(id: string, version?: number, dir = promptsDir()): Prompt {
  const key = `${dir}|${id}|${version ?? 'latest'}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (err) {
    throw new PromptError(`${dir}: prompt directory not readable`, { cause: err });
  }
  const versions = files
    .map((f) => new RegExp(`^${id.replace(/[-]/g, '\\-')}\\.v(\\d+)\\.md$`).exec(f))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => Number(x[1]));
  if (versions.length === 0) throw new PromptError(`${dir}: no prompt named "${id}" (expected ${id}.v1.md or later)`);
  const v = version ?? Math.max(...versions);
  if (!versions.includes(v)) throw new PromptError(`${dir}: prompt "${id}" has no version ${v} (have ${versions.sort((a, b) => a - b).join(', ')})`);
  const file = join(dir, `${id}.v${v}.md`);
  const prompt = parsePrompt(readFileSync(file, 'utf8'), file);
  cache.set(key, prompt);
  return prompt;
}

/** Fill a prompt's variables. Every declared variable must be given (an empty string is fine). */
export function renderPrompt(prompt: Prompt, values: Readonly<Record<string, string>>): string {
  const missing = prompt.variables.filter((v) => typeof values[v] !== 'string');
  if (missing.length) throw new PromptError(`${prompt.ref}: missing value(s) for ${missing.join(', ')}`);
  return prompt.template
    .replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => values[name]!.trim())
    .replace(/\n{3,}/g, '\n\n');
}
