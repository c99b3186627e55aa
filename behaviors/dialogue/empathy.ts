import type { ChatMessage } from '../ports.js';
import type { LanguageModel, LlmCallRecord } from './llm-client.js';
import { loadPrompt, renderPrompt, type Prompt } from './prompts.js';
import { splitSentences } from './sentences.js';

/**
 * One empathic reply of the conversation: from the language model when one is configured and consent
 * allows, otherwise (or when the model fails) from the offline fallback the caller passes. Either way
 * the sentences arrive through `onSentence`, so the caller speaks them the same way, and the result says
 * where the reply came from and why.
 */

/** A line of the conversation so far. */
export interface ConversationLine {
  speaker: 'robot' | 'participant';
  text: string;
}

/** What the reply is about. */
export interface EmpathyTurn {
  story: { title: string; mainEvent?: string } | null;
  /** The conversation so far, oldest first, ending with what the participant just said. */
  history: readonly ConversationLine[];
  /** Notes from longitudinal memory (`LongitudinalMemory.promptNotes`), '' for none. */
  memoryNotes?: string;
  /** The last exchange of the session: close warmly without a new question. */
  finalExchange?: boolean;
}

/** Where a reply came from. */
export type ReplySource = 'model' | 'offline' | 'model+offline';

/** The reply, how it was made, and the model call's record when there was one. */
export interface EmpathyReply {
  text: string;
  sentences: string[];
  source: ReplySource;
  /** Why the offline responder spoke (no model, no consent, or the model's failure). */
  fallbackReason?: string;
  record?: LlmCallRecord;
}

/** Options of `empathicReply`. */
export interface EmpathicReplyOptions {
  /** The model client (`LlmClient`); undefined when none is configured. */
  client: Pick<LanguageModel, 'reply'> | undefined;
  /** Does consent allow sending the participant's words to the language model? */
  modelConsent: boolean;
  /** Does consent allow storing the reply text in the log? */
  logText: boolean;
  /** The offline reply for this turn (the offline responder). */
  fallback: () => string | Promise<string>;
  onSentence?: (sentence: string) => void;
  signal?: AbortSignal;
  /** Prompt versions to use (defaults: the latest empathy and empathy-close). */
  prompts?: { reply?: Prompt; close?: Prompt };
}

/** The system prompt and messages for a turn (exported for logging and tests). */
export function empathyMessages(prompt: Prompt, turn: EmpathyTurn): { system: string; messages: ChatMessage[] } {
  const system = renderPrompt(prompt, {
    story_title: turn.story?.title ?? 'no story today',
    story_event: turn.story?.mainEvent ?? '',
    memory: turn.memoryNotes ?? '',
  });
  // Keep the last few lines: enough context, bounded prompt size on small local models.
  const messages = turn.history.slice(-8).map((l): ChatMessage => ({ role: l.speaker === 'robot' ? 'assistant' : 'user', content: l.text }));
  return { system, messages };
}

/** Produce one empathic reply, never failing for a model fault: the offline fallback covers it. */
export async function empathicReply(turn: EmpathyTurn, o: EmpathicReplyOptions): Promise<EmpathyReply> {
  const offline = async (reason: string, record?: LlmCallRecord): Promise<EmpathyReply> => {
    const sentences = splitSentences(await o.fallback());
    for (const s of sentences) o.onSentence?.(s);
    return { text: sentences.join(' '), sentences, source: 'offline', fallbackReason: reason, ...(record ? { record } : {}) };
  };
  if (!o.client) return offline('no language model configured');
  if (!o.modelConsent) return offline('consent does not allow language-model processing');
  if (turn.history.at(-1)?.speaker !== 'participant') return offline('nothing new from the participant to reply to');
  const prompt = turn.finalExchange ? (o.prompts?.close ?? loadPrompt('empathy-close')) : (o.prompts?.reply ?? loadPrompt('empathy'));
  const { system, messages } = empathyMessages(prompt, turn);
  const r = await o.client.reply({ prompt, system, messages, logText: o.logText, signal: o.signal, onSentence: o.onSentence });
  if (r.ok) return { text: r.sentences.join(' '), sentences: r.sentences, source: 'model', record: r.record };
  if (r.record.outcome === 'aborted') return { text: r.sentences.join(' '), sentences: r.sentences, source: 'model', record: r.record };
  if (r.sentences.length === 0) return offline(`language model failed: ${r.record.outcome}: ${r.record.error}`, r.record);
  // Part of the reply was spoken before the model failed: finish the turn with the offline reply's
  // closing sentence (its question, or its warm close), so the participant is not left hanging.
  const tail = splitSentences(await o.fallback()).at(-1);
  const extra = tail && !r.sentences.includes(tail) ? [tail] : [];
  for (const s of extra) o.onSentence?.(s);
  const sentences = [...r.sentences, ...extra];
  return {
    text: sentences.join(' '), sentences, source: 'model+offline', record: r.record,
    fallbackReason: `language model stopped after ${r.sentences.length} sentence(s): ${r.record.error}`,
  };
}
