import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { BUNDLED_PROTOCOL, checkProtocol, loadProtocol, parseProtocol } from './index.js';

const FIXTURES = new URL('../test/fixtures/protocols/', import.meta.url);
const MINIMAL = readFileSync(new URL('minimal.yaml', FIXTURES), 'utf8');

/** Replace one exact line fragment of minimal.yaml (on the given line, so line numbers stay put). */
function edit(line: number, from: string, to: string): string {
  const lines = MINIMAL.split('\n');
  const current = lines[line - 1]!;
  if (!current.includes(from)) throw new Error(`fixture line ${line} does not contain ${from}: ${current}`);
  lines[line - 1] = current.replace(from, to);
  return lines.join('\n');
}

interface Case {
  name: string;
  source: string;
  line: number;
  column: number;
  path: string;
  message: RegExp;
  hint?: RegExp;
}

const CASES: Case[] = [
  { name: 'wrong format version', source: edit(1, 'hearth_protocol: 1', 'hearth_protocol: 2'), line: 1, column: 18, path: 'hearth_protocol', message: /must be 1/ },
  { name: 'unquoted version number', source: edit(4, '"1.0"', '1.0'), line: 4, column: 12, path: 'study.version', message: /must be a string, not number 1/, hint: /quote/ },
  { name: 'days as a word', source: edit(5, '14', 'fourteen'), line: 5, column: 9, path: 'study.days', message: /must be an integer/ },
  { name: 'duplicate YAML key', source: edit(5, 'days: 14', 'id: again'), line: 5, column: 3, path: '', message: /YAML: .*unique|YAML: .*duplicate/i },
  { name: 'misspelt story selection', source: edit(8, 'matched', 'matchd'), line: 8, column: 22, path: 'conditions[0].story_selection', message: /"matchd" is not allowed/, hint: /did you mean "matched"/ },
  { name: 'upper-case condition id', source: edit(7, 'matched', 'Matched'), line: 7, column: 9, path: 'conditions[0].id', message: /"Matched" is not in the expected form/, hint: /lower-case/ },
  { name: 'duplicate condition id', source: edit(9, 'random', 'matched'), line: 9, column: 9, path: 'conditions[1].id', message: /duplicate id "matched"/ },
  { name: 'block size not a multiple of the ratio', source: edit(13, '[2, 4]', '[2, 3]'), line: 13, column: 20, path: 'allocation.block_sizes[1]', message: /not a multiple of 2/ },
  { name: 'ratio names an unknown condition', source: edit(14, 'random: 1', 'randm: 1'), line: 14, column: 24, path: 'allocation.ratio.randm', message: /unknown condition "randm"/, hint: /did you mean "random"/ },
  { name: 'window ends before it starts', source: edit(19, 'end: "21:00"', 'end: "17:00"'), line: 19, column: 15, path: 'schedule.sessions[0].window', message: /ends \(17:00\) before it starts \(18:00\)/ },
  { name: 'time not HH:mm', source: edit(19, '"18:00"', '"6pm"'), line: 19, column: 24, path: 'schedule.sessions[0].window.start', message: /"6pm" is not in the expected form/, hint: /24-hour/ },
  { name: 'overlapping windows', source: edit(24, '{ start: "09:00", end: "11:00" }', '{ start: "17:00", end: "19:00" }'), line: 24, column: 15, path: 'schedule.sessions[1].window', message: /overlaps session "evening"/ },
  { name: 'window inside quiet hours', source: edit(24, '{ start: "09:00", end: "11:00" }', '{ start: "23:00", end: "23:30" }'), line: 24, column: 15, path: 'schedule.sessions[1].window', message: /entirely inside quiet hours/ },
  { name: 'unknown template', source: edit(21, 'template: daily', 'template: dayly'), line: 21, column: 17, path: 'schedule.sessions[0].template', message: /unknown template "dayly"/, hint: /did you mean "daily"/ },
  { name: 'unknown template for a day', source: edit(22, '14: last', '14: final'), line: 22, column: 30, path: 'schedule.sessions[0].template_by_day.14', message: /unknown template "final"/ },
  { name: 'override after the last day', source: edit(22, '14: last', '15: last'), line: 22, column: 26, path: 'schedule.sessions[0].template_by_day.15', message: /day 15 is after the last study day \(14\)/ },
  { name: 'session day after the study', source: edit(25, '[1, 7, 14]', '[1, 7, 40]'), line: 25, column: 20, path: 'schedule.sessions[1].days[2]', message: /day 40 is after the last study day/ },
  { name: 'unknown behaviour', source: edit(29, 'story,', 'stroy,'), line: 29, column: 41, path: 'templates[0].steps[2]', message: /unknown behaviour "stroy"/, hint: /did you mean "story"/ },
  { name: 'unknown instrument', source: edit(31, 'survey: mood', 'survey: moood'), line: 31, column: 40, path: 'templates[1].steps[2].survey', message: /unknown instrument "moood"/, hint: /did you mean "mood"/ },
  { name: 'scale max below min', source: edit(33, 'min: 1, max: 9', 'min: 9, max: 1'), line: 33, column: 24, path: 'scales.sam9.max', message: /max \(1\) must be greater than min \(9\)/ },
  { name: 'missing scoring version', source: edit(36, 'scoring_version: mood-1', 'title: Mood'), line: 35, column: 5, path: 'instruments[0]', message: /missing required field "scoring_version"/ },
  { name: 'unknown scale', source: edit(43, 'sam9', 'sam7'), line: 43, column: 16, path: 'instruments[0].items[1].scale', message: /unknown scale "sam7"/, hint: /did you mean "sam9"/ },
  { name: 'reverse key as text', source: edit(44, 'false', '"no"'), line: 44, column: 18, path: 'instruments[0].items[1].reverse', message: /must be a boolean/ },
  { name: 'unknown scoring method', source: edit(46, 'method: mean', 'method: median'), line: 46, column: 31, path: 'instruments[0].scores[0].method', message: /"median" is not allowed/, hint: /sum, mean, prorated_sum/ },
  { name: 'score of an unknown item', source: edit(46, 'arousal]', 'arousl]'), line: 46, column: 54, path: 'instruments[0].scores[0].items[1]', message: /unknown item "arousl"/, hint: /did you mean "arousal"/ },
  { name: 'undefined consent version', source: edit(48, 'current_version: 1', 'current_version: 2'), line: 48, column: 20, path: 'consent.current_version', message: /consent version 2 is not defined/ },
  { name: 'unknown consent modality', source: edit(53, 'llm_processing', 'llm_procesing'), line: 53, column: 9, path: 'consent.versions[0].modalities.llm_procesing', message: /"llm_procesing" is not allowed/, hint: /did you mean "llm_processing"/ },
  { name: 'unknown top-level field', source: edit(32, 'scales:', 'scale:'), line: 32, column: 1, path: 'scale', message: /unknown field "scale"/, hint: /did you mean "scales"/ },
];

describe('protocol validation', () => {
  it('accepts the minimal fixture and the bundled example', () => {
    expect(checkProtocol(MINIMAL, 'minimal.yaml')).toEqual([]);
    const loaded = loadProtocol(BUNDLED_PROTOCOL);
    expect(loaded.protocol.study.days).toBe(30);
    expect(loaded.protocol.conditions.map((c) => c.id)).toEqual(['matched', 'random']);
    expect(loaded.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each(CASES)('$name → reported at $line:$column $path', (c) => {
    const problems = checkProtocol(c.source, 'bad.yaml');
    const match = problems.find((p) => p.path === c.path && c.message.test(p.message));
    expect(match, `problems were:\n${problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message} (${p.hint})`).join('\n')}`).toBeDefined();
    expect({ line: match!.line, column: match!.column }).toEqual({ line: c.line, column: c.column });
    if (c.hint) expect(match!.hint).toMatch(c.hint);
    expect(match!.file).toBe('bad.yaml');
  });

  it('reports every problem at once, one line each, as file:line:col path: message (hint)', () => {
    let source = edit(8, 'matched', 'matchd');
    source = source.replace('template: dayly', '');
    source = source.split('\n').map((l, i) => (i === 42 ? l.replace('sam9', 'sam7') : i === 47 ? l.replace('current_version: 1', 'current_version: 3') : l)).join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'hearth-protocol-'));
    const file = join(dir, 'three.yaml');
    writeFileSync(file, source);
    const error = (() => {
      try {
        loadProtocol(file);
      } catch (e) {
        return e;
      }
      throw new Error('expected a ProtocolError');
    })() as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.exitCode).toBe(2);
    expect(error.problems).toHaveLength(3);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${file}:8:22 conditions[0].story_selection: value "matchd" is not allowed (did you mean "matched"? one of: matched, random)`);
    expect(lines[1]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:43:16 instruments\\[0\\]\\.items\\[1\\]\\.scale: unknown scale "sam7"`));
    expect(lines[2]).toMatch(/:48:20 consent\.current_version: consent version 3 is not defined/);
  });

  it('names a missing file and a non-mapping document', () => {
    expect(() => loadProtocol('/nonexistent/p.yaml')).toThrow(/\/nonexistent\/p\.yaml:0:0 \(document\): file not found/);
    expect(() => parseProtocol('- just\n- a list\n', 'list.yaml')).toThrow(/list\.yaml:1:1 \(document\): the protocol must be a YAML mapping/);
  });
});
