import { contentWords, detectEmotions, type MemoryRecord } from '../../data/index.js';
import { summariseShared, topicsOf } from './extract.js';
import { detectMemoryIntent, type MemoryIntent } from './intents.js';
import { capitalise, relativeTimePhrase } from './relative-time.js';

/**
 * Longitudinal memory: what a participant shared, kept as short summaries across the month and brought
 * back in later sessions ("Last week you told me that…") — only when the participant's consent allows.
 * The participant can ask what is remembered and ask for it to be forgotten; forgetting deletes the rows
 * and logs the deletion (scope, count, ids — never the forgotten text). Forgetting works whatever the
 * consent says.
 */

/** A memory as stored (the `MemoryRecord` of data/memory-records.ts, without its local-time string). */
export type StoredMemory = Omit<MemoryRecord, 'saidTsLocal'>;

/** Where memories are kept (data/memory-records.ts `SqliteMemoryRecords` implements it). */
export interface MemoryStorePort {
  add(m: Omit<StoredMemory, 'memoryId' | 'lastRecalledAtMs' | 'recalledCount'>): StoredMemory;
  list(participantId: string): StoredMemory[];
  markRecalled(memoryId: number, atMs: number): void;
  delete(participantId: string, memoryIds: readonly number[]): number[];
  deleteAll(participantId: string): number[];
}

/** Where memory events are logged (a `DeviceLog` fits). */
export interface MemoryEventLog {
  recordEvent(kind: string, detail: unknown, atMs: number, sessionId?: string | null): void;
}

/** Who and when, for every memory operation. */
export interface MemoryContext {
  participantId: string;
  /** The participant's IANA time zone (relative time is said on their calendar). */
  tz: string;
  nowMs: number;
  sessionId?: string | null;
  studyDay?: number | null;
  /** Does the participant's consent allow keeping and recalling memories? */
  consent: boolean;
  /**
   * Who is with the robot, when person recognition says (perception's face identity): `participant`
   * (the enrolled participant, alone or with others who are not shown anything), `other` (someone else
   * and not the participant), `unknown` (no face matched). Undefined while no identity signal is wired:
   * the session's participant is then taken to be the enrolled one, as everywhere else in the session.
   * Memories are brought up, listed or given to the language model only for `participant` or undefined.
   */
  presence?: 'participant' | 'other' | 'unknown';
}

/** A recall line for the start of a session. */
export interface Recall {
  memoryId: number;
  /** E.g. "Last week you told me that your sister was visiting." */
  line: string;
  /** A gentle follow-up, e.g. "How have things been with that since?" */
  question: string;
}

/** The result of handling a memory request. */
export interface MemoryReply {
  intent: MemoryIntent;
  /** What the robot says. */
  line: string;
  /** Memory ids deleted (forget requests). */
  deleted: number[];
}

/** How many memories "what do you remember about me?" reads out. */
const LIST_LIMIT = 5;
/** A memory recalled less than this long ago is not recalled again. */
const RECALL_REST_MS = 3 * 86_400_000;
/** After bringing something back, the robot waits this many local days before it brings anything back again. */
const RECALL_GAP_DAYS = 2;

/** Keeps, recalls, lists and forgets what a participant shared. */
export class LongitudinalMemory {
  private readonly store: MemoryStorePort;
  private readonly events: MemoryEventLog;
  /** Sessions in which something was already brought back (at most once a session). */
  private readonly recalledIn = new Set<string>();

  constructor(store: MemoryStorePort, events: MemoryEventLog) {
    this.store = store;
    this.events = events;
  }

  /** Keep a summary of what the participant said (nothing without consent, nothing for memory requests or small talk). */
  remember(ctx: MemoryContext, text: string): StoredMemory | undefined {
    if (!ctx.consent || detectMemoryIntent(text)) return undefined;
    const note = summariseShared(text);
    if (!note) return undefined;
    const m = this.store.add({
      participantId: ctx.participantId, sessionId: ctx.sessionId ?? null, saidAtMs: ctx.nowMs, tz: ctx.tz, studyDay: ctx.studyDay ?? null,
      method: 'extractive', ...note,
    });
    this.events.recordEvent('memory.stored', { memoryId: m.memoryId, method: m.method, topics: m.topics, feelings: m.feelings }, ctx.nowMs, ctx.sessionId ?? null);
    return m;
  }

  /**
   * A memory to bring up in a later session: one said before today, preferring one related to `about`
   * (today's check-in or story), then one not recalled recently. At most once a session, not on the day
   * after another recall, never without consent, never when someone other than the participant is
   * there (`ctx.presence`), and never something unrelated to a hard day the participant just told of.
   * A forgotten memory is deleted, so it cannot come back.
   */
  recall(ctx: MemoryContext, about = ''): Recall | undefined {
    if (!ctx.consent || !isParticipantThere(ctx)) return undefined;
    if (ctx.sessionId && this.recalledIn.has(ctx.sessionId)) return undefined;
    const today = dayKey(ctx.nowMs, ctx.tz);
    const mine = this.store.list(ctx.participantId).filter((m) => m.participantId === ctx.participantId);
    const lastRecall = Math.max(-Infinity, ...mine.map((m) => m.lastRecalledAtMs ?? -Infinity));
    if (Number.isFinite(lastRecall) && daysBetween(lastRecall, ctx.nowMs, ctx.tz) < RECALL_GAP_DAYS) return undefined;
    const older = mine.filter((m) => dayKey(m.saidAtMs, ctx.tz) < today && m.sessionId !== (ctx.sessionId ?? undefined));
    const rested = older.filter((m) => m.lastRecalledAtMs === null || ctx.nowMs - m.lastRecalledAtMs >= RECALL_REST_MS);
    if (rested.length === 0) return undefined;
    const want = new Set(contentWords(about));
    const overlap = (m: StoredMemory) => contentWords([m.summary, ...m.people, ...m.places, ...m.topics].join(' ')).filter((w) => want.has(w)).length;
    const pick = [...rested].sort((a, b) => overlap(b) - overlap(a) || a.recalledCount - b.recalledCount || b.saidAtMs - a.saidAtMs)[0]!;
    // Today's hard news comes first: an old, unrelated memory would change the subject on it.
    if (detectEmotions(about).some((f) => HEAVY.has(f)) && overlap(pick) === 0) return undefined;
    this.store.markRecalled(pick.memoryId, ctx.nowMs);
    if (ctx.sessionId) this.recalledIn.add(ctx.sessionId);
    this.events.recordEvent('memory.recalled', { memoryId: pick.memoryId }, ctx.nowMs, ctx.sessionId ?? null);
    const when = capitalise(relativeTimePhrase(pick.saidAtMs, ctx.nowMs, ctx.tz));
    const heavy = isHeavy(pick);
    const person = pick.people.find((p) => /^your /.test(p));
    if (person) {
      return {
        memoryId: pick.memoryId,
        line: `${when} you told me about ${person}.`,
        question: heavy ? `How are things between you and ${person} now?` : `How is ${person} doing?`,
      };
    }
    const activity = topicsOf(pick.summary).find((t) => t.kind === 'activity' && /^(?:your|the) /.test(t.phrase));
    if (activity) {
      return {
        memoryId: pick.memoryId,
        line: `${when} you told me about ${activity.phrase}.`,
        question: heavy ? 'How have things been with that since?' : `How has ${activity.phrase} been going?`,
      };
    }
    return {
      memoryId: pick.memoryId,
      line: `${when} you told me that ${pick.summary}.`,
      question: heavy ? 'How have things been with that since?' : 'Has anything more come of that?',
    };
  }

  /** The spoken answer to "what do you remember about me?". */
  describe(ctx: MemoryContext): string {
    if (!isParticipantThere(ctx)) {
      return "What people tell me stays between them and me, so I can't go through it right now. I'm happy to keep talking, though.";
    }
    if (!ctx.consent) {
      return "I'm not keeping memories of what you tell me, so I don't remember anything from our earlier conversations. " +
        "If anything is left from before, you can say 'forget everything' and I'll delete it.";
    }
    const all = this.store.list(ctx.participantId);
    if (all.length === 0) return "I don't have anything saved about you yet. When you share something, I keep a short note so I can ask about it another day, and you can always ask me to forget it.";
    const recent = all.slice(-LIST_LIMIT).reverse();
    const lines = recent.map((m) => `${capitalise(relativeTimePhrase(m.saidAtMs, ctx.nowMs, ctx.tz))} you told me that ${m.summary}.`);
    const more = all.length - recent.length;
    const count = all.length === 1 ? 'one thing' : `${spell(all.length)} things`;
    return [
      `I remember ${count} you told me.`,
      ...lines,
      ...(more > 0 ? [`And ${spell(more)} older ${more === 1 ? 'thing' : 'things'} from earlier on.`] : []),
      "That's all I keep. You can ask me to forget any of it, or everything.",
    ].join(' ');
  }

  /** Carry out a forget request; deletes and logs the deletion. Works with or without consent. */
  forget(ctx: MemoryContext, intent: Extract<MemoryIntent, { kind: 'forget-last' | 'forget-all' | 'forget-about' }>): MemoryReply {
    const all = this.store.list(ctx.participantId);
    let ids: number[];
    let line: string;
    if (intent.kind === 'forget-all') {
      ids = this.store.deleteAll(ctx.participantId);
      line = ids.length === 0
        ? "I don't have anything saved about you, so there's nothing to forget."
        : `Okay. I've deleted everything I remembered about you: ${ids.length === 1 ? 'one note' : `${spell(ids.length)} notes`}.`;
    } else if (intent.kind === 'forget-last') {
      // "Forget that" means what was just said: the newest note of this session, else the newest note at all from today.
      const today = dayKey(ctx.nowMs, ctx.tz);
      const candidates = all.filter((m) => (ctx.sessionId && m.sessionId === ctx.sessionId) || dayKey(m.saidAtMs, ctx.tz) === today);
      const last = candidates.at(-1);
      ids = last ? this.store.delete(ctx.participantId, [last.memoryId]) : [];
      line = ids.length ? "Okay, I've forgotten that." : "I hadn't kept a note of that, so there's nothing to forget. I won't bring it up.";
    } else {
      const topic = contentWords(intent.topic.replace(/^(?:my|the|our|his|her)\s+/, ''));
      const matches = all.filter((m) => {
        const words = new Set(contentWords([m.summary, ...m.people, ...m.places, ...m.topics].join(' ')));
        return topic.length > 0 && topic.every((w) => words.has(w));
      });
      ids = this.store.delete(ctx.participantId, matches.map((m) => m.memoryId));
      const about = intent.topic.replace(/\b(my|our)\b/g, 'your');
      line = ids.length ? `Okay. I've forgotten what you told me about ${about}.` : `I don't have anything saved about ${about}, so there's nothing to forget.`;
    }
    this.events.recordEvent('memory.forgotten', {
      scope: intent.kind, requestedBy: 'participant', deletedCount: ids.length, memoryIds: ids, consent: ctx.consent,
    }, ctx.nowMs, ctx.sessionId ?? null);
    return { intent, line, deleted: ids };
  }

  /** If the utterance is a memory request, carry it out and return what to say; otherwise undefined. */
  handle(ctx: MemoryContext, text: string): MemoryReply | undefined {
    const intent = detectMemoryIntent(text);
    if (!intent) return undefined;
    if (intent.kind === 'recall') return { intent, line: this.describe(ctx), deleted: [] };
    return this.forget(ctx, intent);
  }

  /** Notes for the language model's `{{memory}}` prompt variable ('' without consent or memories). */
  promptNotes(ctx: MemoryContext, limit = 3): string {
    if (!ctx.consent || !isParticipantThere(ctx)) return '';
    const recent = this.store.list(ctx.participantId).slice(-limit);
    if (recent.length === 0) return '';
    return [
      'Earlier in the study the participant told you (bring up at most one, only if it fits, and never pretend to remember more):',
      ...recent.map((m) => `- ${relativeTimePhrase(m.saidAtMs, ctx.nowMs, ctx.tz)}: ${m.summary}`),
    ].join('\n');
  }
}

const HEAVY = new Set(['sadness', 'grief', 'fear', 'anxiety', 'worry', 'anger', 'frustration', 'shame', 'guilt', 'loneliness', 'tiredness', 'disappointment']);
const isHeavy = (m: StoredMemory): boolean => m.feelings.some((f) => HEAVY.has(f)) || m.topics.some((t) => ['illness', 'grief', 'loss'].includes(t));

/** Whether the enrolled participant is with the robot, as far as anyone can tell (no identity signal: yes). */
const isParticipantThere = (ctx: MemoryContext): boolean => ctx.presence === undefined || ctx.presence === 'participant';

/** Local calendar days from `fromMs` to `toMs` in `tz`. */
function daysBetween(fromMs: number, toMs: number, tz: string): number {
  return Math.round((Date.parse(dayKey(toMs, tz)) - Date.parse(dayKey(fromMs, tz))) / 86_400_000);
}

function dayKey(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const spell = (n: number): string => WORDS[n] ?? String(n);
