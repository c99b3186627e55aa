import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, localTimeToMs, type DeviceLog, type MemoryRecords } from '../../data/index.js';
import { LongitudinalMemory, type MemoryContext } from './memory.js';

const TZ = 'America/New_York';
const at = (date: string, time = '18:00') => localTimeToMs(date, time, TZ);
let dir: string;
let store: SqliteStore;
let log: DeviceLog;
let memory: LongitudinalMemory;
let records: MemoryRecords;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-memory-'));
  store = SqliteStore.open(join(dir, 'hearth.db'));
  log = store.forDevice({ deviceId: 'dev-1', tz: TZ, clockSource: 'simulated' });
  log.registerDevice({ hardware: 'sim', hearthVersion: 'test' }, at('2026-03-01', '08:00'));
  for (const id of ['P01', 'P02']) {
    log.enrollParticipant({ participantId: id, startDate: '2026-03-01', condition: 'matched', protocolId: null, protocolVersion: null, protocolHash: null }, at('2026-03-01', '08:00'));
  }
  records = store.memories(log.identity);
  memory = new LongitudinalMemory(records, log);
});
afterEach(() => store.close());

const ctx = (date: string, extra: Partial<MemoryContext> = {}): MemoryContext =>
  ({ participantId: 'P01', tz: TZ, nowMs: at(date), consent: true, sessionId: null, ...extra });
const events = (kind: string) =>
  log.events({ kind }).map((e) => e.detail as Record<string, unknown>);

describe('longitudinal memory', () => {
  it('keeps a summary with people, places and feelings, and recalls it a week later with the right wording', () => {
    const m = memory.remember(ctx('2026-03-02'), "Work was okay. My sister Lena came to visit from Chicago and I was so happy to see her. We went to the park.");
    expect(m).toBeDefined();
    expect(m!.summary).toBe('your sister Lena came to visit from Chicago and you were so happy to see her');
    expect(m!.people).toContain('your sister Lena');
    expect(m!.places).toEqual(expect.arrayContaining(['Chicago', 'park']));
    expect(m!.feelings).toContain('joy');
    const r = memory.recall(ctx('2026-03-09'));
    expect(r?.line).toBe('Last week you told me about your sister Lena.');
    expect(r?.question).toBe('How is your sister Lena doing?');
    expect(events('memory.stored')).toHaveLength(1);
    expect(events('memory.recalled')).toEqual([{ memoryId: m!.memoryId }]);
  });

  it('keeps and recalls nothing without consent', () => {
    expect(memory.remember(ctx('2026-03-02', { consent: false }), 'My dog Rosie died on Sunday and I miss her terribly.')).toBeUndefined();
    expect(records.list('P01')).toEqual([]);
    memory.remember(ctx('2026-03-02'), 'My dog Rosie died on Sunday and I miss her terribly.');
    expect(memory.recall(ctx('2026-03-05', { consent: false }))).toBeUndefined();
    expect(memory.describe(ctx('2026-03-05', { consent: false }))).toMatch(/not keeping memories/);
    expect(memory.promptNotes(ctx('2026-03-05', { consent: false }))).toBe('');
  });

  it('does not keep small talk or the memory requests themselves', () => {
    expect(memory.remember(ctx('2026-03-02'), 'Fine, thanks.')).toBeUndefined();
    expect(memory.remember(ctx('2026-03-02'), 'Please forget everything.')).toBeUndefined();
    expect(records.list('P01')).toEqual([]);
  });

  it('does not recall something said today, nor the same thing again within three days', () => {
    memory.remember(ctx('2026-03-02'), 'I started a pottery class at the library and made a lopsided bowl.');
    expect(memory.recall(ctx('2026-03-02'))).toBeUndefined();
    const first = memory.recall(ctx('2026-03-03'));
    expect(first?.line).toBe('Yesterday you told me about the pottery class.');
    expect(first?.question).toBe('How has the pottery class been going?');
    expect(memory.recall(ctx('2026-03-04'))).toBeUndefined();
    expect(memory.recall(ctx('2026-03-06'))?.line).toMatch(/^On Monday you told me/);
  });

  it('prefers a memory related to today\'s conversation', () => {
    memory.remember(ctx('2026-03-02'), 'My grandson Theo learned to ride his bike without stabilisers.');
    memory.remember(ctx('2026-03-04'), 'The doctor said my blood pressure is too high and I am worried about it.');
    memory.remember(ctx('2026-03-05'), 'We had a lovely dinner at the Italian restaurant for our anniversary.');
    const r = memory.recall(ctx('2026-03-10'), 'Theo came round again with his bike');
    expect(r?.line).toMatch(/grandson Theo/);
    const r2 = memory.recall(ctx('2026-03-12'), 'I saw the doctor again');
    expect(r2?.line).toMatch(/^Last week you told me that the doctor said your blood pressure is too high and you are worried about it\.$/);
    expect(r2?.question).toBe('How have things been with that since?');
  });

  it('answers "what do you remember about me?" with a spoken list', () => {
    expect(memory.handle(ctx('2026-03-02'), 'What do you remember about me?')?.line).toMatch(/don't have anything saved about you yet/);
    memory.remember(ctx('2026-03-02'), 'My grandson Theo learned to ride his bike without stabilisers.');
    memory.remember(ctx('2026-03-06'), 'I finally finished knitting the blue scarf for my husband.');
    const reply = memory.handle(ctx('2026-03-07'), 'what do you remember about me');
    expect(reply?.intent).toEqual({ kind: 'recall' });
    expect(reply?.line).toBe(
      'I remember two things you told me. Yesterday you told me that you finally finished knitting the blue scarf for your husband. ' +
      "On Monday you told me that your grandson Theo learned to ride his bike without stabilisers. That's all I keep. You can ask me to forget any of it, or everything.",
    );
    expect(reply?.deleted).toEqual([]);
  });

  it('"forget that" deletes what was just said in this session, and logs the deletion without the text', () => {
    const session = { sessionId: null };
    memory.remember(ctx('2026-03-02', session), 'My grandson Theo learned to ride his bike without stabilisers.');
    const secret = memory.remember(ctx('2026-03-05', session), 'I had a big argument with my neighbour Gary about his hedge.');
    const reply = memory.handle(ctx('2026-03-05', session), 'Actually, please forget that.');
    expect(reply?.line).toBe("Okay, I've forgotten that.");
    expect(reply?.deleted).toEqual([secret!.memoryId]);
    expect(records.list('P01').map((m) => m.summary)).toEqual(['your grandson Theo learned to ride his bike without stabilisers']);
    const [logged] = events('memory.forgotten');
    expect(logged).toEqual({ scope: 'forget-last', requestedBy: 'participant', deletedCount: 1, memoryIds: [secret!.memoryId], consent: true });
    expect(JSON.stringify(logged)).not.toMatch(/Gary|hedge/);
    // Nothing from today left: a second "forget that" deletes nothing older.
    expect(memory.handle(ctx('2026-03-05'), 'forget that')?.deleted).toEqual([]);
  });

  it('"forget everything" deletes every memory of that participant only, for real, even without consent', () => {
    memory.remember(ctx('2026-03-02'), 'My grandson Theo learned to ride his bike without stabilisers.');
    memory.remember(ctx('2026-03-03'), 'I went to the hospital for my knee and they said it needs surgery.');
    memory.remember({ ...ctx('2026-03-03'), participantId: 'P02' }, 'I painted the kitchen a bright yellow colour this weekend.');
    const reply = memory.handle(ctx('2026-03-04', { consent: false }), 'Can you forget everything I told you?');
    expect(reply?.line).toBe("Okay. I've deleted everything I remembered about you: two notes.");
    expect(records.list('P01')).toEqual([]);
    expect(records.list('P02')).toHaveLength(1);
    expect(events('memory.forgotten')[0]).toMatchObject({ scope: 'forget-all', deletedCount: 2, consent: false });
    store.close();
    const bytes = readFileSync(join(dir, 'hearth.db')).toString('latin1');
    expect(bytes).not.toContain('stabilisers');
    expect(bytes).toContain('yellow colour');
    store = SqliteStore.open(join(dir, 'hearth.db'));
  });

  it('"forget about my sister" deletes only the memories about her', () => {
    memory.remember(ctx('2026-03-02'), 'My sister Lena came to visit and we laughed all evening.');
    memory.remember(ctx('2026-03-03'), 'My knee has been aching since the long walk by the river.');
    const reply = memory.handle(ctx('2026-03-04'), 'Please forget about my sister.');
    expect(reply?.line).toBe("Okay. I've forgotten what you told me about your sister.");
    expect(records.list('P01').map((m) => m.summary)).toEqual(['your knee has been aching since the long walk by the river']);
  });

  it('gives the language model a few dated notes', () => {
    memory.remember(ctx('2026-03-02'), 'My sister Lena came to visit and we laughed all evening.');
    expect(memory.promptNotes(ctx('2026-03-04'))).toMatch(/^Earlier in the study[^\n]*\n- on Monday: your sister Lena came to visit and you laughed all evening$/);
  });
});

describe('memory that shows (issue 15)', () => {
  const sister = "I had a fight with my sister about our mother's care and we haven't spoken since.";
  const session = (id: string, participantId = 'P01') => {
    log.startSession({ sessionId: id, participantId, studyDay: 8, protocolHash: null, condition: null }, at('2026-03-09', '17:00'));
    return id;
  };

  it('brings back a person the participant told of, with a question about them, at most once a session', () => {
    memory.remember(ctx('2026-03-02'), sister);
    memory.remember(ctx('2026-03-03'), 'My neighbour Ruth and I planted tomatoes in the garden.');
    const r = memory.recall(ctx('2026-03-09', { sessionId: session('s9') }));
    expect(r?.line).toMatch(/^(?:Last week|On \w+day) you told me about your (?:sister|neighbour Ruth)\.$/);
    expect(r?.question).toMatch(/^How (?:are things between you and your sister now|is your neighbour Ruth doing)\?$/);
    // The same session asks again (a resumed check-in): nothing more is brought back.
    expect(memory.recall(ctx('2026-03-09', { sessionId: 's9' }))).toBeUndefined();
    expect(events('memory.recalled')).toHaveLength(1);
  });

  it('never brings back a forgotten memory, or one of another participant', () => {
    memory.remember(ctx('2026-03-02'), sister);
    memory.remember(ctx('2026-03-02', { participantId: 'P02' }), 'My brother Tomas is moving to Chicago next month.');
    expect(memory.handle(ctx('2026-03-02'), 'Please forget about my sister.')?.deleted).toHaveLength(1);
    for (const day of ['2026-03-05', '2026-03-09', '2026-03-16']) expect(memory.recall(ctx(day))).toBeUndefined();
    const theirs = memory.recall(ctx('2026-03-09', { participantId: 'P02', sessionId: session('p2', 'P02') }));
    expect(theirs?.line).toMatch(/your brother Tomas/);
  });

  it('shows nothing when someone other than the participant is there, or with consent withdrawn', () => {
    memory.remember(ctx('2026-03-02'), sister);
    expect(memory.recall(ctx('2026-03-09', { presence: 'other' }))).toBeUndefined();
    expect(memory.recall(ctx('2026-03-09', { presence: 'unknown' }))).toBeUndefined();
    expect(memory.describe(ctx('2026-03-09', { presence: 'other' }))).not.toMatch(/sister/);
    expect(memory.promptNotes(ctx('2026-03-09', { presence: 'other' }))).toBe('');
    expect(memory.recall(ctx('2026-03-09', { consent: false }))).toBeUndefined();
    expect(memory.recall(ctx('2026-03-09', { presence: 'participant' }))?.line).toMatch(/your sister/);
  });

  it('does not change the subject on a hard day with something unrelated, and waits a day after bringing something back', () => {
    memory.remember(ctx('2026-03-02'), 'My granddaughter Maya and I baked bread on Sunday.');
    memory.remember(ctx('2026-03-03'), 'My grandson Theo learned to ride his bike.');
    expect(memory.recall(ctx('2026-03-09'), "I'm worried, the hospital moved my scan again.")).toBeUndefined();
    expect(memory.recall(ctx('2026-03-09'), 'Not bad, a quiet day.')?.line).toMatch(/told me about/);
    expect(memory.recall(ctx('2026-03-10'), 'Fine.')).toBeUndefined();
    expect(memory.recall(ctx('2026-03-11'), 'Fine.')?.line).toMatch(/told me about/);
  });
});
