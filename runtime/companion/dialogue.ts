import { empathicReply, OfflineResponder, type ComposeRequest, type SayLineEvent } from '../../behaviors/index.js';
import type { CompanionCore } from './core.js';

/** What the robot says: lines in Hearth's own words, and empathic replies (a model's, where consented). */
export interface Dialogue {
  /** The robot's next line in Hearth's own words: the responder, with something recalled after the check-in. */
  compose(req: ComposeRequest): Promise<string>;
  /**
   * An empathic reply, sent as `robot.sentence` events and then `robot.replied`; returns the stop
   * function (the line is over, a sentence was flagged, the participant spoke): it stops the model.
   */
  replyStream(req: ComposeRequest, send: (e: SayLineEvent) => void): () => void;
}

/** How many of the participant's latest robot lines the offline responder sees. */
const RECENT_LINES = 1000;

/** Responder and model choice, memory recall and prompt notes. */
export function createDialogue(core: CompanionCore): Dialogue {
  const { o, log, clock, pid, tz, allows, memory } = core;
  const offline = new OfflineResponder();
  // About a month of the participant's robot lines (a session says 20-30), so the responder can keep
  // any empathy line from being said verbatim more than twice in a month (issue 15).
  const offlineLine = (req: ComposeRequest) => offline.compose({ ...req, localHour: localHour(clock.now(), tz), recentLines: log.recentRobotLines(pid, RECENT_LINES) });

  const compose = async (req: ComposeRequest): Promise<string> => {
    if (req.act === 'checkin.ack' && req.scripted === undefined) {
      // Recall something from an earlier day, only with consent, after acknowledging today's mood.
      const recall = req.firstSession ? undefined : memory.recall(core.memoryContext(req.sessionId, req.studyDay), req.lastUtterance ?? '');
      return recall ? `${offlineLine(req)} ${recall.line} ${recall.question}` : offlineLine(req);
    }
    return offlineLine(req);
  };

  const replyStream = (req: ComposeRequest, send: (e: SayLineEvent) => void): (() => void) => {
    const controller = new AbortController();
    // Nothing is sent once the line is over.
    const sendBack = (e: SayLineEvent) => {
      if (!controller.signal.aborted) send(e);
    };
    const turn = {
      story: req.story ? { title: req.story.title, mainEvent: core.storyById.get(req.story.id)?.mainEvent } : null,
      history: [...(core.services(req.sessionId)?.conversation ?? [])],
      memoryNotes: allows('llm_processing') ? memory.promptNotes(core.memoryContext(req.sessionId, req.studyDay)) : '',
      finalExchange: req.finalExchange,
    };
    const logReply = (reply: { source: string; fallbackReason?: string; record?: unknown }) => {
      if (reply.record || reply.fallbackReason) {
        log.recordEvent('dialogue.reply', { source: reply.source, fallbackReason: reply.fallbackReason ?? null, call: reply.record ?? null }, clock.now(), req.sessionId);
      }
    };
    const options = { client: o.llm, modelConsent: allows('llm_processing'), logText: allows('transcripts'), fallback: () => offlineLine(req) };
    const run = async () => {
      if (o.llm && allows('llm_processing')) {
        // Each sentence is sent as soon as it arrives; sayLine checks it (as a model's words) and speaks it.
        let sentences = 0;
        const onSentence = (text: string) => {
          sentences++;
          sendBack({ type: 'robot.sentence', text, fromModel: true });
        };
        await empathicReply(turn, { ...options, signal: controller.signal, onSentence })
          .then(logReply, (error: unknown) => log.recordEvent('dialogue.failed', { error: String(error) }, clock.now(), req.sessionId));
        if (sentences === 0) sendBack({ type: 'robot.sentence', text: offlineLine(req), fromModel: false });
      } else {
        const reply = await empathicReply(turn, options);
        logReply(reply);
        sendBack({ type: 'robot.sentence', text: reply.text, fromModel: reply.source !== 'offline' });
      }
      sendBack({ type: 'robot.replied' });
    };
    run().catch((error: unknown) => sendBack({ type: 'robot.reply_failed', error: error instanceof Error ? error.message : String(error) }));
    return () => controller.abort();
  };

  return { compose, replyStream };
}

/** The hour of day (0–23) at the participant's home. */
function localHour(ms: number, tz: string): number {
  return Number(new Intl.DateTimeFormat('en-GB', { hour: 'numeric', hourCycle: 'h23', timeZone: tz }).format(ms));
}
