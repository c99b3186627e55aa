/** Which behaviours and instruments a session runs on a given study day. */
import { instrumentOf, type Instrument } from './instruments.js';
import type { Protocol } from './protocol.js';
import { runsOnDay } from './schedule.js';

/** The plan of one session: its template, its steps in order, and the instruments its survey steps administer. */
export interface SessionPlan {
  slot: string;
  templateId: string;
  /** Behaviour names (`greeting`, `checkin`, `story`, …) and `survey:<instrument id>` steps, in order. */
  steps: string[];
  /** Instruments of the survey steps, in the order they are administered. */
  instruments: Instrument[];
  condition: string;
  storySelection: 'matched' | 'random';
}

/**
 * The session plan for a participant on a study day: the slot's `template_by_day` override when
 * it applies to the participant's condition, else the slot's template. `slot` defaults to the
 * first session of that day. Null when no session is scheduled that day.
 */
export function sessionPlanFor(protocol: Protocol, device: { condition: string }, studyDay: number, slot?: string): SessionPlan | null {
  if (studyDay < 1 || studyDay > protocol.study.days) return null;
  const session = protocol.schedule.sessions.find((s) => (slot === undefined || s.id === slot) && runsOnDay(s.days, studyDay));
  if (!session) return null;
  const condition = protocol.conditions.find((c) => c.id === device.condition);
  if (!condition) throw new RangeError(`protocol ${protocol.study.id} has no condition "${device.condition}"`);
  const applies = (id: string): boolean => {
    const t = protocol.templates.find((x) => x.id === id);
    return t !== undefined && (t.conditions === undefined || t.conditions.includes(condition.id));
  };
  const override = session.template_by_day?.[String(studyDay)];
  const templateId = override !== undefined && applies(override) ? override : session.template;
  const template = protocol.templates.find((t) => t.id === templateId)!;
  const steps = template.steps.map((s) => (typeof s === 'string' ? s : `survey:${s.survey}`));
  const instruments = template.steps.flatMap((s) => (typeof s === 'string' ? [] : [instrumentOf(protocol, s.survey)]));
  return { slot: session.id, templateId, steps, instruments, condition: condition.id, storySelection: condition.story_selection };
}
