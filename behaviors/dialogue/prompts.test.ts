import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../data/index.js';
import { loadPrompt, parsePrompt, PromptError, promptsDir, renderPrompt } from './prompts.js';

describe('versioned prompts', () => {
  it('finds the prompt files from the package root', () => {
    expect(promptsDir()).toBe(join(packageRoot(), 'behaviors', 'dialogue', 'prompts'));
  });

  it('loads the empathy prompt with its version and the behaviour the study needs', () => {
    const p = loadPrompt('empathy');
    expect(p.ref).toBe('empathy.v1');
    expect(p.variables).toEqual(['story_title', 'story_event', 'memory']);
    const text = renderPrompt(p, { story_title: 'Bread on Sundays', story_event: 'A woman bakes her late mother\'s bread.', memory: '' });
    expect(text).toContain('"Bread on Sundays"');
    expect(text).not.toMatch(/\{\{/);
    expect(text).toMatch(/2 or 3 short spoken sentences/);
    expect(text).toMatch(/Reflect the feeling/);
    expect(text).toMatch(/one concrete detail/);
    expect(text).toMatch(/open question/);
    expect(text).toMatch(/Never claim or imply to be human/);
    expect(text).toMatch(/Never give advice.*unless the participant asks/);
  });

  it('refuses to render with a variable missing', () => {
    expect(() => renderPrompt(loadPrompt('empathy'), { story_title: 'x' })).toThrow(/empathy\.v1: missing value\(s\) for story_event, memory/);
  });

  it('names the file and the problem for bad prompt files', () => {
    expect(() => parsePrompt('no front matter', 'x.v1.md')).toThrow(/x\.v1\.md: missing YAML front matter/);
    expect(() => parsePrompt('---\nid: empathy\nversion: 2\n---\nhi', '/p/empathy.v1.md')).toThrow(/file name must be empathy\.v2\.md/);
    expect(() => parsePrompt('---\nid: a\nversion: 1\n---\nhi {{who}}', 'a.v1.md')).toThrow(/undeclared variable\(s\) who/);
    expect(() => parsePrompt('---\nid: a\nversion: 1\ntemperature: 9\n---\nhi', 'a.v1.md')).toThrow(PromptError);
  });

  it('picks the highest version unless one is asked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prompts-'));
    writeFileSync(join(dir, 'greet.v1.md'), '---\nid: greet\nversion: 1\n---\nHello.');
    writeFileSync(join(dir, 'greet.v2.md'), '---\nid: greet\nversion: 2\n---\nHi there.');
    expect(loadPrompt('greet', undefined, dir).template).toBe('Hi there.');
    expect(loadPrompt('greet', 1, dir).template).toBe('Hello.');
    expect(() => loadPrompt('greet', 3, dir)).toThrow(/has no version 3 \(have 1, 2\)/);
    expect(() => loadPrompt('missing', undefined, dir)).toThrow(/no prompt named "missing"/);
  });

  it('every bundled prompt parses', () => {
    expect(loadPrompt('reflection-question').ref).toBe('reflection-question.v1');
  });
});
