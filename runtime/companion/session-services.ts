import type { ConversationLine } from '../../behaviors/index.js';

/**
 * What the runtime keeps for one open session: made when the session starts (or is resumed) and
 * dropped when it is closed. The conversation so far (for the model's prompt and the safeguards'
 * context), the last participant turn (where safeguard events are filed), the schedule instance.
 */
export class SessionServices {
  /** Row id of the last participant turn, which safeguard events refer to. */
  private lastTurnId: number | null = null;

  constructor(
    readonly sessionId: string,
    readonly studyDay: number,
    readonly instanceId: string | null,
    /** Robot and participant lines so far, story paragraphs excepted. */
    private readonly lines: ConversationLine[] = [],
  ) {}

  /** The conversation so far, oldest first. */
  get conversation(): readonly ConversationLine[] {
    return this.lines;
  }

  /** Where a safeguard check of this session is filed. */
  place(): { sessionId: string; turnId: number | null; studyDay: number } {
    return { sessionId: this.sessionId, turnId: this.lastTurnId, studyDay: this.studyDay };
  }

  /** A participant turn was stored with this row id. */
  heard(turnId: number, line: ConversationLine): void {
    this.lastTurnId = turnId;
    this.lines.push(line);
  }

  /** A line of the conversation (the robot's; the participant's go through `heard`). */
  remember(line: ConversationLine): void {
    this.lines.push(line);
  }
}
